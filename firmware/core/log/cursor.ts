/**
 * Moving through the log: one entry at a time inside a sector (reader.ts), and from a sector to the
 * next readable one of the ring (skipping holes). Damage is counted once however often it is passed.
 */
import { atWrite, firstSight, ringNext, type LogContext, type Position } from './context.js';
import { decodeSectorHeader, RecordType, SECTOR_HEADER, type RecordTypeCode, type SectorHeader } from './format.js';
import { readEntry, type Entry } from './reader.js';

export type Step = { kind: 'end' } | { kind: 'skip' } | { kind: 'record'; type: RecordTypeCode; seq: number; payload: Uint8Array; boot: Uint8Array };

export function headerAt(ctx: LogContext, sector: number): SectorHeader {
  return decodeSectorHeader(ctx.flash.read(sector * ctx.geo.sectorSize, SECTOR_HEADER));
}

export function headerBoot(ctx: LogContext, sector: number): Uint8Array | undefined {
  const h = headerAt(ctx, sector);
  return h.kind === 'valid' ? h.bootId : undefined;
}

export function entry(ctx: LogContext, pos: Position): Entry {
  const e = readEntry(ctx.flash, ctx.geo, pos.sector, pos.offset);
  if (e.kind === 'record' && e.corrected > 0 && firstSight(ctx, 'c', pos)) ctx.counters.corrected += e.corrected;
  return e;
}

function countDamage(ctx: LogContext, pos: Position): void {
  if (firstSight(ctx, 'd', pos)) ctx.counters.corrupt++;
}

/**
 * Steps `pos` over one entry. Returns the record, 'end' at the end of the sector's records (or where
 * its chain breaks: the rest of that sector is lost), or 'skip' for filler, a BOOT record or a record
 * damaged beyond repair.
 */
export function step(ctx: LogContext, pos: Position): Step {
  const e = entry(ctx, pos);
  if (e.kind === 'end') return { kind: 'end' };
  if (e.kind === 'broken') {
    countDamage(ctx, pos);
    return { kind: 'end' };
  }
  if (e.kind === 'filler') {
    pos.offset = e.next;
    return { kind: 'skip' };
  }
  const at = { ...pos };
  pos.offset = e.next;
  if (e.payload === undefined) {
    countDamage(ctx, at);
    return { kind: 'skip' };
  }
  if (e.type === RecordType.boot) {
    pos.boot = e.payload;
    return { kind: 'skip' };
  }
  return { kind: 'record', type: e.type, seq: e.seq, payload: e.payload, boot: pos.boot };
}

/** Moves `pos` to the start of the next readable sector; false when there is none (it is the write sector). */
export function nextSector(ctx: LogContext, pos: Position): boolean {
  const write = ctx.write;
  if (write === undefined || ((pos.gen - write.gen) | 0) >= 0) return false;
  let s = ringNext(ctx, pos.sector);
  let gen = (pos.gen + 1) >>> 0;
  while (ctx.holes[s] === 1 && gen !== write.gen) {
    s = ringNext(ctx, s);
    gen = (gen + 1) >>> 0;
  }
  const boot = headerBoot(ctx, s);
  if (boot === undefined) return false;
  pos.sector = s;
  pos.gen = gen;
  pos.offset = ctx.first;
  pos.boot = boot;
  return true;
}

/** The next record from `pos` on, across sectors, or undefined at the write position. */
export function nextRecord(ctx: LogContext, pos: Position): Extract<Step, { kind: 'record' }> | undefined {
  for (;;) {
    if (atWrite(ctx, pos)) return undefined;
    const r = step(ctx, pos);
    if (r.kind === 'end') {
      if (!nextSector(ctx, pos)) return undefined;
      continue;
    }
    if (r.kind === 'record') return r;
  }
}

/** Counts the intact records of `sector` from `offset` (a hole or a damaged sector, for stats). */
export function countRecords(ctx: LogContext, sector: number, offset: number): number {
  let n = 0;
  for (let o = offset; ; ) {
    const e = readEntry(ctx.flash, ctx.geo, sector, o);
    if (e.kind === 'end' || e.kind === 'broken') return n;
    if (e.kind === 'record' && e.type !== RecordType.boot && e.payload !== undefined) n++;
    o = e.next;
  }
}
