/**
 * The store-and-forward vitals log: an append-only ring of flash sectors that keeps every batch until
 * the host says it is committed, through outages of hours and power cuts at any moment.
 *
 * - append: one program operation and a sync per record; when it returns, the record survives a power
 *   cut. Sequence numbers are per boot and contiguous from 0; the boot id is 16 random bytes.
 * - boot scan: reads every sector's 32-byte header and parses only the newest sector, so its cost grows
 *   with the number of sectors, not of records. Torn or corrupt records are skipped and counted.
 * - draining: `next()` yields unacknowledged records oldest first; live records the runtime already
 *   published are skipped (a bounded memory of them; one it forgot is sent again, and the host drops the
 *   duplicate by (gateway, boot, seq)).
 * - freeing: `ack(boot, through)` moves the read pointer over committed records; when it leaves a
 *   sector, the sector's `freed` word is cleared (a program, no erase): the durable "committed through"
 *   marker costs one 4-byte write per sector, never an erase. Progress inside a sector lives in RAM, so
 *   after a reboot up to one sector of committed records is sent again, as duplicates.
 * - full: the oldest sector is dropped. First a DROP record naming every (boot, seq) range lost is
 *   written into the space each sector keeps for it, then the sector is erased: the host always
 *   learns of the gap, even if the power fails in between.
 *   DROP records are the human-readable account (counts, ranges, for the nursing station); the exact
 *   account is the low-water mark every drained record carries (see LogRecord.lowWater).
 * RAM does not grow with the log: a few positions, a 16-entry ack table, a 64-entry live ring.
 */
import { decode, encode, type CborValue } from '../cbor/index.js';
import { toHex } from '../hex.js';
import type { Flash } from './flash.js';
import {
  align4,
  BOOT_ID_BYTES,
  decodeSectorHeader,
  encodeRecord,
  encodeSectorHeader,
  FREED_OFFSET,
  RECORD_HEADER,
  RECORD_MAGIC,
  RecordType,
  recordCrc,
  RESERVE,
  SECTOR_HEADER,
  type RecordTypeCode,
} from './format.js';

export interface LogRecord {
  readonly kind: 'data' | 'drop';
  readonly bootId: Uint8Array;
  readonly seq: number;
  readonly payload: Uint8Array;
  /**
   * The oldest record still in the log: every record before it (in log order) is committed or was
   * dropped. The host resolves seqs of that boot below it as committed-or-lost, which is what lets its
   * contiguous ack move past a gap even when the DROP record describing the gap was itself dropped.
   */
  readonly lowWater: { readonly bootId: Uint8Array; readonly seq: number } | undefined;
}

/** A gap: records of one boot, seq first..last, lost to a full log. */
export interface DroppedRange {
  readonly bootId: Uint8Array;
  readonly first: number;
  readonly last: number;
}

export interface LogStats {
  /** Bytes of flash holding records the host has not committed. */
  readonly used: number;
  readonly capacity: number;
  /** Records lost to a full log since this boot (each also reported in a DROP record). */
  readonly dropped: number;
  readonly torn: number;
  readonly corrupt: number;
}

export interface BootScan {
  readonly sectors: number;
  readonly liveSectors: number;
  readonly headerReads: number;
  readonly torn: number;
}

export type AppendResult = { readonly ok: true; readonly seq: number } | { readonly ok: false; readonly error: 'too-large'; readonly detail: string };

interface Position {
  sector: number;
  gen: number;
  offset: number;
  boot: Uint8Array;
}

type ReadResult =
  | { readonly status: 'end' }
  | { readonly status: 'bad' }
  | { readonly status: 'ok'; readonly type: RecordTypeCode; readonly seq: number; readonly payload: Uint8Array; readonly next: number };

const ACK_TABLE = 16;
const LIVE_RING = 64;
const MAX_DROP_RANGES = 4;

export interface VitalsLog {
  readonly bootId: Uint8Array;
  readonly scan: BootScan;
  append(payload: Uint8Array, sentLive?: boolean): AppendResult;
  next(): LogRecord | undefined;
  ack(bootId: Uint8Array, through: number): void;
  rewind(): void;
  stats(): LogStats;
  /** The largest payload one record can hold. */
  readonly maxPayload: number;
}

