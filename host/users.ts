/**
 * Users, roles and sessions. Passwords are stored as scrypt hashes (N=2^15, r=8, p=1, 16-byte salt);
 * sessions are random 256-bit tokens of which only the SHA-256 is stored, valid for a shift (12 h).
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { AuditLog } from './audit.js';
import type { Db } from './store/db.js';

export const ROLES = ['nurse', 'charge-nurse', 'physician', 'pharmacist', 'biomed', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** Roles that may sign setting changes, acknowledge clinical alarms and co-sign (the trust list decides which settings). */
export const CLINICAL: readonly Role[] = ['nurse', 'charge-nurse', 'physician', 'pharmacist'];

export interface User {
  readonly username: string;
  readonly display: string;
  readonly role: Role;
  readonly person: string | null;
}

const N = 1 << 15;
const R = 8;
const P = 1;
const MAXMEM = 64 * 1024 * 1024;
const SESSION_MS = 12 * 3600_000;

export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N, r: R, p: P, maxmem: MAXMEM });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function checkPassword(password: string, stored: string): boolean {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64');
  const got = scryptSync(password, Buffer.from(salt!, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: MAXMEM });
  return timingSafeEqual(expected, got);
}

const USERNAME = /^[a-z][a-z0-9._-]{1,31}$/;

export class Users {
  constructor(private readonly db: Db, private readonly audit: AuditLog) {}

  add(now: number, actor: string, u: { username: string; display?: string; role: string; person?: string; password: string }): User {
    if (!USERNAME.test(u.username)) throw new UserError('username: 2-32 of a-z, 0-9, ".", "_", "-", starting with a letter', 400);
    if (!(ROLES as readonly string[]).includes(u.role)) throw new UserError(`role must be one of ${ROLES.join(', ')}`, 400);
    if (u.password.length < 10) throw new UserError('a password has at least 10 characters', 400);
    if (this.find(u.username) !== undefined) throw new UserError(`user ${u.username} exists`, 409);
    this.db.prepare('INSERT INTO users (username, display, role, person, password, created) VALUES (?, ?, ?, ?, ?, ?)').run(u.username, u.display ?? u.username, u.role, u.person ?? null, hashPassword(u.password), now);
    this.audit.append(now, actor, 'user-added', `user/${u.username}`, { role: u.role, person: u.person ?? null });
    return this.find(u.username)!;
  }

  find(username: string): User | undefined {
    return this.db.prepare<[string], User>('SELECT username, display, role, person FROM users WHERE username = ? AND disabled = 0').get(username);
  }

  list(): User[] {
    return this.db.prepare<[], User>('SELECT username, display, role, person FROM users WHERE disabled = 0 ORDER BY username').all();
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  /** A session token for a correct password; the same error for an unknown user and a wrong password. */
  login(now: number, username: string, password: string): { token: string; user: User; expires: number } {
    const row = this.db.prepare<[string], { password: string }>('SELECT password FROM users WHERE username = ? AND disabled = 0').get(username);
    // an unknown user costs the same scrypt as a known one
    const ok = checkPassword(password, row?.password ?? 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    if (row === undefined || !ok) {
      this.audit.append(now, username, 'login-failed', `user/${username}`);
      throw new UserError('wrong username or password', 401);
    }
    const token = randomBytes(32).toString('base64url');
    const expires = now + SESSION_MS;
    this.db.prepare('INSERT INTO sessions (token_hash, username, created, expires) VALUES (?, ?, ?, ?)').run(tokenHash(token), username, now, expires);
    this.db.prepare('DELETE FROM sessions WHERE expires < ?').run(now);
    this.audit.append(now, username, 'login', `user/${username}`);
    return { token, user: this.find(username)!, expires };
  }

  session(now: number, token: string): User | undefined {
    const row = this.db.prepare<[Uint8Array, number], { username: string }>('SELECT username FROM sessions WHERE token_hash = ? AND expires > ?').get(tokenHash(token), now);
    return row === undefined ? undefined : this.find(row.username);
  }

  logout(now: number, token: string): void {
    const row = this.db.prepare<[Uint8Array], { username: string }>('SELECT username FROM sessions WHERE token_hash = ?').get(tokenHash(token));
    this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash(token));
    if (row !== undefined) this.audit.append(now, row.username, 'logout', `user/${row.username}`);
  }
}

function tokenHash(token: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(token).digest());
}
