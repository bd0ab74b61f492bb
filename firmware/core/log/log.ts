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
 *
 * This file is the API (open, append, next, ack, stats) over parts that each do one thing:
 *   format.ts   the bytes on flash          crc32.ts   CRC-32 and single-bit correction
 *   reader.ts   records of one sector       ring.ts    the ring as the boot finds it
 *   context.ts  the open log's state        cursor.ts  moving record to record, sector to sector
 *   spare.ts    writing, the spare, drops   recover.ts the boot scan and torn-tail repair
 *   drop.ts     DROP record payloads
 */
import { toHex } from '../hex.js';
import { atWrite, before, ours, span, type LogContext, type LowWater } from './context.js';
import { headerBoot, nextRecord, nextSector as nextSectorOf, step } from './cursor.js';
import { DROP_MAX } from './drop.js';
import type { Flash } from './flash.js';
import { BOOT_ID_BYTES, BOOT_SEQ, firstRecord, FREED_OFFSET, HEADER_BYTES, RECORD_HEADER, RecordType } from './format.js';
import type { Geometry } from './reader.js';
import { recover, type BootScan } from './recover.js';
import { openSector, writeRecord } from './spare.js';

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

export type { BootScan } from './recover.js';

export type AppendResult = { readonly ok: true; readonly seq: number } | { readonly ok: false; readonly error: 'too-large'; readonly detail: string };

export type AckResult = { readonly ok: true; readonly clamped: boolean } | { readonly ok: false; readonly error: 'bad-ack'; readonly detail: string };

const ACK_TABLE = 16;
const LIVE_RING = 64;

export interface VitalsLog {
  readonly bootId: Uint8Array;
  readonly scan: BootScan;
  append(payload: Uint8Array, sentLive?: boolean): AppendResult;
  next(): LogRecord | undefined;
  ack(bootId: Uint8Array, through: number): AckResult;
  rewind(): void;
  stats(): LogStats;
  /** The seq the next record of this boot will get. */
  readonly nextSeq: number;
  /** The largest payload one record can hold. */
  readonly maxPayload: number;
}

/** Opens the log on `flash` for a new boot: scans it, repairs what a power cut left, and appends from where it left off. */
export function openLog(flash: Flash, bootId: Uint8Array): VitalsLog {
  if (bootId.length !== BOOT_ID_BYTES) throw new RangeError(`expected a ${BOOT_ID_BYTES}-byte boot id, got ${bootId.length}`);
  const geo = geometry(flash);
  const first = firstRecord(geo.unit);
  const ctx: LogContext = {
    flash,
    geo,
    first,
    bootId,
    counters: { torn: 0, corrupt: 0, corrected: 0, dropped: 0 },
    holes: new Uint8Array(geo.sectors),
    seen: [],
    write: undefined,
    readPtr: undefined,
    cursor: undefined,
    oldestStart: undefined,
    low: null,
    nextSeq: 0,
  };
  // a fresh sector holds its header, a DROP record and the record that opened it (sizes in whole units)
  const maxPayload = Math.min(0xffff, geo.sectorSize - first - span(ctx, DROP_MAX) - RECORD_HEADER);
  const acks = createAckTable(toHex(bootId), ctx);
  const live = createLiveRing(ctx);
  const scan = recover(ctx);
  advance(ctx, () => -1);

  function append(payload: Uint8Array, sentLive = false): AppendResult {
    if (payload.length > maxPayload) return { ok: false, error: 'too-large', detail: `a record holds at most ${maxPayload} bytes, got ${payload.length}` };
    const needsBoot = ctx.write === undefined || !ours(ctx, ctx.write.boot);
    const size = span(ctx, payload.length) + (needsBoot ? span(ctx, BOOT_ID_BYTES) : 0);
    if (ctx.write === undefined || ctx.write.offset + size > geo.sectorSize) openSector(ctx);
    const w = ctx.write!;
    const caughtUp = ctx.cursor !== undefined && ctx.cursor.gen === w.gen && ctx.cursor.offset === w.offset;
    if (!ours(ctx, w.boot)) writeRecord(ctx, RecordType.boot, BOOT_SEQ, bootId);
    const seq = ctx.nextSeq++;
    writeRecord(ctx, RecordType.data, seq, payload);
    if (sentLive) {
      if (caughtUp) ctx.cursor = { ...w };
      else live.add(seq);
    }
    return { ok: true, seq };
  }

  function next(): LogRecord | undefined {
    if (ctx.cursor === undefined) return undefined;
    if (ctx.readPtr !== undefined && before(ctx.cursor, ctx.readPtr)) ctx.cursor = { ...ctx.readPtr };
    for (;;) {
      const r = nextRecord(ctx, ctx.cursor);
      if (r === undefined) return undefined;
      if (live.has(r.boot, r.seq)) continue;
      return { kind: r.type === RecordType.drop ? 'drop' : 'data', bootId: r.boot, seq: r.seq, payload: r.payload, lowWater: lowWater(ctx) };
    }
  }

  function stats(): LogStats {
    const { readPtr, write } = ctx;
    const used = readPtr === undefined || write === undefined ? 0 : ((write.gen - readPtr.gen) >>> 0) * geo.sectorSize + write.offset - readPtr.offset;
    return { used, capacity: (geo.sectors - 1) * (geo.sectorSize - first), ...ctx.counters };
  }

  return {
    bootId,
    scan,
    append,
    next,
    ack: acks.ack,
    rewind() {
      if (ctx.readPtr !== undefined) ctx.cursor = { ...ctx.readPtr };
      live.clear();
    },
    stats,
    maxPayload,
    get nextSeq() {
      return ctx.nextSeq;
    },
  };
}

