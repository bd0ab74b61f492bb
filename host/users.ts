/**
 * Users, roles and sessions. Passwords are stored as scrypt hashes (N=2^15, r=8, p=1, 16-byte salt),
 * computed on libuv's thread pool, never on the event loop that carries the ward's data; failed
 * logins are limited per name and per address (login-guard.ts) and audited with the name cut short.
 * Sessions are random 256-bit tokens of which only the SHA-256 is stored, valid for a shift (12 h).
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { AuditLog } from './audit.js';
import { LoginGuard } from './login-guard.js';
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
  constructor(message: string, readonly status: number, readonly retryAfter?: number) {
    super(message);
  }
}

function scryptAsync(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, length, options, (e, key) => (e ? reject(e) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, { N, r: R, p: P, maxmem: MAXMEM });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function checkPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64');
  const got = await scryptAsync(password, Buffer.from(salt!, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: MAXMEM });
  return timingSafeEqual(expected, got);
}

/** A name as the audit may keep it: a valid user name as it is, anything else quoted and cut short. */
export function shownName(name: string): string {
  if (USERNAME.test(name)) return name;
  return `${JSON.stringify(name.slice(0, 32))}${name.length > 32 ? `…(${name.length} chars)` : ''}`;
}

/** Passwords longer than this are refused before any hashing (scrypt takes all of it). */
const MAX_PASSWORD = 1024;
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

const USERNAME = /^[a-z][a-z0-9._-]{1,31}$/;

export class Users {
  private readonly guard = new LoginGuard();

  constructor(private readonly db: Db, private readonly audit: AuditLog) {}

  async add(now: number, actor: string, u: { username: string; display?: string; role: string; person?: string; password: string }): Promise<User> {
    if (!USERNAME.test(u.username)) throw new UserError('username: 2-32 of a-z, 0-9, ".", "_", "-", starting with a letter', 400);
    if (!(ROLES as readonly string[]).includes(u.role)) throw new UserError(`role must be one of ${ROLES.join(', ')}`, 400);
    if (u.password.length < 10 || u.password.length > MAX_PASSWORD) throw new UserError(`a password has 10 to ${MAX_PASSWORD} characters`, 400);
    if (u.display !== undefined && u.display.length > 80) throw new UserError('a display name has at most 80 characters', 400);
    if (this.find(u.username) !== undefined) throw new UserError(`user ${u.username} exists`, 409);
    const hash = await hashPassword(u.password);
    if (this.find(u.username) !== undefined) throw new UserError(`user ${u.username} exists`, 409); // added while hashing
    this.db.prepare('INSERT INTO users (username, display, role, person, password, created) VALUES (?, ?, ?, ?, ?, ?)').run(u.username, u.display ?? u.username, u.role, u.person ?? null, hash, now);
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

  /**
   * A session token for a correct password; the same error for an unknown user and a wrong password.
   * `address` is the client's, for the per-address limit.
   */
  async login(now: number, username: string, password: string, address = 'local'): Promise<{ token: string; user: User; expires: number }> {
    const name = shownName(username);
    const wait = this.guard.blockedFor(name, address, now);
    if (wait > 0) throw new UserError(`too many failed sign-ins: try again in ${wait} s`, 429, wait);
    const row = USERNAME.test(username) ? this.db.prepare<[string], { password: string }>('SELECT password FROM users WHERE username = ? AND disabled = 0').get(username) : undefined;
    // an unknown user costs the same scrypt as a known one; an absurd password costs none
    const ok = password.length <= MAX_PASSWORD && (await checkPassword(password, row?.password ?? DUMMY_HASH));
    if (row === undefined || !ok) {
      const locked = this.guard.fail(name, address, now);
      this.audit.append(now, name, 'login-failed', `user/${name}`, { address: address.slice(0, 64) });
      if (locked) this.audit.append(now, 'host', 'login-locked', `user/${name}`, { address: address.slice(0, 64) });
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
