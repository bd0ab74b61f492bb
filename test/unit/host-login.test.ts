/**
 * Password hashing stays off the event loop (issue 12, item 8): the loop carries every gateway's acks
 * and the nursing station's stream, and one synchronous scrypt holds it ~100 ms. node:crypto's
 * synchronous scrypt is made to fail here; signing in, failing to and adding users must not use it.
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    scryptSync: () => {
      throw new Error('scryptSync called: a password hash on the event loop');
    },
  };
});

const { AuditLog } = await import('../../host/audit.js');
const { openDb } = await import('../../host/store/db.js');
const { Users } = await import('../../host/users.js');

describe('password hashing', () => {
  it('runs on the thread pool for add, login and a failed login, and the loop keeps turning meanwhile', async () => {
    const db = openDb(':memory:');
    const users = new Users(db, new AuditLog(db));
    await users.add(1, 'test', { username: 'ana', role: 'nurse', password: 'a long enough password' });
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    const [good, bad] = await Promise.allSettled([users.login(2, 'ana', 'a long enough password'), users.login(3, 'ana', 'not the password')]);
    clearInterval(timer);
    expect(good.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason.message).toBe('wrong username or password');
    expect(turns).toBeGreaterThan(0);
    db.close();
  });
});
