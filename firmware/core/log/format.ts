/**
 * The on-flash format of the vitals log (docs/vitals-log.md). Little-endian throughout.
 *
 * Sector (4096 bytes on the ESP32):
 *   0  magic "VGLS" | 4 generation u32 | 8 bootId (16) | 24 CRC-32 of bytes 0..24 | 28 freed u32 | 32 records…
 *   The last RESERVE bytes of a sector are kept for one DROP record (see log.ts).
 *   freed is 0xFFFFFFFF while the sector holds records the host has not committed; clearing any of its
 *   bits (no erase needed on NOR) marks every record in it committed.
 * Record (aligned to 4 bytes, padding left erased):
 *   0 magic 0xA5 | 1 type | 2 length u16 | 4 seq u32 | 8 CRC-32 of bytes 0..8 and the payload | 12 payload…
 */
import { crc32Finish, crc32Start, crc32Update } from './crc32.js';

export const SECTOR_MAGIC = 0x534c4756; // "VGLS" read as little-endian u32
export const SECTOR_HEADER = 32;
export const FREED_OFFSET = 28;
export const RECORD_MAGIC = 0xa5;
export const RECORD_HEADER = 12;
export const BOOT_ID_BYTES = 16;
/**
 * Room kept at the end of every sector for the DROP record written when the log is full: a BOOT
 * record (28 bytes) and a DROP record of at most 152 bytes (4 ranges; see log.ts).
 */
export const RESERVE = 192;

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

export function align4(n: number): number {
  return (n + 3) & ~3;
}

export interface SectorHeader {
  readonly generation: number;
  readonly bootId: Uint8Array;
  readonly freed: boolean;
}

export function encodeSectorHeader(generation: number, bootId: Uint8Array): Uint8Array {
  const b = new Uint8Array(SECTOR_HEADER).fill(0xff);
  putU32(b, 0, SECTOR_MAGIC);
  putU32(b, 4, generation);
  b.set(bootId, 8);
  putU32(b, 24, crc32Finish(crc32Update(crc32Start, b, 0, 24)));
  return b; // bytes 28..32 (freed) stay 0xFF
}

/** Undefined when the header is erased, torn or corrupt: the sector then holds nothing. */
export function decodeSectorHeader(b: Uint8Array): SectorHeader | undefined {
  if (u32(b, 0) !== SECTOR_MAGIC) return undefined;
  if (u32(b, 24) !== crc32Finish(crc32Update(crc32Start, b, 0, 24))) return undefined;
  return { generation: u32(b, 4), bootId: b.slice(8, 24), freed: u32(b, FREED_OFFSET) !== 0xffffffff };
}

/** Header and payload in one buffer padded to 4 bytes with 0xFF: one program operation. */
export function encodeRecord(type: RecordTypeCode, seq: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(align4(RECORD_HEADER + payload.length)).fill(0xff);
  b[0] = RECORD_MAGIC;
  b[1] = type;
  b[2] = payload.length & 0xff;
  b[3] = payload.length >>> 8;
  putU32(b, 4, seq);
  b.set(payload, RECORD_HEADER);
  putU32(b, 8, recordCrc(b, payload.length));
  return b;
}

/** CRC-32 of header bytes 0..8 and the payload that follows the header in `b`. */
export function recordCrc(b: Uint8Array, length: number, at = 0): number {
  let c = crc32Update(crc32Start, b, at, at + 8);
  c = crc32Update(c, b, at + RECORD_HEADER, at + RECORD_HEADER + length);
  return crc32Finish(c);
}