/** The oldest record still in the log: every record before it is committed or lost. Fixed until the oldest sector changes. */
function lowWater(ctx: LogContext): LowWater {
  if (ctx.low !== null) return ctx.low;
  if (ctx.oldestStart === undefined) return undefined;
  const r = nextRecord(ctx, { ...ctx.oldestStart });
  if (r === undefined) return undefined;
  ctx.low = { bootId: r.boot, seq: r.seq };
  return ctx.low;
}

/**
 * Moves the read pointer over what needs no ack (filler, BOOT records, damage, sector ends) and over
 * the records whose seq is at most `ackedThrough(boot)`. Leaving sectors marks the last one left freed
 * [LOG-5]: it and every older sector are committed (one program, never an erase).
 */
function advance(ctx: LogContext, ackedThrough: (boot: Uint8Array) => number): void {
  let r = ctx.readPtr;
  if (r === undefined) return;
  let left: number | undefined;
  for (;;) {
    if (atWrite(ctx, r)) break;
    const at = { ...r };
    const s = step(ctx, r);
    if (s.kind === 'end') {
      const leaving = r.sector;
      if (!nextSectorOf(ctx, r)) break;
      left = leaving;
      continue;
    }
    if (s.kind === 'record' && s.seq > ackedThrough(s.boot)) {
      r = at; // the first record not yet committed
      break;
    }
  }
  ctx.readPtr = r;
  if (left !== undefined) {
    const mark = new Uint8Array(ctx.geo.unit).fill(0xff).fill(0, 0, 4);
    ctx.flash.write(left * ctx.geo.sectorSize + FREED_OFFSET, mark); // [LOG-5] it and every older sector committed
    ctx.flash.sync();
    // the sector's start belongs to the boot that opened it (its header), not to the boot the read
    // pointer reached: a later boot may have written after a BOOT record in the same sector
    ctx.oldestStart = { ...r, offset: ctx.first, boot: headerBoot(ctx, r.sector) ?? r.boot };
    ctx.low = null;
  }
  if (ctx.cursor !== undefined && before(ctx.cursor, r)) ctx.cursor = { ...r };
}


/**
 * The host's acks, checked here whatever the caller checks [LOG-5]: not a whole number, refused;
 * beyond the last seq appended in this boot, clamped, so no ack can commit a record appended after
 * it. A 16-entry table per boot; forgetting an old entry only means a record is sent again.
 */
function createAckTable(bootHex: string, ctx: LogContext): { ack(boot: Uint8Array, through: number): AckResult } {
  const acked: Array<{ boot: string; through: number }> = [];
  const ackedThrough = (boot: Uint8Array) => {
    const hex = toHex(boot);
    for (const a of acked) if (a.boot === hex) return a.through;
    return -1;
  };
  return {
    ack(boot, through) {
      if (!(boot instanceof Uint8Array) || boot.length !== BOOT_ID_BYTES) return { ok: false, error: 'bad-ack', detail: `expected a ${BOOT_ID_BYTES}-byte boot id` };
      if (typeof through !== 'number' || !Number.isSafeInteger(through) || through < 0) return { ok: false, error: 'bad-ack', detail: `through must be a whole number >= 0, got ${String(through)}` };
      const hex = toHex(boot);
      let t = through;
      let clamped = false;
      if (hex === bootHex && t > ctx.nextSeq - 1) {
        if (ctx.nextSeq === 0) return { ok: false, error: 'bad-ack', detail: `nothing appended in this boot yet, got through ${through}` };
        t = ctx.nextSeq - 1;
        clamped = true;
      }
      const entry = acked.find((a) => a.boot === hex);
      if (entry !== undefined) entry.through = Math.max(entry.through, t);
      else {
        if (acked.length >= ACK_TABLE) acked.shift();
        acked.push({ boot: hex, through: t });
      }
      advance(ctx, ackedThrough);
      return { ok: true, clamped };
    },
  };
}

/** The seqs of this boot the runtime published live while a backlog was being drained: skipped by the drain. */
function createLiveRing(ctx: LogContext): { add(seq: number): void; has(boot: Uint8Array, seq: number): boolean; clear(): void } {
  const seqs = new Float64Array(LIVE_RING).fill(-1);
  let at = 0;
  return {
    add(seq) {
      seqs[at] = seq;
      at = (at + 1) % LIVE_RING;
    },
    has: (boot, seq) => seqs.indexOf(seq) >= 0 && ours(ctx, boot),
    clear: () => void seqs.fill(-1),
  };
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
