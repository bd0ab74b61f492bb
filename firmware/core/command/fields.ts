/**
 * Typed reads from decoded CBOR maps, for payload schemas. Each returns undefined when the field is
 * missing or of the wrong type, so a schema check reads as a list of fields.
 */
import type { CborKey, CborValue } from '../cbor/index.js';

export type Fields = ReadonlyMap<CborKey, CborValue>;

export function asMap(v: CborValue | undefined): Fields | undefined {
  return v instanceof Map ? v : undefined;
}

export function text(m: Fields, key: string, maxLength = 128): string | undefined {
  const v = m.get(key);
  return typeof v === 'string' && v.length > 0 && v.length <= maxLength ? v : undefined;
}

/** A non-negative safe integer. */
export function uint(m: Fields, key: string): number | undefined {
  const v = m.get(key);
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

export function bytes(m: Fields, key: string, length?: number): Uint8Array | undefined {
  const v = m.get(key);
  return v instanceof Uint8Array && (length === undefined || v.length === length) ? v : undefined;
}

export function list(m: Fields, key: string): readonly CborValue[] | undefined {
  const v = m.get(key);
  return Array.isArray(v) ? (v as readonly CborValue[]) : undefined;
}

export function textList(m: Fields, key: string): readonly string[] | undefined {
  const l = list(m, key);
  return l !== undefined && l.every((x) => typeof x === 'string' && x.length > 0) ? (l as readonly string[]) : undefined;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