/** Opens the log on `flash` for a new boot: scans it, and appends from where it left off. */
export function openLog(flash: Flash, bootId: Uint8Array): VitalsLog {
  if (bootId.length !== BOOT_ID_BYTES) throw new RangeError(`expected a ${BOOT_ID_BYTES}-byte boot id, got ${bootId.length}`);
  const sectorSize = flash.sectorSize;
  const sectors = flash.byteLength / sectorSize;
  if (sectors < 3) throw new RangeError(`the log needs at least 3 sectors, got ${sectors}`);
  const dataEnd = sectorSize - RESERVE; // ordinary records end here; the rest is for a DROP record
  const maxPayload = dataEnd - SECTOR_HEADER - RECORD_HEADER - align4(RECORD_HEADER + BOOT_ID_BYTES);
  const bootHex = toHex(bootId);

  let torn = 0;
  let corrupt = 0;
  let dropped = 0;
  let nextSeq = 0;
  const acked: Array<{ boot: string; through: number }> = [];
  const live = new Float64Array(LIVE_RING).fill(-1);
  let liveAt = 0;

  const header = (s: number) => decodeSectorHeader(flash.read(s * sectorSize, SECTOR_HEADER));
  const ringNext = (s: number) => (s + 1) % sectors;
  const ringPrev = (s: number) => (s + sectors - 1) % sectors;

  /** Reads the record at `offset` of `sector`, checking magic, length and CRC. */
  function readAt(sector: number, offset: number): ReadResult {
    if (offset + RECORD_HEADER > sectorSize) return { status: 'end' };
    const base = sector * sectorSize;
    const h = flash.read(base + offset, RECORD_HEADER);
    if (h.every((b) => b === 0xff)) return { status: 'end' };
    const length = h[2]! | (h[3]! << 8);
    const type = h[1]!;
    if (h[0] !== RECORD_MAGIC || type < RecordType.data || type > RecordType.drop || offset + RECORD_HEADER + length > sectorSize) return { status: 'bad' };
    const whole = flash.read(base + offset, RECORD_HEADER + length);
    const stored = (whole[8]! | (whole[9]! << 8) | (whole[10]! << 16) | (whole[11]! << 24)) >>> 0;
    if (recordCrc(whole, length) !== stored) return { status: 'bad' };
    const seq = (whole[4]! | (whole[5]! << 8) | (whole[6]! << 16) | (whole[7]! << 24)) >>> 0;
    return { status: 'ok', type: type as RecordTypeCode, seq, payload: whole.slice(RECORD_HEADER), next: offset + align4(RECORD_HEADER + length) };
  }

  /** After a bad record: the next aligned offset where a valid record starts, or where only erased bytes remain. */
  function resync(sector: number, from: number): number {
    for (let o = from + 4; o + RECORD_HEADER <= sectorSize; o += 4) {
      const r = readAt(sector, o);
      if (r.status === 'ok') return o;
      if (r.status === 'end' && flash.read(sector * sectorSize + o, sectorSize - o).every((b) => b === 0xff)) return o;
    }
    return sectorSize;
  }

  /**
   * Steps `pos` over one record. Returns the record, 'end' at the end of the sector's records, or
   * 'skip' for a BOOT record or a bad one (counted in `corrupt` when `count`).
   */
  function step(pos: Position, count: boolean): { kind: 'end' } | { kind: 'skip' } | { kind: 'record'; type: RecordTypeCode; seq: number; payload: Uint8Array; boot: Uint8Array } {
    const r = readAt(pos.sector, pos.offset);
    if (r.status === 'end') return { kind: 'end' };
    if (r.status === 'bad') {
      if (count) corrupt++;
      pos.offset = resync(pos.sector, pos.offset);
      return { kind: 'skip' };
    }
    pos.offset = r.next;
    if (r.type === RecordType.boot) {
      pos.boot = r.payload;
      return { kind: 'skip' };
    }
    return { kind: 'record', type: r.type, seq: r.seq, payload: r.payload, boot: pos.boot };
  }

  // ---- boot scan: headers of every sector, then the newest sector's records ----
  let headerReads = 0;
  let newest: { sector: number; gen: number; boot: Uint8Array } | undefined;
  for (let s = 0; s < sectors; s++) {
    const h = header(s);
    headerReads++;
    if (h !== undefined && (newest === undefined || h.generation > newest.gen)) newest = { sector: s, gen: h.generation, boot: h.bootId };
  }
  // the live sectors are the newest and its contiguous predecessors in the ring that are not freed
  let oldest = newest === undefined ? undefined : { sector: newest.sector, gen: newest.gen, boot: newest.boot };
  let liveSectors = newest === undefined ? 0 : 1;
  if (oldest !== undefined) {
    for (let s = ringPrev(oldest.sector), k = 1; k < sectors; s = ringPrev(s), k++) {
      const h = header(s);
      headerReads++;
      if (h === undefined || h.freed || h.generation !== oldest.gen - 1) break;
      oldest = { sector: s, gen: h.generation, boot: h.bootId };
      liveSectors++;
    }
  }
  // `write` is where the next record goes; undefined until the first sector is opened
  let write: Position | undefined;
  if (newest !== undefined) {
    const pos: Position = { sector: newest.sector, gen: newest.gen, offset: SECTOR_HEADER, boot: newest.boot };
    const before = corrupt;
    for (;;) {
      const r = step(pos, true);
      if (r.kind === 'end') break;
    }
    torn = corrupt - before;
    corrupt = before;
    // resume after the last programmed byte: a torn tail is never overwritten
    const bytes = flash.read(newest.sector * sectorSize, sectorSize);
    let end = sectorSize;
    while (end > pos.offset && bytes[end - 1] === 0xff) end--;
    pos.offset = align4(Math.max(end, pos.offset));
    write = pos;
  }
  const newestFreed = newest !== undefined && header(newest.sector)!.freed;
  let readPtr: Position | undefined =
    oldest === undefined || newestFreed ? undefined : { sector: oldest.sector, gen: oldest.gen, offset: SECTOR_HEADER, boot: oldest.boot };
  if (newestFreed) liveSectors = 0;
  let cursor: Position | undefined = readPtr === undefined ? undefined : { ...readPtr };
  /** Start of the oldest live sector: the low-water mark is its first record. */
  let oldestStart: Position | undefined = readPtr === undefined ? undefined : { ...readPtr };
  let low: LogRecord['lowWater'] | null = null; // null: to be computed (the oldest sector changed, or had no record yet)

  const scan: BootScan = { sectors, liveSectors, headerReads, torn };

  const before = (a: Position, b: Position) => a.gen < b.gen || (a.gen === b.gen && a.offset < b.offset);
  const atWrite = (p: Position) => write !== undefined && p.gen === write.gen && p.offset >= write.offset;

  /** Moves `pos` to the start of the next sector of the ring; false when there is none (it is the write sector). */
  function nextSector(pos: Position): boolean {
    if (write === undefined || pos.gen >= write.gen) return false;
    const s = ringNext(pos.sector);
    const h = header(s);
    if (h === undefined || h.generation !== pos.gen + 1) return false;
    pos.sector = s;
    pos.gen = h.generation;
    pos.offset = SECTOR_HEADER;
    pos.boot = h.bootId;
    return true;
  }

  function writeRecord(type: RecordTypeCode, seq: number, payload: Uint8Array): void {
    const w = write!;
    const bytes = encodeRecord(type, seq, payload);
    flash.write(w.sector * sectorSize + w.offset, bytes);
    flash.sync();
    w.offset += bytes.length;
    if (type === RecordType.boot) w.boot = payload;
  }

  /** The oldest live sector is about to be erased: report what it still holds, then forget it. */
  function dropOldest(): void {
    const victim = readPtr!; // the oldest live sector; records before the read pointer are committed
    const pos: Position = { ...victim };
    const ranges: Array<{ boot: Uint8Array; first: number; last: number }> = [];
    let count = 0; // records lost with this sector, plus those earlier DROP records in it reported
    let own = 0; // records lost with this sector
    let more = false;
    const add = (boot: Uint8Array, first: number, last: number): void => {
      // ranges of one boot that touch are merged exactly: the union of dropped seqs stays exact
      const hex = toHex(boot);
      for (const r of ranges) {
        if (toHex(r.boot) === hex && first <= r.last + 1 && last >= r.first - 1) {
          r.first = Math.min(r.first, first);
          r.last = Math.max(r.last, last);
          return;
        }
      }
      if (ranges.length < MAX_DROP_RANGES) ranges.push({ boot, first, last });
      else more = true;
    };
    for (;;) {
      const r = step(pos, false);
      if (r.kind === 'end') break;
      if (r.kind !== 'record') continue;
      count++;
      own++;
      add(r.boot, r.seq, r.seq);
      if (r.type === RecordType.drop) {
        // a DROP record about to be lost carries its gaps forward into the new one
        const earlier = decodeDrop(r.payload);
        if (earlier !== undefined) {
          count += earlier.dropped;
          for (const g of earlier.ranges) add(g.bootId, g.first, g.last);
          more ||= earlier.more;
        }
      }
    }
    // After a power cut between this record and the erase, the victim is dropped again at the next
    // boot; the reserve is then taken by the first DROP record, which already names the same records.
    if (count > 0) {
      const payload = encode(
        new Map<string, CborValue>([
          ['dropped', count],
          ['ranges', ranges.map((r) => [r.boot, r.first, r.last])],
          ['more', more],
        ]),
      );
      const bootRecord = toHex(write!.boot) !== bootHex ? align4(RECORD_HEADER + BOOT_ID_BYTES) : 0;
      if (write!.offset + bootRecord + align4(RECORD_HEADER + payload.length) <= sectorSize) {
        if (bootRecord > 0) writeRecord(RecordType.boot, 0xffffffff, bootId);
        writeRecord(RecordType.drop, nextSeq++, payload);
      }
    }
    dropped += own;
    // the read pointer and the cursor leave the victim
    const s = ringNext(victim.sector);
    const h = header(s)!;
    const start: Position = { sector: s, gen: h.generation, offset: SECTOR_HEADER, boot: h.bootId };
    readPtr = start;
    oldestStart = { ...start };
    low = null;
    if (cursor === undefined || before(cursor, start)) cursor = { ...start };
  }

  /** Opens the next sector of the ring for writing, dropping the oldest live one if the ring is full. */
  function openSector(): void {
    const target = write === undefined ? 0 : ringNext(write.sector);
    if (readPtr !== undefined && readPtr.sector === target && write !== undefined && target !== write.sector) dropOldest();
    const gen = write === undefined ? 1 : write.gen + 1;
    flash.erase(target);
    flash.write(target * sectorSize, encodeSectorHeader(gen, bootId));
    flash.sync();
    write = { sector: target, gen, offset: SECTOR_HEADER, boot: bootId };
    if (readPtr === undefined) {
      readPtr = { ...write };
      cursor = { ...write };
      oldestStart = { ...write };
      low = null;
    }
  }

  function append(payload: Uint8Array, sentLive = false): AppendResult {
    if (payload.length > maxPayload) return { ok: false, error: 'too-large', detail: `a record holds at most ${maxPayload} bytes, got ${payload.length}` };
    const needsBoot = write === undefined || toHex(write.boot) !== bootHex;
    const size = align4(RECORD_HEADER + payload.length) + (needsBoot ? align4(RECORD_HEADER + BOOT_ID_BYTES) : 0);
    if (write === undefined || write.offset + size > dataEnd) openSector();
    const w = write!;
    const caughtUp = cursor !== undefined && cursor.gen === w.gen && cursor.offset === w.offset;
    if (toHex(w.boot) !== bootHex) writeRecord(RecordType.boot, 0xffffffff, bootId);
    const seq = nextSeq++;
    writeRecord(RecordType.data, seq, payload);
    if (sentLive) {
      if (caughtUp) cursor = { ...w };
      else {
        live[liveAt] = seq;
        liveAt = (liveAt + 1) % LIVE_RING;
      }
    }
    return { ok: true, seq };
  }

  function wasSentLive(boot: Uint8Array, seq: number): boolean {
    return toHex(boot) === bootHex && live.indexOf(seq) >= 0;
  }

  function next(): LogRecord | undefined {
    if (cursor === undefined) return undefined;
    if (readPtr !== undefined && before(cursor, readPtr)) cursor = { ...readPtr };
    for (;;) {
      if (atWrite(cursor)) return undefined;
      const r = step(cursor, true);
      if (r.kind === 'end') {
        if (!nextSector(cursor)) return undefined;
        continue;
      }
      if (r.kind === 'skip' || wasSentLive(r.boot, r.seq)) continue;
      return { kind: r.type === RecordType.drop ? 'drop' : 'data', bootId: r.boot, seq: r.seq, payload: r.payload, lowWater: lowWater() };
    }
  }

  function lowWater(): LogRecord['lowWater'] {
    if (low !== null) return low;
    if (oldestStart !== undefined) {
      const pos = { ...oldestStart };
      for (;;) {
        if (atWrite(pos)) break;
        const r = step(pos, false);
        if (r.kind === 'end' && !nextSector(pos)) break;
        if (r.kind === 'record') {
          low = { bootId: r.boot, seq: r.seq }; // fixed until the oldest sector changes
          return low;
        }
      }
    }
    return undefined;
  }

  function ackedThrough(boot: Uint8Array): number {
    const hex = toHex(boot);
    for (const a of acked) if (a.boot === hex) return a.through;
    return -1;
  }

  function ack(boot: Uint8Array, through: number): void {
    const hex = toHex(boot);
    const entry = acked.find((a) => a.boot === hex);
    if (entry !== undefined) entry.through = Math.max(entry.through, through);
    else {
      if (acked.length >= ACK_TABLE) acked.shift(); // forgetting an ack only means a record is sent again
      acked.push({ boot: hex, through });
    }
    if (readPtr === undefined) return;
    for (;;) {
      if (atWrite(readPtr)) return;
      const at = { ...readPtr };
      const r = step(readPtr, false);
      if (r.kind === 'end') {
        const leaving = readPtr.sector;
        if (!nextSector(readPtr)) return;
        flash.write(leaving * sectorSize + FREED_OFFSET, new Uint8Array(4)); // the durable "committed" mark
        flash.sync();
        oldestStart = { ...readPtr };
        low = null;
        continue;
      }
      if (r.kind === 'record' && r.seq > ackedThrough(r.boot)) {
        readPtr = at; // the first record not yet committed
        return;
      }
    }
  }

  function rewind(): void {
    if (readPtr !== undefined) cursor = { ...readPtr };
    live.fill(-1);
  }

  function stats(): LogStats {
    const usable = sectorSize - SECTOR_HEADER;
    const used = readPtr === undefined || write === undefined ? 0 : (write.gen - readPtr.gen) * sectorSize + write.offset - readPtr.offset;
    return { used, capacity: sectors * usable, dropped, torn, corrupt };
  }

  return { bootId, scan, append, next, ack, rewind, stats, maxPayload };
}

export interface DropReport {
  readonly dropped: number;
  readonly ranges: readonly DroppedRange[];
  /** More ranges were lost than the record lists (counted in `dropped`). */
  readonly more: boolean;
}

/** Reads the payload of a DROP record. */
export function decodeDrop(payload: Uint8Array): DropReport | undefined {
  const r = decode(payload);
  if (!r.ok || !(r.value instanceof Map)) return undefined;
  const dropped = r.value.get('dropped');
  const ranges = r.value.get('ranges');
  const more = r.value.get('more');
  if (typeof dropped !== 'number' || !Array.isArray(ranges) || typeof more !== 'boolean') return undefined;
  const out: DroppedRange[] = [];
  for (const x of ranges as readonly CborValue[]) {
    if (!Array.isArray(x)) return undefined;
    const [boot, first, last] = x as readonly CborValue[];
    if (!(boot instanceof Uint8Array) || typeof first !== 'number' || typeof last !== 'number') return undefined;
    out.push({ bootId: boot, first, last });
  }
  return { dropped, ranges: out, more };
}
