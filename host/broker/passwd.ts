/**
 * Gateway credentials: one random secret per gateway, issued at provisioning and shown once; the host
 * keeps only a salted hash. The file is in Mosquitto's password-file format (`user:$7$iterations$salt$hash`,
 * PBKDF2-SHA512, as `mosquitto_passwd` writes it), so the embedded broker and an external Mosquitto
 * read the very same file. The secrets are 256 random bits: the hash's work factor is not what
 * protects them.
 */
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { identityOf } from './acl.js';

const ITERATIONS = 101; // mosquitto_passwd's own default for $7$
const SALT_BYTES = 12;

export class CredentialError extends Error {
  override readonly name = 'CredentialError';
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string, salt: Buffer = randomBytes(SALT_BYTES), iterations = ITERATIONS): string {
  const hash = pbkdf2Sync(secret, salt, iterations, 64, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifySecret(secret: string, stored: string): boolean {
  const m = /^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (m === null) return false;
  const expected = Buffer.from(m[3]!, 'base64');
  const got = pbkdf2Sync(secret, Buffer.from(m[2]!, 'base64'), Number(m[1]), expected.length, 'sha512');
  return expected.length === got.length && timingSafeEqual(expected, got);
}

/** username → stored hash, read from a Mosquitto password file (missing file: no one). */
export function readPasswd(path: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(path)) return out;
  for (const [i, line] of readFileSync(path, 'utf8').split('\n').entries()) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const at = line.indexOf(':');
    if (at <= 0) throw new CredentialError(`${path}:${i + 1}: expected user:hash`);
    out.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return out;
}

/**
 * The password file as the broker checks logins against it: read again only when the file changed
 * (its mtime or size), not at every CONNECT, so a thousand gateways reconnecting cost one read.
 */
export function cachedPasswd(path: string): () => Map<string, string> {
  let stamp = '';
  let users = new Map<string, string>();
  return () => {
    let now = 'missing';
    try {
      const st = statSync(path);
      now = `${st.mtimeMs}/${st.size}/${st.ino}`;
    } catch {
      // no file: no one
    }
    if (now !== stamp) {
      users = readPasswd(path);
      stamp = now;
    }
    return users;
  };
}

/** Issues (or replaces) the secret of `user`; returns the secret, which is shown once and never stored. */
export function issueSecret(path: string, user: string): string {
  const who = identityOf(user);
  if ('refused' in who) throw new CredentialError(`cannot issue a secret to "${user}": ${who.refused}`);
  const all = readPasswd(path);
  const secret = newSecret();
  all.set(user, hashSecret(secret));
  const text = [...all].map(([u, h]) => `${u}:${h}`).join('\n') + '\n';
  writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return secret;
}

export function revokeSecret(path: string, user: string): boolean {
  const all = readPasswd(path);
  if (!all.delete(user)) return false;
  writeFileSync(`${path}.tmp`, [...all].map(([u, h]) => `${u}:${h}`).join('\n') + '\n', { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return true;
}
