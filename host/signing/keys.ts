/**
 * Ed25519 keys on the host and in the `vigil` tools: private keys are PKCS#8 PEM files (so OpenSSL and
 * other tools read them), public keys travel as 32 raw bytes in hex. The kid of a key is the first
 * 8 bytes of SHA-256 of its raw public key.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { publicKeyProblem, type SigningKey } from '../../firmware/core/command/index.js';
import { fromHex, toHex } from '../../firmware/core/hex.js';

export class KeyError extends Error {
  override readonly name = 'KeyError';
}

export function kidOf(publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(publicKey).digest().subarray(0, 8));
}

function rawPublic(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new KeyError(`expected an Ed25519 key, got ${jwk.crv ?? key.asymmetricKeyType}`);
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'));
}

/** A new key pair: the PKCS#8 PEM text of the private key, and the raw public key. */
export function newKeyPair(): { pem: string; publicKey: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey: rawPublic(publicKey) };
}

/** Loads a PKCS#8 PEM private key file as a signing key. */
export function loadSigningKey(path: string): SigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path));
  } catch (e) {
    throw new KeyError(`cannot read a private key from ${path}: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new KeyError(`${path} holds a ${key.asymmetricKeyType} key, expected Ed25519`);
  const publicKey = rawPublic(createPublicKey(key));
  return { kid: kidOf(publicKey), publicKey, sign: (message) => new Uint8Array(sign(null, message, key)) };
}

/**
 * A public key given as 64 hex digits, or as a path to a PEM file (public or private key).
 * Keys of small order or in non-canonical form are refused here, at enrolment.
 */
export function parsePublicKey(text: string): Uint8Array {
  let raw: Uint8Array | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) {
    raw = fromHex(text);
  } else if (existsSync(text)) {
    const pem = readFileSync(text);
    try {
      raw = rawPublic(createPublicKey(pem));
    } catch (e) {
      throw new KeyError(`cannot read a public key from ${text}: ${(e as Error).message}`);
    }
  } else {
    throw new KeyError(`expected a public key as 64 hex digits or a PEM file, got "${text}"`);
  }
  const problem = publicKeyProblem(raw!);
  if (problem !== undefined) throw new KeyError(`public key ${toHex(raw!)} is refused: ${problem}`);
  return raw!;
}
