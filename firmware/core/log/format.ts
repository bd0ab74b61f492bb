/**
 * The on-flash format of the vitals log, version 2 (docs/vitals-log.md). Little-endian throughout.
 *
 * Sector (4096 bytes on the ESP32):
 *    0  header copy A: magic "VGL2" | generation u32 | bootId (16) | CRC-32 of the 24 bytes before it
 *   28  header copy B: the same 28 bytes
 *   56  reserved (0xFF), to 64: the header is one program of 64 bytes, whole units for any write unit
 *   64  freed u32, alone in its write unit: 0xFFFFFFFF while the sector may hold records the host has
 *       not committed; programmed to 0 when the read pointer has left it (it and every older sector
 *       committed). Read by majority: freed when at least 16 of its 32 bits are 0, so one flipped bit
 *       never changes it.
 *   68  records…, from the first offset aligned to the write unit (68 for 4-byte units, 80 for 16)
 * Two CRC-checked copies of what a header holds: one flipped bit anywhere in them leaves a good copy,
 * and a copy with one flipped bit is also corrected by its CRC. A sector being recycled first has its
 * header copies programmed to 0 ("killed"), so an erase cut short can never leave a valid old header.
 *
 * Record (aligned to the flash's write unit, at least 4; padding left erased):
 *    0 magic 0xA5 | 1 type | 2 length u16 | 4 seq u32 | 8 CRC-32 of the payload | 12 CRC-32 of bytes 0..12
 *   16 payload…
 * The header has a CRC of its own, so a damaged payload never hides where the next record starts, and
 * one flipped bit in a header or a payload is corrected (crc32LocateBit). Records are read only by
 * following lengths from the sector start: a payload may hold anything, including images of records,
 * and is never searched for one.
 * Filler: words with at most 2 bits set, left where a torn record was programmed to 0 at boot, so the
 * chain of lengths steps over it.
 */
import { crc32Finish, crc32LocateBit, crc32Start, crc32Update, flipBit } from './crc32.js';

export const SECTOR_MAGIC = 0x324c4756; // "VGL2" read as little-endian u32
const HEADER_COPY = 28;
const COPY_BODY = 24;
/** The header copies and their padding: one program when a sector is opened, one (to 0) when it is killed. */
export const HEADER_BYTES = 64;
export const FREED_OFFSET = 64;
/** What the boot scan reads of each sector: the header copies and the freed word. */
export const SECTOR_HEADER = 68;
/** The header copies, which a kill programs to 0 (the whole 64-byte header block). */
export const KILL_BYTES = HEADER_BYTES;
export const RECORD_MAGIC = 0xa5;
export const RECORD_HEADER = 16;
export const BOOT_ID_BYTES = 16;
export const BOOT_SEQ = 0xffffffff;

export const RecordType = { data: 1, boot: 2, drop: 3 } as const;
export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

export function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

export function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

/** `n` rounded up to a multiple of `unit` (a power of two). */
export function alignUp(n: number, unit: number): number {
  return (n + unit - 1) & ~(unit - 1);
}

function crcOf(b: Uint8Array, from: number, to: number): number {
  return crc32Finish(crc32Update(crc32Start, b, from, to));
}

/**
 * Whether bytes [from, to) are all 0xFF. Word by word where the buffer allows (flash reads are fresh,
 * aligned buffers), since the boot scan and every sector opened run this over thousands of bytes.
 */
export function allErased(b: Uint8Array, from = 0, to = b.length): boolean {
  let i = from;
  if (((b.byteOffset + i) & 3) === 0) {
    const words = new Uint32Array(b.buffer, b.byteOffset + i, (to - i) >> 2);
    for (let w = 0; w < words.length; w++) if (words[w] !== 0xffffffff) return false;
    i += words.length << 2;
  }
  for (; i < to; i++) if (b[i] !== 0xff) return false;
  return true;
}

