/**
 * The clinicians' keyring on the host: one file per person, `keyring/<person>.key`, whose Ed25519
 * private key is encrypted under that person's own signing passphrase (scrypt N=2^15, r=8, p=1 →
 * AES-256-GCM, the person and public key bound in as associated data). The host never holds a key in
 * a form anyone can use without the passphrase: not an admin who binds a login to the person, not
 * someone who copies the data directory. A command is signed only when the clinician gives the
 * passphrase with it; the key is unlocked for that signature (or held, in memory, for the second
 * signature of an override it waits for) and dropped (docs/host.md, "Who can sign").
 */
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, randomBytes, scrypt, scryptSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SigningKey, TrustList } from '../../firmware/core/command/index.js';
import { fromHex, toHex } from '../../firmware/core/hex.js';
import { kidOf, KeyError } from './keys.js';

const FORMAT = 'vigil-signing-key-1';
const N = 1 << 15;
const R = 8;
const P = 1;
const MAXMEM = 64 * 1024 * 1024;
export const MIN_PASSPHRASE = 10;

interface KeyFile {
  readonly format: typeof FORMAT;
  readonly person: string;
  readonly publicKey: string;
  readonly kdf: { readonly name: 'scrypt'; readonly N: number; readonly r: number; readonly p: number; readonly salt: string };
  readonly cipher: 'aes-256-gcm';
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

/** A clinician's key as the host holds it: public, and locked. */
export interface LockedKey {
  readonly person: string;
  readonly kid: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The signing key, for the right passphrase; a KeyError for a wrong one. Off the event loop. */
  unlock(passphrase: string): Promise<SigningKey>;
}

function rawPublic(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new KeyError('expected an Ed25519 key');
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'));
}

function aad(person: string, publicKey: string): Buffer {
  return Buffer.from(`${FORMAT}\n${person}\n${publicKey}`);
}

/** Encrypts a private key (PKCS#8 PEM) for `person` under `passphrase`: the text of a .key file. */
export function protectKey(pem: string | Buffer, person: string, passphrase: string): string {
  if (passphrase.length < MIN_PASSPHRASE) throw new KeyError(`a signing passphrase has at least ${MIN_PASSPHRASE} characters`);
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new KeyError(`expected an Ed25519 key, got ${key.asymmetricKeyType}`);
  const publicKey = toHex(rawPublic(createPublicKey(key)));
  const salt = randomBytes(16);
  // set up once, by the person at enrolment: the synchronous form is fine here
  const k = scryptSync(passphrase, salt, 32, { N, r: R, p: P, maxmem: MAXMEM });
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', k, iv);
  c.setAAD(aad(person, publicKey));
  const data = Buffer.concat([c.update(key.export({ format: 'der', type: 'pkcs8' })), c.final()]);
  const file: KeyFile = { format: FORMAT, person, publicKey, kdf: { name: 'scrypt', N, r: R, p: P, salt: salt.toString('base64') }, cipher: 'aes-256-gcm', iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
  return `${JSON.stringify(file, null, 1)}\n`;
}

/** Writes `keyring/<person>.key`; never over an existing one. */
export function writeProtectedKey(keyringDir: string, person: string, pem: string | Buffer, passphrase: string): string {
  const path = join(keyringDir, `${person}.key`);
  if (existsSync(path)) throw new KeyError(`${path} exists: a person's key is never overwritten (revoke it in the trust list and enrol a new one)`);
  writeFileSync(path, protectKey(pem, person, passphrase), { mode: 0o600, flag: 'wx' });
  return path;
}

function scryptAsync(passphrase: string, salt: Buffer, kdf: KeyFile['kdf']): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(passphrase, salt, 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: MAXMEM }, (e, k) => (e ? reject(e) : resolve(k))));
}

function lockedKey(path: string, f: KeyFile): LockedKey {
  const publicKey = fromHex(f.publicKey);
  if (publicKey === undefined || publicKey.length !== 32) throw new KeyError(`${path}: publicKey must be 64 hex digits`);
  return {
    person: f.person,
    kid: kidOf(publicKey),
    publicKey,
    async unlock(passphrase) {
      if (passphrase.length === 0 || passphrase.length > 1024) throw new KeyError(`the signing passphrase of ${f.person} is wrong`);
      const k = await scryptAsync(passphrase, Buffer.from(f.kdf.salt, 'base64'), f.kdf);
      let der: Buffer;
      try {
        const d = createDecipheriv('aes-256-gcm', k, Buffer.from(f.iv, 'base64'));
        d.setAAD(aad(f.person, f.publicKey));
        d.setAuthTag(Buffer.from(f.tag, 'base64'));
        der = Buffer.concat([d.update(Buffer.from(f.data, 'base64')), d.final()]);
      } catch {
        throw new KeyError(`the signing passphrase of ${f.person} is wrong`);
      }
      const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      if (toHex(rawPublic(createPublicKey(key))) !== f.publicKey) throw new KeyError(`${path}: the key does not match its public key`);
      return { kid: kidOf(publicKey), publicKey, sign: (message) => new Uint8Array(sign(null, message, key)) };
    },
  };
}

/** Reads one .key file. */
export function readProtectedKey(path: string): LockedKey {
  let f: KeyFile;
  try {
    f = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  } catch (e) {
    throw new KeyError(`${path}: not a Vigil key file (${(e as Error).message})`);
  }
  if (f.format !== FORMAT || f.kdf?.name !== 'scrypt' || f.cipher !== 'aes-256-gcm' || typeof f.person !== 'string') throw new KeyError(`${path}: not a ${FORMAT} file`);
  return lockedKey(path, f);
}

/**
 * The keyring: every `<person>.key` in the directory, each a signer of the trust list under that
 * person. A private key in the clear (`.pem`) is refused: the host must not hold one.
 */
export function loadKeyring(dir: string, trust: TrustList | undefined): Map<string, LockedKey> {
  const out = new Map<string, LockedKey>();
  for (const f of readdirSync(dir).sort()) {
    const path = join(dir, f);
    if (f.endsWith('.pem')) throw new KeyError(`${path} holds a private key in the clear; protect it with its person's passphrase: vigil keys enrol <person> --from ${path} (then delete the .pem)`);
    if (!f.endsWith('.key')) continue;
    const key = readProtectedKey(path);
    const signer = trust?.signers.get(toHex(key.kid));
    if (signer === undefined) throw new KeyError(`${path}: kid ${toHex(key.kid)} is not in the trust list`);
    if (signer.person !== key.person) throw new KeyError(`${path}: the trust list names this key's signer ${signer.person}, the file says ${key.person}`);
    out.set(key.person, key);
  }
  return out;
}
