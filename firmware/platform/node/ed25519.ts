/**
 * The pure-TypeScript Ed25519 verifier with Vigil's (libsodium's) verdict policy. It runs in the tests,
 * in the simulator and in XS; on the ESP32 the native libsodium binding takes its place.
 *
 * It borrows from @noble/ed25519 only what is hard to get right and cheap: point decompression
 * (RFC 8032 §5.1.3), field inversion and SHA-512 (@noble/hashes). The equation itself is ours, because
 * noble's `verify` checks the cofactored equation and builds a ~4,000-point base table on first use:
 *  - policy: libsodium compares [S]B - [k]A with R as encodings (cofactorless), so we do too;
 *  - memory: a sliding-window double-scalar multiplication (Straus–Shamir) needs the odd multiples
 *    ±B..±15B and ±A..±15A, 128 bigints in all, instead of noble's table of ~4,000 points.
 */
import { etc, Point } from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { ED25519_L, passesPreChecks } from '../../core/command/ed25519-policy.js';

const P = 2n ** 255n - 19n;
/** 2d, where d = -121665/121666 is the curve constant (RFC 8032 §5.1). */
const D2 = 16295367250680780974490674513165176452449235426866156013048779062215315747161n;

/** A point in extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, xy = T/Z (Hisil et al. 2008). */
type Ext = readonly [bigint, bigint, bigint, bigint];
/**
 * A precomputed point in "cached" form (Y+X, Y-X, 2d·T, 2Z): adding it costs one multiplication
 * fewer than adding an extended point.
 */
type Cached = readonly [bigint, bigint, bigint, bigint];

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function toCached(p: Ext): Cached {
  return [mod(p[1] + p[0]), mod(p[1] - p[0]), mod(p[3] * D2), mod(2n * p[2])];
}

function negateCached(q: Cached): Cached {
  return [q[1], q[0], mod(-q[2]), q[3]];
}

/*
 * Inside the double-scalar loop, coordinates are reduced with a bare `% P`, which leaves them in
 * (-P, P) rather than [0, P): the formulas are polynomials, so signs wash out, and the one canonical
 * reduction happens in `encode`. This saves a comparison per multiplication on XS.
 */

/**
 * add-2008-hwcd-3 for a = -1 (complete), with q cached. T of the result costs a multiplication and is
 * needed only when another addition follows (a doubling does not read T): `withT` says which.
 */
function addCached(p: Ext, q: Cached, withT: boolean): Ext {
  const a = ((p[1] - p[0]) * q[1]) % P;
  const b = ((p[1] + p[0]) * q[0]) % P;
  const c = (p[3] * q[2]) % P;
  const d = (p[2] * q[3]) % P;
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [(e * f) % P, (g * h) % P, (f * g) % P, withT ? (e * h) % P : 0n];
}

/** dbl-2008-hwcd for a = -1; reads X, Y, Z only. T as in addCached. */
function double(p: Ext, withT: boolean): Ext {
  const a = (p[0] * p[0]) % P;
  const b = (p[1] * p[1]) % P;
  const c = (2n * p[2] * p[2]) % P;
  const s = p[0] + p[1];
  const e = ((s * s) % P) - a - b;
  const g = b - a; // D + B with D = -A
  const f = g - c;
  const h = -a - b; // D - B
  return [(e * f) % P, (g * h) % P, (f * g) % P, withT ? (e * h) % P : 0n];
}

function negate(p: Ext): Ext {
  return [mod(-p[0]), p[1], p[2], mod(-p[3])];
}

/** Odd multiples P, 3P, ..., 15P, in cached form, with their negatives: 16 points. */
function oddMultiples(p: Ext): { pos: Cached[]; neg: Cached[] } {
  const twice = toCached(double(p, true));
  const pos: Cached[] = [toCached(p)];
  let acc = p;
  for (let i = 1; i < 8; i++) {
    acc = addCached(acc, twice, true);
    pos.push(toCached(acc));
  }
  return { pos, neg: pos.map(negateCached) };
}

