/**
 * Property tests of the CBOR profile, written once and run with the same seed in Node and in XS
 * (fast-check itself is bundled into the XS worker). Each property reports whether it held, so the
 * two engines' reports can be compared byte for byte.
 */
import fc from 'fast-check';
import { decode, encode, type CborValue } from '../../firmware/core/cbor/index.js';
import { CborTag } from '../../firmware/core/cbor/value.js';
import { toHex } from '../../firmware/core/hex.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const key = fc.oneof(fc.maxSafeInteger(), fc.string({ maxLength: 8, unit: 'binary' }));
const scalar: fc.Arbitrary<CborValue> = fc.oneof(
  fc.maxSafeInteger(),
  fc.integer({ min: -300, max: 300 }),
  // integers beyond the safe range travel as bigint, up to 64 bits either way
  fc.bigInt({ min: MAX_SAFE + 1n, max: 2n ** 64n - 1n }),
  fc.bigInt({ min: -(2n ** 64n), max: -MAX_SAFE - 1n }),
  fc.double(),
  fc.float().map((f) => f),
  fc.string({ maxLength: 12, unit: 'binary' }),
  fc.uint8Array({ maxLength: 24 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);

export const cborValue: fc.Arbitrary<CborValue> = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 5 }),
    fc
      .uniqueArray(fc.tuple(key, tie('value')), { maxLength: 5, selector: ([k]) => `${typeof k}:${String(k)}` })
      .map((entries) => new Map(entries)),
    fc.tuple(fc.constantFrom(18, 98), tie('value')).map(([tag, v]) => new CborTag(tag, v)),
  ),
})).value;

/** Structural equality for the profile's values: Object.is on numbers (NaN equal, -0 apart), maps unordered. */
export function sameValue(a: CborValue, b: CborValue): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (a instanceof Uint8Array) return b instanceof Uint8Array && toHex(a) === toHex(b);
  if (Array.isArray(a)) {
    const bb = b as readonly CborValue[];
    return Array.isArray(b) && a.length === bb.length && a.every((x: CborValue, i: number) => sameValue(x, bb[i]));
  }
  if (a instanceof CborTag) return b instanceof CborTag && a.tag === b.tag && sameValue(a.value, b.value);
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !sameValue(v, b.get(k))) return false;
    return true;
  }
  return false;
}

const TAGS = [18, 98];

/** Decoding never throws; whatever it accepts re-encodes to the very same bytes. */
function acceptsOnlyCanonical(bytes: Uint8Array): boolean {
  const r = decode(bytes, { tags: TAGS });
  return !r.ok || toHex(encode(r.value)) === toHex(bytes);
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);

function mutate(bytes: Uint8Array, m: { kind: string; at: number; bit?: number; byte?: number }): Uint8Array {
  if (bytes.length === 0) return bytes;
  const at = m.at % bytes.length;
  const out = Array.from(bytes);
  if (m.kind === 'flip') out[at] = out[at]! ^ (1 << (m.bit ?? 0));
  else if (m.kind === 'truncate') out.length = at;
  else if (m.kind === 'insert') out.splice(at, 0, m.byte ?? 0);
  else out[at] = m.byte ?? 0;
  return Uint8Array.from(out);
}

export interface PropertyReport {
  readonly name: string;
  readonly numRuns: number;
  readonly failed: boolean;
  readonly counterexample: string | null;
  readonly error: string | null;
}

function report<T>(name: string, details: fc.RunDetails<T>): PropertyReport {
  return {
    name,
    numRuns: details.numRuns,
    failed: details.failed,
    counterexample: details.counterexample === null ? null : fc.stringify(details.counterexample),
    error: details.errorInstance === null ? null : String(details.errorInstance),
  };
}

export function runCborProperties(seed: number, numRuns: number): PropertyReport[] {
  const params = { seed, numRuns };
  return [
    report(
      'decode(encode(v)) is v',
      fc.check(
        fc.property(cborValue, (v) => {
          const r = decode(encode(v), { tags: TAGS, maxDepth: 64 });
          return r.ok && sameValue(r.value, v);
        }),
        params,
      ),
    ),
    report(
      'encoding is deterministic: map insertion order does not matter',
      fc.check(
        fc.property(cborValue, (v) => {
          const reversed = reverseMaps(v);
          return toHex(encode(reversed)) === toHex(encode(v));
        }),
        params,
      ),
    ),
    report('random bytes never throw; accepted bytes are canonical', fc.check(fc.property(fc.uint8Array({ maxLength: 48 }), acceptsOnlyCanonical), params)),
    report(
      'mutated encodings never throw; accepted bytes are canonical',
      fc.check(fc.property(cborValue, mutation, (v, m) => acceptsOnlyCanonical(mutate(encode(v), m))), params),
    ),
  ];
}

function reverseMaps(v: CborValue): CborValue {
  if (Array.isArray(v)) return (v as readonly CborValue[]).map(reverseMaps);
  if (v instanceof Map) return new Map([...v.entries()].reverse().map(([k, x]) => [k, reverseMaps(x)]));
  if (v instanceof CborTag) return new CborTag(v.tag, reverseMaps(v.value));
  return v;
}
