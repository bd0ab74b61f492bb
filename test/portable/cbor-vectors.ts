/**
 * The CBOR vector cases, written once and run unchanged in Node (vitest) and in XS (test/xs/).
 * Each case returns a plain JSON outcome, so the two engines can be compared byte for byte.
 */
import { decode, diagnose, encode, type DecodeOptions } from '../../firmware/core/cbor/index.js';
import { fromHex, toHex } from '../../firmware/core/hex.js';
import appendixA from '../vectors/cbor-rfc8949-appendix-a.json' with { type: 'json' };
import failures from '../vectors/cbor-failures.json' with { type: 'json' };

export interface CborVector {
  readonly name: string;
  readonly hex: string;
  readonly options?: DecodeOptions;
  readonly expect: { readonly diagnostic?: string; readonly error?: string; readonly reencodes?: boolean };
}

export type CborOutcome =
  | { readonly diagnostic: string; readonly reencoded: string }
  | { readonly error: string; readonly offset: number };

export const cborVectors: readonly CborVector[] = [
  ...appendixA.vectors.map((v) => ({ ...v, name: `RFC 8949 A: ${v.diagnostic} (${v.hex.slice(0, 24)})` })),
  ...failures.vectors.map((v) => ({ ...v, name: `failure list: ${v.name}` })),
];

export function runCborVector(index: number): CborOutcome {
  const v = cborVectors[index];
  if (v === undefined) throw new Error(`no CBOR vector ${index}`);
  const bytes = fromHex(v.hex);
  if (bytes === undefined) throw new Error(`vector ${v.name}: bad hex`);
  const result = decode(bytes, v.options ?? {});
  if (!result.ok) return { error: result.error.type, offset: result.error.offset };
  return { diagnostic: diagnose(result.value), reencoded: toHex(encode(result.value)) };
}
