/**
 * Vigil's Ed25519 verdict policy, the byte-level half: libsodium's checks before any curve math
 * (strict RFC 8032 §5.1.7 plus full-order checks). Every verifier in the project (the pure-TS one, the
 * host's node:crypto one, the native libsodium binding) applies these, then the cofactorless equation
 * [S]B = R + [k]A compared as encodings. Also used to refuse keys at trust-list enrolment.
 */

/** The group order L = 2^252 + 27742317777372353535851937790883648493 (RFC 8032 §5.1). */
export const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;

/** L, little-endian, for byte comparisons (no BigInt on the hot path: every verify runs these). */
const L_BYTES: readonly number[] = littleEndian(ED25519_L);

function littleEndian(v: bigint): number[] {
  const out: number[] = [];
  for (let i = 0; i < 32; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

/**
 * Encodings of the points of small order (the 8-torsion), compared with the sign bit ignored, plus
 * the non-canonical encodings y = p and y = p + 1 of two of them. This is libsodium's blocklist.
 */
const SMALL_ORDER: ReadonlyArray<readonly number[]> = [
  0n, // (±√-1, 0): order 4
  1n, // identity
  0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826n, // order 8
  0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n, // order 8
  P - 1n, // (0, -1): order 2
  P, // non-canonical 0
  P + 1n, // non-canonical 1
].map(littleEndian);

/** Compares two 32-byte little-endian numbers, `a` with its top (sign) bit masked when `maskSign`. */
function compareLE(a: Uint8Array, b: readonly number[], maskSign: boolean): number {
  for (let i = 31; i >= 0; i--) {
    const x = i === 31 && maskSign ? a[i]! & 0x7f : a[i]!;
    if (x !== b[i]) return x < b[i]! ? -1 : 1;
  }
  return 0;
}

const P_BYTES: readonly number[] = littleEndian(P);

export function scalarIsCanonical(s: Uint8Array): boolean {
  return compareLE(s, L_BYTES, false) < 0;
}

/** RFC 8032 §5.1.3: an encoding is canonical when y < p. */
export function pointIsCanonical(point: Uint8Array): boolean {
  return compareLE(point, P_BYTES, true) < 0;
}

export function pointHasSmallOrder(point: Uint8Array): boolean {
  for (const e of SMALL_ORDER) if (compareLE(point, e, true) === 0) return true;
  return false;
}

export type PublicKeyProblem = 'wrong-length' | 'non-canonical' | 'small-order';

/** Why a public key must be refused at enrolment, or undefined when it passes the byte-level policy. */
export function publicKeyProblem(key: Uint8Array): PublicKeyProblem | undefined {
  if (key.length !== 32) return 'wrong-length';
  if (!pointIsCanonical(key)) return 'non-canonical';
  if (pointHasSmallOrder(key)) return 'small-order';
  return undefined;
}

/**
 * The checks that precede the curve equation. True when (signature, key) may go on to the equation;
 * false means "reject" whatever the equation would say.
 */
export function passesPreChecks(signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  if (!scalarIsCanonical(signature.subarray(32, 64))) return false; // S < L
  if (pointHasSmallOrder(signature.subarray(0, 32))) return false; // R not of small order
  return publicKeyProblem(publicKey) === undefined; // A canonical, not of small order
}

/** The verifier port: the core never does curve math itself; the platform supplies a verifier with this policy. */
export type Ed25519Verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;
