/** Deterministic test keys (noble, pure JS, so the same keys exist in Node and in XS). */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import type { SigningKey } from '../../firmware/core/command/index.js';

ed.hashes.sha512 = sha512;

/** A signing key from a one-byte seed label; kid is "k" + the label, so vectors stay readable. */
export function testKey(label: number): SigningKey & { readonly secret: Uint8Array } {
  const secret = new Uint8Array(32).fill(label);
  const publicKey = ed.getPublicKey(secret);
  return {
    kid: Uint8Array.of(0x6b, label),
    publicKey,
    secret,
    sign: (message) => ed.sign(message, secret),
  };
}
