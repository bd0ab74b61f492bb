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

const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._@+:*-]{0,63}$/;

/**
 * A string from a command or trust list as it may appear in a reason: bare when it is a plain token
 * (letters, digits and . _ @ + : * -), otherwise in double quotes with every character outside
 * printable ASCII, the quote and the backslash written as an escape, so a NUL, a newline or a
 * right-to-left override can never make two different names read the same. Cut at 64 characters.
 */
export function shown(s: string): string {
  if (PLAIN.test(s)) return s;
  let out = '"';
  const n = Math.min(s.length, 64);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += `\\${s[i]!}`;
    else if (c === 0x0a) out += '\\n';
    else if (c >= 0x20 && c <= 0x7e) out += s[i]!;
    else out += `\\u${(c + 0x10000).toString(16).slice(1)}`;
  }
  return `${out}${s.length > n ? '…' : ''}"`;
}
