/**
 * Strict decoding of untrusted CBOR (RFC 8949) under Vigil's profile.
 *
 * The decoder accepts exactly the bytes that `encode` produces, and nothing else: RFC 8949 §4.2.1
 * core deterministic encoding (shortest heads, definite lengths, map keys sorted bytewise, shortest
 * floats), plus Vigil's own reductions (a float may not hold a safe integer; NaN is f97e00 only).
 * Every departure is a typed `CborError`; no exception leaves `decode`, and work is bounded by the
 * input length: a declared length is checked against the bytes that remain before anything is
 * allocated, and nesting is capped.
 */
import { compareSpans } from './compare.js';
import { CborError, type CborErrorType, type Result } from './errors.js';
import { halfBits, halfToNumber } from './float.js';
import { utf8Decode } from './utf8.js';
import { CborTag, type CborKey, type CborValue } from './value.js';

export interface DecodeOptions {
  /** Deepest nesting of arrays, maps and tags (the top-level item is depth 1). Default 16. */
  readonly maxDepth?: number;
  /** Longest byte or text string, in bytes, and most items in one array or map. Default 65536. */
  readonly maxLength?: number;
  /** Tag numbers this caller understands (for COSE: 18, 98). Any other tag is an error. Default none. */
  readonly tags?: readonly number[];
  /**
   * Map keys in any order (duplicates are still an error). Only for bytes that are signed as received
   * and never re-encoded: a COSE protected header (RFC 9052 §3). Default false: keys sorted.
   */
  readonly anyKeyOrder?: boolean;
}

const TWO_POW_32 = 4294967296;
const NO_TAGS: readonly number[] = [];

export function decode(bytes: Uint8Array, options: DecodeOptions = {}): Result<CborValue> {
  const reader = new Reader(bytes, options.maxDepth ?? 16, options.maxLength ?? 65536, options.tags ?? NO_TAGS, options.anyKeyOrder === true);
  try {
    if (bytes.length === 0) reader.fail('truncated', 'expected a CBOR item, got 0 bytes', 0);
    const value = reader.item(1);
    if (reader.pos !== bytes.length) {
      reader.fail('trailing-bytes', `expected ${reader.pos} bytes, got ${bytes.length}`, reader.pos);
    }
    return { ok: true, value };
  } catch (e) {
    if (e instanceof CborError) return { ok: false, error: e };
    // Nothing else is expected; still, untrusted input must not become an exception.
    return { ok: false, error: new CborError('malformed', `decoder fault: ${String(e)}`, reader.pos) };
  }
}

class Reader {
  pos = 0;
  private dataView: DataView | undefined; // only floats need one: made on first use

  constructor(
    private readonly bytes: Uint8Array,
    private readonly maxDepth: number,
    private readonly maxLength: number,
    private readonly tags: readonly number[],
    private readonly anyKeyOrder: boolean,
  ) {}

