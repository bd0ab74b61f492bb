/**
 * The store-and-forward vitals log: an append-only ring of flash sectors that keeps every batch until
 * the host says it is committed, through outages of hours, power cuts at any moment, and bit rot.
 *
 * - append [LOG-1]: one program operation and a sync per record; when it returns, the record survives
 *   a power cut. Sequence numbers are per boot and contiguous from 0; the boot id is 16 random bytes.
 * - boot: reads every sector's header (ring.ts) and walks the newest sector's records, so its cost grows
 *   with the number of sectors, not of records. A torn tail is programmed to filler [LOG-4], and the
 *   spare sector is made ready (below).
 * - draining: `next()` yields unacknowledged records oldest first; live records the runtime already
 *   published are skipped (a bounded memory of them; one it forgot is sent again, and the host drops
 *   the duplicate by (gateway, boot, seq)).
 * - freeing [LOG-5]: `ack(boot, through)` moves the read pointer over committed records. Acks are
 *   checked here, whatever the caller checks: not a whole number, refused; beyond the last seq
 *   appended in this boot, clamped. When the pointer leaves sectors, the last one left gets its
 *   `freed` word programmed (one program per ack, never an erase): it and every older sector are
 *   committed. Progress inside a sector lives in RAM (docs/vitals-log.md states what comes again).
 * - full [LOG-3]: the ring keeps one sector erased ahead of the newest (the spare). Opening the spare
 *   for writing makes the sector after it the next spare: if that one still holds records the host
 *   has not committed, a DROP record naming them (and its generation) is written into the sector just
 *   opened and synced first; then its header copies are programmed to 0 (killed) and it is erased.
 *   A power cut anywhere in this leaves either the records, or the DROP record naming them; the boot
 *   finishes the job and does not write a DROP record twice for one sector.
 * - bit rot [LOG-2]: one flipped bit in a sector header, a record header or a payload is corrected by
 *   its CRC; a sector whose header copies are both beyond repair is a hole: its records are counted
 *   lost (stats().corrupt) and the ring goes on past it.
 * RAM does not grow with the records: a few positions, a byte per sector, a 16-entry ack table, a
 * 64-entry ring of seqs already sent live.
 */
import { toHex } from '../hex.js';
import { decodeDrop, DropBuilder, DROP_MAX } from './drop.js';
import type { Flash } from './flash.js';
import {
  allErased,
  alignUp,
  BOOT_ID_BYTES,
  BOOT_SEQ,
  decodeSectorHeader,
  encodeRecord,
  encodeSectorHeader,
  firstRecord,
  FREED_OFFSET,
  HEADER_BYTES,
  KILL_BYTES,
  RECORD_HEADER,
  RecordType,
  SECTOR_HEADER,
  type RecordTypeCode,
  type SectorHeader,
} from './format.js';
import { programmedEnd, readEntry, type Entry, type Geometry } from './reader.js';
import { scanRing } from './ring.js';

export { decodeDrop, type DropReport, type DroppedRange } from './drop.js';

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

export interface LogStats {
  /** Bytes of flash from the oldest record the host has not committed to the end of the log. */
  readonly used: number;
  readonly capacity: number;
  /** Records lost to a full log since this boot (each also reported in a DROP record). */
  readonly dropped: number;
  /** Torn tails found (and made filler) by the boot scan. */
  readonly torn: number;
  /** Records lost to damage beyond repair (two or more flipped bits), seen since this boot. */
  readonly corrupt: number;
  /** Flipped bits put right since this boot. */
  readonly corrected: number;
}

export interface BootScan {
  readonly sectors: number;
  readonly liveSectors: number;
  readonly headerReads: number;
  readonly torn: number;
}

export type AppendResult = { readonly ok: true; readonly seq: number } | { readonly ok: false; readonly error: 'too-large'; readonly detail: string };

export type AckResult = { readonly ok: true; readonly clamped: boolean } | { readonly ok: false; readonly error: 'bad-ack'; readonly detail: string };

interface Position {
  sector: number;
  gen: number;
  offset: number;
  boot: Uint8Array;
}

const ACK_TABLE = 16;
const LIVE_RING = 64;
// per-sector state kept in RAM
const HOLE = 1;

