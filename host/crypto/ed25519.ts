/**
 * The host's Ed25519 verifier: OpenSSL through node:crypto, with Vigil's verdict policy in front.
 * OpenSSL already checks S < L and compares [S]B - [k]A with R as encodings (cofactorless), but it
 * accepts small-order and non-canonical public keys and small-order R; the shared pre-checks from the
 * firmware core refuse those, so the host gives libsodium's verdict on every vector.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { passesPreChecks, type Ed25519Verify } from '../../firmware/core/command/ed25519-policy.js';

/** RFC 8410 SubjectPublicKeyInfo prefix for an Ed25519 key: the raw 32 bytes follow. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const CACHE_LIMIT = 1024;

/** Parsed keys, kept (a trust list holds few) so that a verify costs one OpenSSL call. */
function keyCache(): (raw: Uint8Array) => KeyObject {
  const keys = new Map<string, KeyObject>();
  const byArray = new WeakMap<Uint8Array, KeyObject>(); // a trust list hands over the same array each time
  return (raw) => {
    const known = byArray.get(raw);
    if (known !== undefined) return known;
    const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
    let key = keys.get(id);
    if (key === undefined) {
      key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
      if (keys.size >= CACHE_LIMIT) keys.delete(keys.keys().next().value!);
      keys.set(id, key);
    }
    byArray.set(raw, key);
    return key;
  };
}

export function createNodeEd25519Verify(): Ed25519Verify {
  const keyObject = keyCache();
  return (signature, message, publicKey) => {
    if (!passesPreChecks(signature, publicKey)) return false;
    try {
      return verify(null, message, keyObject(publicKey), signature);
    } catch {
      return false; // a key OpenSSL cannot parse (not on the curve)
    }
  };
}

/** node:crypto with no policy at all: the benchmark's reference, never a verifier for Vigil. */
export function createRawNodeVerify(): Ed25519Verify {
  const keyObject = keyCache();
  return (signature, message, publicKey) => verify(null, message, keyObject(publicKey), signature);
}