let baseMultiples: { pos: Cached[]; neg: Cached[] } | undefined; // 16 points: computed on first use, 64 bigints kept

function baseOddMultiples(): { pos: Cached[]; neg: Cached[] } {
  if (baseMultiples === undefined) {
    const b = Point.BASE;
    baseMultiples = oddMultiples([b.X, b.Y, b.Z, b.T]);
  }
  return baseMultiples;
}

/**
 * Signed sliding-window digits of a 256-bit little-endian scalar: every non-zero digit is odd and in
 * [-15, 15], and any two non-zero digits are at least 5 positions apart on average.
 */
function slidingDigits(scalar: Uint8Array): Int8Array {
  const r = new Int8Array(256);
  for (let i = 0; i < 256; i++) r[i] = (scalar[i >> 3]! >> (i & 7)) & 1;
  for (let i = 0; i < 256; i++) {
    if (r[i] === 0) continue;
    for (let b = 1; b <= 6 && i + b < 256; b++) {
      const next = r[i + b]!;
      if (next === 0) continue;
      const shifted = next << b;
      if (r[i]! + shifted <= 15) {
        r[i] = r[i]! + shifted;
        r[i + b] = 0;
      } else if (r[i]! - shifted >= -15) {
        r[i] = r[i]! - shifted;
        for (let k = i + b; k < 256; k++) {
          if (r[k] === 0) {
            r[k] = 1;
            break;
          }
          r[k] = 0;
        }
      } else {
        break;
      }
    }
  }
  return r;
}

/** [a]A + [b]B by interleaved sliding windows (Straus–Shamir): one chain of doublings for both. */
function doubleScalarMultiply(a: Uint8Array, pointA: Ext, b: Uint8Array): Ext {
  const da = slidingDigits(a);
  const db = slidingDigits(b);
  const ta = oddMultiples(pointA);
  const tb = baseOddMultiples();
  let i = 255;
  while (i >= 0 && da[i] === 0 && db[i] === 0) i--;
  let acc: Ext = [0n, 1n, 1n, 0n];
  for (; i >= 0; i--) {
    const x = da[i]!;
    const y = db[i]!;
    acc = double(acc, x !== 0 || y !== 0);
    if (x > 0) acc = addCached(acc, ta.pos[x >> 1]!, y !== 0);
    else if (x < 0) acc = addCached(acc, ta.neg[-x >> 1]!, y !== 0);
    if (y > 0) acc = addCached(acc, tb.pos[y >> 1]!, false);
    else if (y < 0) acc = addCached(acc, tb.neg[-y >> 1]!, false);
  }
  return acc;
}

function encode(p: Ext): Uint8Array {
  const zi = etc.invert(mod(p[2]), P);
  const x = mod(p[0] * zi);
  let y = mod(p[1] * zi);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(y & 0xffn);
    y >>= 8n;
  }
  if (x & 1n) out[31] = out[31]! | 0x80;
  return out;
}

function scalarToBytes(s: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out;
}

function bytesToScalar(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/**
 * RFC 8032 §5.1.7 verification under libsodium's policy: S < L; A canonical and not of small order;
 * R not of small order; then [S]B - [k]A must encode to exactly the bytes of R.
 */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!passesPreChecks(signature, publicKey)) return false;
  let a: Point;
  try {
    a = Point.fromBytes(publicKey, false); // RFC 8032 §5.1.3 decoding; throws when not on the curve
  } catch {
    return false;
  }
  const r = signature.subarray(0, 32);
  const h = sha512(concat(r, publicKey, message));
  const k = bytesToScalar(h) % ED25519_L;
  const minusA = negate([a.X, a.Y, a.Z, a.T]);
  const check = encode(doubleScalarMultiply(scalarToBytes(k), minusA, signature.subarray(32, 64)));
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= check[i]! ^ r[i]!;
  return diff === 0;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