export interface VitalsLog {
  readonly bootId: Uint8Array;
  readonly scan: BootScan;
  append(payload: Uint8Array, sentLive?: boolean): AppendResult;
  next(): LogRecord | undefined;
  ack(bootId: Uint8Array, through: number): AckResult;
  rewind(): void;
  stats(): LogStats;
  /** The largest payload one record can hold. */
  readonly maxPayload: number;
}

/** Opens the log on `flash` for a new boot: scans it, repairs what a power cut left, and appends from where it left off. */
export function openLog(flash: Flash, bootId: Uint8Array): VitalsLog {
  if (bootId.length !== BOOT_ID_BYTES) throw new RangeError(`expected a ${BOOT_ID_BYTES}-byte boot id, got ${bootId.length}`);
  const geo = geometry(flash);
  const { sectorSize, sectors, unit } = geo;
  const span = (payloadBytes: number) => alignUp(RECORD_HEADER + payloadBytes, unit);
  const first = firstRecord(unit);
  // a fresh sector holds its header, a DROP record and the record that opened it (sizes in whole units)
  const maxPayload = Math.min(0xffff, sectorSize - first - span(DROP_MAX) - RECORD_HEADER);
  const freedMark = new Uint8Array(unit).fill(0xff).fill(0, 0, 4);
  const bootHex = toHex(bootId);

  let torn = 0;
  let corrupt = 0;
  let corrected = 0;
  let dropped = 0;
  let nextSeq = 0;
  const acked: Array<{ boot: string; through: number }> = [];
  const live = new Float64Array(LIVE_RING).fill(-1);
  let liveAt = 0;
  const state = new Uint8Array(sectors); // HOLE flags
  const seen: string[] = []; // where damage and corrections were last counted, so a re-read does not count them again

  const ringNext = (s: number) => (s + 1) % sectors;
  const ringPrev = (s: number) => (s + sectors - 1) % sectors;
  const before = (a: Position, b: Position) => a.gen !== b.gen ? ((a.gen - b.gen) | 0) < 0 : a.offset < b.offset;

  /** Whether a record's boot (a sector header's or a BOOT record's) is this boot. */
  function ours(boot: Uint8Array): boolean {
    if (boot === bootId) return true;
    for (let i = 0; i < BOOT_ID_BYTES; i++) if (boot[i] !== bootId[i]) return false;
    return true;
  }

  /** True the first time `what` at `pos` is seen (a bounded memory: an old one may count again). */
  function firstSight(what: string, pos: Position): boolean {
    const key = `${what}${pos.gen}:${pos.offset}`;
    if (seen.indexOf(key) >= 0) return false;
    if (seen.length >= 32) seen.shift();
    seen.push(key);
    return true;
  }

  function entry(pos: Position): Entry {
    const e = readEntry(flash, geo, pos.sector, pos.offset);
    if (e.kind === 'record' && e.corrected > 0 && firstSight('c', pos)) corrected += e.corrected;
    return e;
  }

  function countDamage(pos: Position): void {
    if (firstSight('d', pos)) corrupt++;
  }

  function scanHeader(sector: number): SectorHeader {
    return decodeSectorHeader(flash.read(sector * sectorSize, SECTOR_HEADER));
  }

  function headerBoot(sector: number): Uint8Array | undefined {
    const h = scanHeader(sector);
    return h.kind === 'valid' ? h.bootId : undefined;
  }

  // ---- boot scan ----
  const ring = scanRing(flash, geo);
  corrected += ring.corrected;
  for (const s of ring.holes) {
    state[s] = HOLE;
    corrupt += countRecords(s, first);
  }
  let write: Position | undefined;
  let readPtr: Position | undefined;
  const dropsInNewest = new Set<number>(); // generations the newest sector holds DROP records for
  if (ring.newest !== undefined) {
    const n = ring.newest;
    // walk the newest sector's records; a torn tail (or anything programmed past the chain) becomes filler
    const pos: Position = { sector: n.sector, gen: n.gen, offset: first, boot: n.bootId };
    for (;;) {
      const e = entry(pos);
      if (e.kind === 'end' || e.kind === 'broken') break;
      if (e.kind === 'filler') {
        pos.offset = e.next;
        continue;
      }
      pos.offset = e.next;
      if (e.payload === undefined) continue;
      if (e.type === RecordType.boot) pos.boot = e.payload;
      else if (e.type === RecordType.drop) {
        const d = decodeDrop(e.payload);
        if (d?.sector !== undefined) dropsInNewest.add(d.sector);
      }
    }
    const end = programmedEnd(flash, geo, n.sector, pos.offset);
    if (end > pos.offset) {
      // [LOG-4] filler over the torn tail; from a whole unit (a fill cut short may leave the chain mid-unit)
      const from = pos.offset - (pos.offset % unit);
      flash.write(n.sector * sectorSize + from, new Uint8Array(end - from));
      flash.sync();
      torn++;
      pos.offset = end;
    }
    write = pos;
    // the oldest sector still holding records the host has not committed
    const oldest = (n.sector - ring.liveBack + sectors) % sectors;
    const oldestBoot = ring.liveBack === 0 ? n.bootId : headerBoot(oldest)!;
    readPtr = n.freed ? { ...write } : { sector: oldest, gen: (n.gen - ring.liveBack) >>> 0, offset: first, boot: oldestBoot };
    // the spare: the sector after the newest, when a power cut left it unprepared (or still live)
    const spare = ringNext(n.sector);
    const h = ring.headers[spare]!;
    const spareGen = (n.gen + 1 - sectors) >>> 0;
    const spareLive = !n.freed && ring.liveBack === sectors - 2 && h.kind === 'valid' && h.generation === spareGen && !h.freed;
    if (spareLive) readPtr = { sector: spare, gen: spareGen, offset: first, boot: h.bootId };
  }
  let cursor: Position | undefined = readPtr === undefined ? undefined : { ...readPtr };
  let oldestStart: Position | undefined = readPtr === undefined ? undefined : { ...readPtr, offset: first };
  let low: LogRecord['lowWater'] | null = null; // null: to be computed (the oldest sector changed)
  const liveSectors = ring.newest === undefined || ring.newest.freed ? 0 : readPtr === undefined ? 0 : ((write!.gen - readPtr.gen) >>> 0) + 1;
  const scan: BootScan = { sectors, liveSectors, headerReads: sectors, torn };
  if (write !== undefined) prepareSpare(ringNext(write.sector), dropsInNewest);
  advance(false);

  // ---- positions ----

  function atWrite(p: Position): boolean {
    return write !== undefined && p.gen === write.gen && p.offset >= write.offset;
  }

  /** Moves `pos` to the start of the next readable sector; false when there is none (it is the write sector). */
  function nextSector(pos: Position): boolean {
    if (write === undefined || ((pos.gen - write.gen) | 0) >= 0) return false;
    let s = ringNext(pos.sector);
    let gen = (pos.gen + 1) >>> 0;
    while (state[s] === HOLE && gen !== write.gen) {
      s = ringNext(s);
      gen = (gen + 1) >>> 0;
    }
    const boot = headerBoot(s);
    if (boot === undefined) return false;
    pos.sector = s;
    pos.gen = gen;
    pos.offset = first;
    pos.boot = boot;
    return true;
  }

  /**
   * Steps `pos` over one entry. Returns the record, 'end' at the end of the sector's records, or
   * 'skip' for filler, a BOOT record or a record damaged beyond repair (counted once).
   */
  function step(pos: Position): { kind: 'end' } | { kind: 'skip' } | { kind: 'record'; type: RecordTypeCode; seq: number; payload: Uint8Array; boot: Uint8Array } {
    const e = entry(pos);
    if (e.kind === 'end') return { kind: 'end' };
    if (e.kind === 'broken') {
      countDamage(pos);
      return { kind: 'end' }; // the chain cannot go on: the rest of this sector is lost
    }
    if (e.kind === 'filler') {
      pos.offset = e.next;
      return { kind: 'skip' };
    }
    const at = { ...pos };
    pos.offset = e.next;
    if (e.payload === undefined) {
      countDamage(at);
      return { kind: 'skip' };
    }
    if (e.type === RecordType.boot) {
      pos.boot = e.payload;
      return { kind: 'skip' };
    }
    return { kind: 'record', type: e.type, seq: e.seq, payload: e.payload, boot: pos.boot };
  }

  /** Counts the intact records of `sector` from `offset` (for a hole or a damaged sector). */
  function countRecords(sector: number, offset: number): number {
    let n = 0;
    for (let o = offset; ; ) {
      const e = readEntry(flash, geo, sector, o);
      if (e.kind === 'end' || e.kind === 'broken') return n;
      if (e.kind === 'record' && e.type !== RecordType.boot && e.payload !== undefined) n++;
      o = e.next;
    }
  }

  function writeRecord(type: RecordTypeCode, seq: number, payload: Uint8Array): void {
    const w = write!;
    const bytes = encodeRecord(type, seq, payload, unit);
    flash.write(w.sector * sectorSize + w.offset, bytes);
    flash.sync(); // [LOG-1] durable before append returns
    w.offset += bytes.length;
    if (type === RecordType.boot) w.boot = payload;
  }

  // ---- the spare and dropping ----

  /**
   * Makes `sector` the erased spare. If it still holds records the host has not committed (it is the
   * oldest live sector), a DROP record naming them goes into the write sector first, unless one for
   * its generation is there already (a power cut interrupted this before).
   */
  function prepareSpare(sector: number, alreadyDropped: ReadonlySet<number>): void {
    const h = scanHeader(sector);
    if (readPtr !== undefined && readPtr.sector === sector && write !== undefined && readPtr.gen !== write.gen) {
      if (!alreadyDropped.has(readPtr.gen)) writeDrop(readPtr);
      leaveOldest(sector);
    } else if (h.kind === 'damaged') {
      corrupt += countRecords(sector, first);
    }
    if (h.kind === 'erased' && sectorErased(sector)) return;
    if (h.kind === 'valid' || h.kind === 'damaged') {
      flash.write(sector * sectorSize, new Uint8Array(KILL_BYTES)); // [LOG-3] killed before the erase
      flash.sync();
    }
    flash.erase(sector);
  }

  function sectorErased(sector: number): boolean {
    return allErased(flash.read(sector * sectorSize, sectorSize));
  }

  /** The DROP record for the records of the oldest live sector from `from` on. */
  function writeDrop(from: Position): void {
    const pos: Position = { ...from };
    const drop = new DropBuilder();
    let own = 0;
    for (;;) {
      const r = step(pos);
      if (r.kind === 'end') break;
      if (r.kind !== 'record') continue;
      own++;
      drop.record(r.boot, r.seq);
      if (r.type === RecordType.drop) {
        const earlier = decodeDrop(r.payload); // lost with this sector: its gaps carry forward
        if (earlier !== undefined) drop.carry(earlier);
      }
    }
    dropped += own;
    if (drop.count === 0) return;
    const payload = drop.encode(from.gen);
    const w = write!;
    const needsBoot = !ours(w.boot);
    if (w.offset + span(payload.length) + (needsBoot ? span(BOOT_ID_BYTES) : 0) > sectorSize) return; // only after damage beyond repair: the low-water mark still tells the host
    if (needsBoot) writeRecord(RecordType.boot, BOOT_SEQ, bootId);
    writeRecord(RecordType.drop, nextSeq++, payload); // [LOG-3] the loss is named before the erase
  }

  /** The read pointer and the cursor leave the oldest live sector, which is about to be erased. */
  function leaveOldest(sector: number): void {
    const next: Position = { sector, gen: readPtr!.gen, offset: first, boot: readPtr!.boot };
    if (!nextSector(next)) return;
    readPtr = next;
    oldestStart = { ...next };
    low = null;
    if (cursor === undefined || before(cursor, next)) cursor = { ...next };
  }

  /** Opens the spare for writing (this boot's), then makes the sector after it the spare. */
  function openSector(): void {
    const target = write === undefined ? 0 : ringNext(write.sector);
    if (!(scanHeader(target).kind === 'erased' && sectorErased(target))) prepareSpare(target, new Set());
    const gen = write === undefined ? 1 : (write.gen + 1) >>> 0;
    flash.write(target * sectorSize, encodeSectorHeader(gen, bootId));
    flash.sync();
    state[target] = 0;
    write = { sector: target, gen, offset: first, boot: bootId };
    if (readPtr === undefined) {
      readPtr = { ...write };
      cursor = { ...write };
      oldestStart = { ...write };
      low = null;
    }
    prepareSpare(ringNext(target), new Set());
  }

  // ---- the API ----

  function append(payload: Uint8Array, sentLive = false): AppendResult {
    if (payload.length > maxPayload) return { ok: false, error: 'too-large', detail: `a record holds at most ${maxPayload} bytes, got ${payload.length}` };
    const needsBoot = write === undefined || !ours(write.boot);
    const size = span(payload.length) + (needsBoot ? span(BOOT_ID_BYTES) : 0);
    if (write === undefined || write.offset + size > sectorSize) openSector();
    const w = write!;
    const caughtUp = cursor !== undefined && cursor.gen === w.gen && cursor.offset === w.offset;
    if (!ours(w.boot)) writeRecord(RecordType.boot, BOOT_SEQ, bootId);
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
    return live.indexOf(seq) >= 0 && ours(boot);
  }

  function next(): LogRecord | undefined {
    if (cursor === undefined) return undefined;
    if (readPtr !== undefined && before(cursor, readPtr)) cursor = { ...readPtr };
    for (;;) {
      if (atWrite(cursor)) return undefined;
      const r = step(cursor);
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
        const r = step(pos);
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

  /**
   * Moves the read pointer over what needs no ack (filler, BOOT records, damage, sector ends) and,
   * when `acks`, over records the ack table covers. Leaving sectors marks the last one left freed.
   */
  function advance(acks: boolean): void {
    if (readPtr === undefined) return;
    let left: number | undefined;
    for (;;) {
      if (atWrite(readPtr)) break;
      const at = { ...readPtr };
      const r = step(readPtr);
      if (r.kind === 'end') {
        const leaving = readPtr.sector;
        if (!nextSector(readPtr)) break;
        left = leaving;
        continue;
      }
      if (r.kind === 'record' && (!acks || r.seq > ackedThrough(r.boot))) {
        readPtr = at; // the first record not yet committed
        break;
      }
    }
    if (left !== undefined) {
      flash.write(left * sectorSize + FREED_OFFSET, freedMark); // [LOG-5] it and every older sector committed
      flash.sync();
      oldestStart = { ...readPtr, offset: first };
      low = null;
    }
    if (cursor !== undefined && before(cursor, readPtr)) cursor = { ...readPtr };
  }

  function ack(boot: Uint8Array, through: number): AckResult {
    if (!(boot instanceof Uint8Array) || boot.length !== BOOT_ID_BYTES) return { ok: false, error: 'bad-ack', detail: `expected a ${BOOT_ID_BYTES}-byte boot id` };
    if (typeof through !== 'number' || !Number.isSafeInteger(through) || through < 0) return { ok: false, error: 'bad-ack', detail: `through must be a whole number >= 0, got ${String(through)}` };
    const hex = toHex(boot);
    let clamped = false;
    let t = through;
    if (hex === bootHex && t > nextSeq - 1) {
      // an ack can only commit what was appended: never records appended after it
      if (nextSeq === 0) return { ok: false, error: 'bad-ack', detail: `nothing appended in this boot yet, got through ${through}` };
      t = nextSeq - 1;
      clamped = true;
    }
    const entry = acked.find((a) => a.boot === hex);
    if (entry !== undefined) entry.through = Math.max(entry.through, t);
    else {
      if (acked.length >= ACK_TABLE) acked.shift(); // forgetting an ack only means a record is sent again
      acked.push({ boot: hex, through: t });
    }
    advance(true);
    return { ok: true, clamped };
  }

  function rewind(): void {
    if (readPtr !== undefined) cursor = { ...readPtr };
    live.fill(-1);
  }

  function stats(): LogStats {
    const usable = sectorSize - first;
    const used = readPtr === undefined || write === undefined ? 0 : ((write.gen - readPtr.gen) >>> 0) * sectorSize + write.offset - readPtr.offset;
    return { used, capacity: (sectors - 1) * usable, dropped, torn, corrupt, corrected };
  }

  return { bootId, scan, append, next, ack, rewind, stats, maxPayload };
}

/** The log's geometry on `flash`, or a RangeError naming what does not fit. */
function geometry(flash: Flash): Geometry {
  const sectorSize = flash.sectorSize;
  const sectors = flash.byteLength / sectorSize;
  const unit = Math.max(4, flash.writeUnit);
  if (!Number.isInteger(sectors) || sectors < 3) throw new RangeError(`the log needs at least 3 sectors, got ${sectors}`);
  if ((unit & (unit - 1)) !== 0 || unit > HEADER_BYTES || sectorSize % unit !== 0) throw new RangeError(`a write unit of ${flash.writeUnit} bytes does not fit ${sectorSize}-byte sectors`);
  if (sectorSize < 1024) throw new RangeError(`the log needs sectors of at least 1024 bytes, got ${sectorSize}`);
  return { sectorSize, sectors, unit };
}