/** Number of bits set in a 32-bit word. */
export function popcount(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

// ---- sector header ----

export type SectorHeader =
  | { readonly kind: 'valid'; readonly generation: number; readonly bootId: Uint8Array; readonly freed: boolean; readonly corrected: boolean }
  /** Never written since its erase. */
  | { readonly kind: 'erased' }
  /** Killed for recycling (its header copies programmed to 0), perhaps part-erased after. */
  | { readonly kind: 'killed' }
  /** Neither: both copies damaged beyond repair, or torn while being written. */
  | { readonly kind: 'damaged' };

/** Where the first record of a sector goes on flash written in `unit`-byte units. */
export function firstRecord(unit: number): number {
  return alignUp(SECTOR_HEADER, unit);
}

/** The HEADER_BYTES a sector is opened with: two copies, padding erased. */
export function encodeSectorHeader(generation: number, bootId: Uint8Array): Uint8Array {
  const b = new Uint8Array(HEADER_BYTES).fill(0xff);
  putU32(b, 0, SECTOR_MAGIC);
  putU32(b, 4, generation >>> 0);
  b.set(bootId, 8);
  putU32(b, COPY_BODY, crcOf(b, 0, COPY_BODY));
  b.copyWithin(HEADER_COPY, 0, HEADER_COPY);
  return b;
}

/** One header copy at `at`: valid as it is, corrected by one bit, or undefined. */
function headerCopy(b: Uint8Array, at: number): { generation: number; bootId: Uint8Array; corrected: boolean } | undefined {
  let copy = b.subarray(at, at + HEADER_COPY);
  let corrected = false;
  const computed = crcOf(copy, 0, COPY_BODY);
  const stored = u32(copy, COPY_BODY);
  if (computed !== stored) {
    const bit = crc32LocateBit(COPY_BODY, computed, stored);
    if (bit < 0) return undefined;
    if (bit < COPY_BODY * 8) {
      copy = copy.slice();
      flipBit(copy, bit);
    }
    corrected = true;
  }
  if (u32(copy, 0) !== SECTOR_MAGIC) return undefined;
  return { generation: u32(copy, 4), bootId: copy.slice(8, 24), corrected };
}

/** Reads the first SECTOR_HEADER bytes of a sector. */
export function decodeSectorHeader(b: Uint8Array): SectorHeader {
  // the common case of a sector never written first, without a correction search
  if (b[0] === 0xff && allErased(b, 0, 2 * HEADER_COPY)) return { kind: 'erased' };
  const h = headerCopy(b, 0) ?? headerCopy(b, HEADER_COPY);
  if (h !== undefined) {
    const freedZeros = 32 - popcount(u32(b, FREED_OFFSET));
    return { kind: 'valid', generation: h.generation, bootId: h.bootId, freed: freedZeros >= 16, corrected: h.corrected };
  }
  let erased = true;
  let killed = true;
  for (let i = 0; i < 2 * HEADER_COPY; i++) {
    if (b[i] !== 0xff) erased = false;
    if (b[i] !== 0xff && b[i] !== 0) killed = false;
  }
  return { kind: erased ? 'erased' : killed ? 'killed' : 'damaged' };
}

// ---- records ----

/** Header and payload in one buffer padded to `unit` with 0xFF: one program operation. */
export function encodeRecord(type: RecordTypeCode, seq: number, payload: Uint8Array, unit = 4): Uint8Array {
  const b = new Uint8Array(alignUp(RECORD_HEADER + payload.length, unit)).fill(0xff);
  b[0] = RECORD_MAGIC;
  b[1] = type;
  b[2] = payload.length & 0xff;
  b[3] = payload.length >>> 8;
  putU32(b, 4, seq);
  putU32(b, 8, crcOf(payload, 0, payload.length));
  putU32(b, 12, crcOf(b, 0, 12));
  b.set(payload, RECORD_HEADER);
  return b;
}

export interface RecordHeader {
  readonly type: RecordTypeCode;
  readonly length: number;
  readonly seq: number;
  readonly payloadCrc: number;
  /** One bit of the header was corrected. */
  readonly corrected: boolean;
}

/**
 * Decodes a record header (RECORD_HEADER bytes), correcting one flipped bit. Undefined when it is not
 * one: damaged beyond repair, or not a record at all. `maxLength` bounds the payload length.
 */
export function decodeRecordHeader(h: Uint8Array, maxLength: number): RecordHeader | undefined {
  let b = h;
  let corrected = false;
  const computed = crcOf(b, 0, 12);
  const stored = u32(b, 12);
  if (computed !== stored) {
    const bit = crc32LocateBit(12, computed, stored);
    if (bit < 0) return undefined;
    if (bit < 96) {
      b = h.slice(0, RECORD_HEADER);
      flipBit(b, bit);
    }
    corrected = true;
  }
  const type = b[1]!;
  const length = b[2]! | (b[3]! << 8);
  if (b[0] !== RECORD_MAGIC || type < RecordType.data || type > RecordType.drop || length > maxLength) return undefined;
  return { type: type as RecordTypeCode, length, seq: u32(b, 4), payloadCrc: u32(b, 8), corrected };
}

/**
 * Checks a payload against its CRC, correcting one flipped bit in place. Returns 'ok', 'corrected' or
 * 'damaged' (two or more bits: the record is lost).
 */
export function checkPayload(payload: Uint8Array, crc: number): 'ok' | 'corrected' | 'damaged' {
  const computed = crcOf(payload, 0, payload.length);
  if (computed === crc) return 'ok';
  const bit = crc32LocateBit(payload.length, computed, crc);
  if (bit < 0) return 'damaged';
  // a bit of the stored CRC: the header's own CRC vouched for it, so this cannot happen; refuse it
  if (bit >= payload.length * 8) return 'damaged';
  flipBit(payload, bit);
  return 'corrected';
}

/** A word of filler (a torn record programmed to 0 at boot), allowing for one or two flipped bits. */
export function isFillerWord(b: Uint8Array, at: number): boolean {
  return popcount(u32(b, at)) <= 2;
}
