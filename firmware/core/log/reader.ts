/**
 * Reading a sector's records: only by following the chain of lengths from the sector start, so a
 * payload is never searched for something that looks like a record (format.ts). Each step reads at
 * most one record's bytes (and, over filler, the filler's words once): a sector is read in O(its size).
 */
import type { Flash } from './flash.js';
import { allErased, checkPayload, decodeRecordHeader, isFillerWord, RECORD_HEADER, SECTOR_HEADER, alignUp, type RecordTypeCode } from './format.js';

export interface Geometry {
  readonly sectorSize: number;
  readonly sectors: number;
  /** Records and filler are aligned to this: the flash's write unit, at least 4 bytes. */
  readonly unit: number;
}

export type Entry =
  /** Erased: the sector's records end here. */
  | { readonly kind: 'end' }
  /** Filler words up to `next`. */
  | { readonly kind: 'filler'; readonly next: number }
  /** Neither a record, nor filler, nor erased, and not repairable: the chain cannot go on. */
  | { readonly kind: 'broken' }
  /**
   * A record. `payload` is undefined when it is damaged beyond repair (the header, with its own CRC,
   * still says where the next record starts). `corrected` counts bits put right.
   */
  | { readonly kind: 'record'; readonly type: RecordTypeCode; readonly seq: number; readonly payload: Uint8Array | undefined; readonly next: number; readonly corrected: number };

const FILLER_CHUNK = 64;

/** Reads the entry at `offset` of `sector`. */
export function readEntry(flash: Flash, geo: Geometry, sector: number, offset: number): Entry {
  const { sectorSize } = geo;
  if (offset + RECORD_HEADER > sectorSize) {
    // too little room left for a record: the rest is erased (the end) or filler
    if (offset >= sectorSize) return { kind: 'end' };
    const rest = flash.read(sector * sectorSize + offset, sectorSize - offset);
    return allErased(rest) ? { kind: 'end' } : { kind: 'filler', next: sectorSize };
  }
  const base = sector * sectorSize;
  const h = flash.read(base + offset, RECORD_HEADER);
  if (allErased(h)) return { kind: 'end' };
  if (isFillerWord(h, 0)) return { kind: 'filler', next: fillerEnd(flash, geo, sector, offset) };
  const header = decodeRecordHeader(h, sectorSize - SECTOR_HEADER - RECORD_HEADER);
  if (header === undefined) return { kind: 'broken' };
  const next = offset + alignUp(RECORD_HEADER + header.length, geo.unit);
  if (next > sectorSize) return { kind: 'broken' };
  const payload = flash.read(base + offset + RECORD_HEADER, header.length);
  const check = checkPayload(payload, header.payloadCrc);
  const corrected = (header.corrected ? 1 : 0) + (check === 'corrected' ? 1 : 0);
  return { kind: 'record', type: header.type, seq: header.seq, payload: check === 'damaged' ? undefined : payload, next, corrected };
}

/** The first offset past a run of filler words that starts at `offset`. */
function fillerEnd(flash: Flash, geo: Geometry, sector: number, offset: number): number {
  const base = sector * geo.sectorSize;
  let at = offset;
  while (at < geo.sectorSize) {
    const n = Math.min(FILLER_CHUNK, geo.sectorSize - at);
    const chunk = flash.read(base + at, n);
    for (let i = 0; i + 4 <= n; i += 4) if (!isFillerWord(chunk, i)) return at + i;
    at += n;
  }
  return geo.sectorSize;
}

/** The first offset after the last byte of `sector` that is not 0xFF, aligned up to the unit. */
export function programmedEnd(flash: Flash, geo: Geometry, sector: number, from: number): number {
  const bytes = flash.read(sector * geo.sectorSize + from, geo.sectorSize - from);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0xff) end--;
  return Math.min(geo.sectorSize, alignUp(from + end, geo.unit));
}