  private get view(): DataView {
    return (this.dataView ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }

  /** Big-endian unsigned integer of `n` (2 or 4) bytes at the current position. */
  private uint(n: 2 | 4): number {
    const b = this.bytes;
    const p = this.pos;
    return n === 2 ? (b[p]! << 8) | b[p + 1]! : ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  fail(type: CborErrorType, message: string, offset: number): never {
    throw new CborError(type, message, offset);
  }

  private need(n: number, at: number): void {
    if (this.pos + n > this.bytes.length) {
      this.fail('truncated', `expected ${n} more bytes at offset ${this.pos}, got ${this.bytes.length - this.pos}`, at);
    }
  }

  /** Reads the argument of a head with additional info 24..27, checking it is in shortest form. */
  private argument(ai: number, at: number, lengthOrCount = false): number | bigint {
    if (ai < 24) return ai;
    if (ai === 24) {
      this.need(1, at);
      const v = this.bytes[this.pos++]!;
      if (v < 24) this.fail('non-shortest', `argument ${v} must be in the initial byte`, at);
      return v;
    }
    if (ai === 25) {
      this.need(2, at);
      const v = this.uint(2);
      this.pos += 2;
      if (v < 0x100) this.fail('non-shortest', `argument ${v} in 2 bytes fits in 1`, at);
      return v;
    }
    if (ai === 26) {
      this.need(4, at);
      const v = this.uint(4);
      this.pos += 4;
      if (v < 0x10000) this.fail('non-shortest', `argument ${v} in 4 bytes fits in 2`, at);
      return v;
    }
    if (ai === 27) {
      this.need(8, at);
      const hi = this.uint(4);
      this.pos += 4;
      const lo = this.uint(4);
      this.pos -= 4;
      this.pos += 8;
      if (hi === 0) this.fail('non-shortest', `argument ${lo} in 8 bytes fits in 4`, at);
      // 2^53 - 1 is the largest safe integer: hi must stay below 2^21
      return hi < 0x200000 ? hi * TWO_POW_32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
    }
    if (ai === 31) {
      if (lengthOrCount) this.fail('indefinite-length', 'indefinite lengths are not allowed (RFC 8949 §4.2.1)', at);
      this.fail('malformed', 'additional information 31 outside strings, arrays and maps', at);
    }
    return this.fail('malformed', `reserved additional information ${ai}`, at);
  }

  private length(ai: number, at: number, perItem: number, what: string): number {
    const n = this.argument(ai, at, true);
    const remaining = this.bytes.length - this.pos;
    // Each element takes at least perItem bytes, so a count beyond that is a lie; checked before any allocation.
    if (typeof n === 'bigint' || n * perItem > remaining) {
      this.fail('truncated', `${what} declares ${n} but only ${remaining} bytes remain`, at);
    }
    if (n > this.maxLength) this.fail('too-long', `${what} declares ${n}, the limit is ${this.maxLength}`, at);
    return n;
  }

  /** Reads one item at nesting `depth` (the top-level item is at depth 1). */
  item(depth: number): CborValue {
    const at = this.pos;
    if (depth > this.maxDepth) this.fail('too-deep', `nesting deeper than ${this.maxDepth}`, at);
    this.need(1, at);
    const initial = this.bytes[this.pos++]!;
    const major = initial >> 5;
    const ai = initial & 0x1f;
    switch (major) {
      case 0:
        return this.argument(ai, at);
      case 1: {
        const n = this.argument(ai, at);
        return typeof n === 'number' ? (n === 0x1fffffffffffff ? -(2n ** 53n) : -1 - n) : -1n - n;
      }
      case 2: {
        const n = this.length(ai, at, 1, 'byte string');
        const out = this.bytes.slice(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case 3: {
        const n = this.length(ai, at, 1, 'text string');
        const text = utf8Decode(this.bytes, this.pos, this.pos + n);
        if (text === undefined) this.fail('invalid-utf8', 'text string is not well-formed UTF-8', at);
        this.pos += n;
        return text;
      }
      case 4: {
        const n = this.length(ai, at, 1, 'array');
        const out: CborValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.item(depth + 1);
        return out;
      }
      case 5:
        return this.map(ai, at, depth);
      case 6: {
        const tag = this.argument(ai, at);
        if (typeof tag !== 'number' || this.tags.indexOf(tag) < 0) {
          this.fail('unsupported-tag', `tag ${tag} is not accepted here`, at);
        }
        return new CborTag(tag, this.item(depth + 1));
      }
      default:
        return this.simple(ai, at);
    }
  }

  private map(ai: number, at: number, depth: number): Map<CborKey, CborValue> {
    const n = this.length(ai, at, 2, 'map');
    const out = new Map<CborKey, CborValue>();
    let prevStart = -1;
    let prevEnd = -1;
    for (let i = 0; i < n; i++) {
      const keyStart = this.pos;
      const key = this.item(depth + 1);
      const keyEnd = this.pos;
      if (typeof key !== 'number' && typeof key !== 'bigint' && typeof key !== 'string') {
        this.fail('unsupported-key', 'map keys must be integers or text strings', keyStart);
      }
      if (this.anyKeyOrder) {
        // one encoding per key value under this profile (shortest integers, UTF-8 text), so equal values are equal keys
        if (out.has(key)) this.fail('duplicate-key', `duplicate map key ${String(key)}`, keyStart);
      } else if (prevStart >= 0) {
        // RFC 8949 §4.2.1: keys sorted by the bytewise lexicographic order of their encodings
        const order = compareSpans(this.bytes, prevStart, prevEnd, keyStart, keyEnd);
        if (order === 0) this.fail('duplicate-key', `duplicate map key ${String(key)}`, keyStart);
        if (order > 0) this.fail('unsorted-keys', `map key ${String(key)} is out of order`, keyStart);
      }
      prevStart = keyStart;
      prevEnd = keyEnd;
      out.set(key, this.item(depth + 1));
    }
    return out;
  }

  private simple(ai: number, at: number): CborValue {
    switch (ai) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 24: {
        this.need(1, at);
        const v = this.bytes[this.pos++]!;
        if (v < 32) this.fail('malformed', `simple value ${v} must be in the initial byte`, at);
        return this.fail('unsupported-simple', `simple value ${v}`, at);
      }
      case 25: {
        this.need(2, at);
        const bits = this.uint(2);
        this.pos += 2;
        const v = halfToNumber(bits);
        if (v !== v && bits !== 0x7e00) this.fail('non-canonical-float', 'NaN must be encoded as f97e00', at);
        return this.checkFloat(v, at);
      }
      case 26: {
        this.need(4, at);
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        // any value a float32 holds that a half also holds would have been written as a half
        if (v !== v || halfBits(v) >= 0) this.fail('non-canonical-float', `float32 ${v} fits in 16 bits`, at);
        return this.checkFloat(v, at);
      }
      case 27: {
        this.need(8, at);
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        if (v !== v || Math.fround(v) === v) this.fail('non-canonical-float', `float64 ${v} fits in 32 bits`, at);
        return this.checkFloat(v, at);
      }
      case 31:
        return this.fail('malformed', 'break outside an indefinite-length item', at);
      default:
        if (ai >= 28) return this.fail('malformed', `reserved additional information ${ai}`, at);
        return this.fail('unsupported-simple', `simple value ${ai}`, at);
    }
  }

  private checkFloat(v: number, at: number): number {
    // Vigil's profile: safe integers travel as integers, so a float holding one is non-canonical.
    if (Number.isSafeInteger(v) && !(v === 0 && 1 / v < 0)) {
      this.fail('non-canonical-float', `float ${v} holds an integer; encode it as one`, at);
    }
    return v;
  }
}
