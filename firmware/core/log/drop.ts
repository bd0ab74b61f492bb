/**
 * DROP records: the log's account of records it lost to a full ring (docs/vitals-log.md). One names a
 * dropped sector (its generation, so a DROP written again after a power cut is not counted twice), how
 * many records were lost with it, and up to MAX_RANGES (boot, first seq, last seq) ranges; `more` when
 * it lost ranges it could not list (the low-water mark then tells the host the rest).
 *
 * drop-payload = { "dropped": uint, "ranges": [* [bstr .size 16, uint, uint]], "more": bool, ? "sector": uint }
 */
import { decode, encode, type CborValue } from '../cbor/index.js';
import { toHex } from '../hex.js';

export const MAX_RANGES = 4;
/** The largest DROP payload: 4 ranges, a 10-digit count and generation (checked when encoding). */
export const DROP_MAX = 160;

/** A gap: records of one boot, seq first..last, lost to a full log. */
export interface DroppedRange {
  readonly bootId: Uint8Array;
  readonly first: number;
  readonly last: number;
}

export interface DropReport {
  readonly dropped: number;
  readonly ranges: readonly DroppedRange[];
  /** More ranges were lost than the record lists (counted in `dropped`). */
  readonly more: boolean;
  /** The generation of the sector dropped. */
  readonly sector?: number;
}

/** Collects what a dropped sector held: exact unions of ranges per boot, up to MAX_RANGES. */
export class DropBuilder {
  private readonly ranges: Array<{ bootId: Uint8Array; hex: string; first: number; last: number }> = [];
  count = 0;
  more = false;

  /** A record lost with the sector. */
  record(bootId: Uint8Array, seq: number): void {
    this.count++;
    this.add(bootId, seq, seq);
  }

  /** An earlier DROP record about to be lost: its gaps carry forward into this one. */
  carry(earlier: DropReport): void {
    this.count += earlier.dropped;
    for (const g of earlier.ranges) this.add(g.bootId, g.first, g.last);
    this.more ||= earlier.more;
  }

  private add(bootId: Uint8Array, first: number, last: number): void {
    const hex = toHex(bootId);
    // ranges of one boot that touch are merged exactly: the union of dropped seqs stays exact
    for (const r of this.ranges) {
      if (r.hex === hex && first <= r.last + 1 && last >= r.first - 1) {
        r.first = Math.min(r.first, first);
        r.last = Math.max(r.last, last);
        return;
      }
    }
    if (this.ranges.length < MAX_RANGES) this.ranges.push({ bootId, hex, first, last });
    else this.more = true;
  }

  encode(sector: number): Uint8Array {
    const payload = encode(
      new Map<string, CborValue>([
        ['dropped', this.count],
        ['ranges', this.ranges.map((r) => [r.bootId, r.first, r.last])],
        ['more', this.more],
        ['sector', sector >>> 0],
      ]),
    );
    if (payload.length > DROP_MAX) throw new RangeError(`a DROP payload of ${payload.length} bytes exceeds ${DROP_MAX}`);
    return payload;
  }
}

/** Reads the payload of a DROP record. */
export function decodeDrop(payload: Uint8Array): DropReport | undefined {
  const r = decode(payload);
  if (!r.ok || !(r.value instanceof Map)) return undefined;
  const dropped = r.value.get('dropped');
  const ranges = r.value.get('ranges');
  const more = r.value.get('more');
  const sector = r.value.get('sector');
  if (typeof dropped !== 'number' || !Array.isArray(ranges) || typeof more !== 'boolean') return undefined;
  if (sector !== undefined && typeof sector !== 'number') return undefined;
  const out: DroppedRange[] = [];
  for (const x of ranges as readonly CborValue[]) {
    if (!Array.isArray(x)) return undefined;
    const [boot, first, last] = x as readonly CborValue[];
    if (!(boot instanceof Uint8Array) || typeof first !== 'number' || typeof last !== 'number') return undefined;
    out.push({ bootId: boot, first, last });
  }
  return sector === undefined ? { dropped, ranges: out, more } : { dropped, ranges: out, more, sector };
}
