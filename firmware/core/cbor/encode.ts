/**
 * Deterministic encoding (RFC 8949 §4.2.1) under Vigil's profile: shortest heads, definite lengths,
 * map keys sorted bytewise by their encoding, the shortest float that keeps the value, safe integers
 * always as integers, NaN as f97e00. `decode` accepts exactly what this produces.
 *
 * Values outside the profile (functions, symbols, class instances other than Uint8Array and CborTag,
 * lone surrogates, integers beyond 64 bits, cycles) throw a CborError of type 'unencodable': they are
 * programming errors in the caller, not untrusted input.
 */
import { compareSpans } from './compare.js';
import { CborError } from './errors.js';
import { halfBits } from './float.js';
import { utf8EncodeInto, utf8Length } from './utf8.js';
import { CborTag, type CborValue } from './value.js';

const TWO_POW_32 = 4294967296;
const MAX_DEPTH = 64;
const UINT64_MAX = 0xffffffffffffffffn;

export function encode(value: CborValue): Uint8Array {
  const w = new Writer(64);
  w.value(value, 0);
  return w.bytes.slice(0, w.pos);
}

class Writer {
  bytes: Uint8Array;
  pos = 0;
  private view: DataView;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.pos));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  /** Writes a head with the shortest argument (RFC 8949 §4.2.1). `arg` is a non-negative integer. */
  head(major: number, arg: number): void {
    const m = major << 5;
    this.reserve(9);
    if (arg < 24) {
      this.bytes[this.pos++] = m | arg;
    } else if (arg < 0x100) {
      this.bytes[this.pos++] = m | 24;
      this.bytes[this.pos++] = arg;
    } else if (arg < 0x10000) {
      this.bytes[this.pos++] = m | 25;
      this.view.setUint16(this.pos, arg);
      this.pos += 2;
    } else if (arg < TWO_POW_32) {
      this.bytes[this.pos++] = m | 26;
      this.view.setUint32(this.pos, arg);
      this.pos += 4;
    } else {
      this.bytes[this.pos++] = m | 27;
      this.view.setUint32(this.pos, Math.floor(arg / TWO_POW_32));
      this.view.setUint32(this.pos + 4, arg >>> 0);
      this.pos += 8;
    }
  }

  private bigHead(major: number, arg: bigint): void {
    if (arg <= 0x1fffffffffffffn) {
      this.head(major, Number(arg));
      return;
    }
    this.reserve(9);
    this.bytes[this.pos++] = (major << 5) | 27;
    this.view.setUint32(this.pos, Number(arg >> 32n));
    this.view.setUint32(this.pos + 4, Number(arg & 0xffffffffn));
    this.pos += 8;
  }

  value(v: CborValue, depth: number): void {
    if (depth > MAX_DEPTH) throw new CborError('unencodable', `nesting deeper than ${MAX_DEPTH} (a cycle?)`);
    switch (typeof v) {
      case 'number':
        return this.number(v);
      case 'bigint':
        if (v >= 0n) {
          if (v > UINT64_MAX) throw new CborError('unencodable', `integer ${v} exceeds 64 bits`);
          return this.bigHead(0, v);
        }
        if (v < -UINT64_MAX - 1n) throw new CborError('unencodable', `integer ${v} exceeds 64 bits`);
        return this.bigHead(1, -1n - v);
      case 'string':
        return this.text(v);
      case 'boolean':
        return this.simple(v ? 21 : 20);
      case 'undefined':
        return this.simple(23);
      case 'object':
        if (v === null) return this.simple(22);
        if (v instanceof Uint8Array) {
          this.head(2, v.length);
          this.reserve(v.length);
          this.bytes.set(v, this.pos);
          this.pos += v.length;
          return;
        }
        if (Array.isArray(v)) {
          const items = v as readonly CborValue[];
          this.head(4, items.length);
          for (const item of items) this.value(item, depth + 1);
          return;
        }
        if (v instanceof Map) return this.map(v.entries(), v.size, depth);
        if (v instanceof CborTag) {
          if (!Number.isSafeInteger(v.tag) || v.tag < 0) throw new CborError('unencodable', `tag ${v.tag} is not a tag number`);
          this.head(6, v.tag);
          return this.value(v.value, depth + 1);
        }
        {
          const proto = Object.getPrototypeOf(v);
          if (proto === Object.prototype || proto === null) {
            const entries = Object.entries(v);
            return this.map(entries, entries.length, depth);
          }
        }
        throw new CborError('unencodable', `cannot encode an instance of ${describe(v)}`);
      default:
        throw new CborError('unencodable', `cannot encode a ${typeof v}`);
    }
  }

  private number(v: number): void {
    if (Number.isSafeInteger(v) && !(v === 0 && 1 / v < 0)) {
      if (v >= 0) this.head(0, v);
      else this.head(1, -1 - v);
      return;
    }
    this.reserve(9);
    const half = halfBits(v);
    if (half >= 0) {
      this.bytes[this.pos++] = 0xf9;
      this.view.setUint16(this.pos, half);
      this.pos += 2;
    } else if (Math.fround(v) === v) {
      this.bytes[this.pos++] = 0xfa;
      this.view.setFloat32(this.pos, v);
      this.pos += 4;
    } else {
      this.bytes[this.pos++] = 0xfb;
      this.view.setFloat64(this.pos, v);
      this.pos += 8;
    }
  }

  private text(v: string): void {
    const n = utf8Length(v);
    if (n < 0) throw new CborError('unencodable', 'text holds a lone UTF-16 surrogate');
    this.head(3, n);
    this.reserve(n);
    this.pos = utf8EncodeInto(v, this.bytes, this.pos);
  }

  private simple(ai: number): void {
    this.reserve(1);
    this.bytes[this.pos++] = 0xe0 | ai;
  }

  /**
   * RFC 8949 §4.2.1: entries sorted by the bytewise order of their encoded keys. Entries are written
   * in the order given, in place; only when the keys turn out unsorted are the written spans reordered,
   * so the usual case (keys already in order) allocates nothing extra.
   */
  private map(entries: Iterable<readonly [unknown, CborValue]>, count: number, depth: number): void {
    this.head(5, count);
    const regionStart = this.pos;
    const spans: number[] = []; // per entry: key start, key end, entry end
    for (const [k, val] of entries) {
      if (typeof k === 'number') {
        if (!Number.isSafeInteger(k)) throw new CborError('unencodable', `map key ${k} is not an integer`);
      } else if (typeof k !== 'bigint' && typeof k !== 'string') {
        throw new CborError('unencodable', 'map keys must be integers or text strings');
      }
      const keyStart = this.pos;
      this.value(k, depth + 1);
      const keyEnd = this.pos;
      this.value(val, depth + 1);
      spans.push(keyStart, keyEnd, this.pos);
    }
    let sorted = true;
    for (let i = 3; i < spans.length; i += 3) {
      const order = compareSpans(this.bytes, spans[i - 3]!, spans[i - 2]!, spans[i]!, spans[i + 1]!);
      if (order === 0) throw new CborError('unencodable', 'duplicate map key');
      if (order > 0) sorted = false;
    }
    if (sorted) return;
    const region = this.bytes.slice(regionStart, this.pos);
    const order: number[] = [];
    for (let i = 0; i < spans.length; i += 3) order.push(i);
    order.sort((a, b) => compareSpans(this.bytes, spans[a]!, spans[a + 1]!, spans[b]!, spans[b + 1]!));
    for (let i = 1; i < order.length; i++) {
      const a = order[i - 1]!;
      const b = order[i]!;
      if (compareSpans(this.bytes, spans[a]!, spans[a + 1]!, spans[b]!, spans[b + 1]!) === 0) {
        throw new CborError('unencodable', 'duplicate map key');
      }
    }
    let pos = regionStart;
    for (const i of order) {
      const from = spans[i]! - regionStart;
      const to = spans[i + 2]! - regionStart;
      this.bytes.set(region.subarray(from, to), pos);
      pos += to - from;
    }
  }
}

function describe(v: object): string {
  const ctor = (v as { constructor?: { name?: string } }).constructor;
  return ctor?.name ?? 'an unknown class';
}
