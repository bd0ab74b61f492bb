/**
 * Writing, the spare sector and drops [LOG-1, LOG-3]. The ring keeps one sector erased ahead of the
 * newest. Opening it for writing makes the sector after it the next spare: if that one still holds
 * records the host has not committed (it is the oldest live sector), a DROP record naming them (and
 * the sector's generation) is written into the sector just opened and synced first; then the
 * victim's header copies are programmed to 0 (killed) and it is erased. A power cut anywhere leaves
 * either the records or the DROP record naming them; the boot finishes the job (recover.ts) and does
 * not write a DROP record twice for one sector.
 */
import { before, ours, ringNext, span, type LogContext, type Position } from './context.js';
import { countRecords, headerAt, nextSector, step } from './cursor.js';
import { decodeDrop, DropBuilder } from './drop.js';
import { allErased, BOOT_ID_BYTES, BOOT_SEQ, encodeRecord, encodeSectorHeader, KILL_BYTES, RecordType, type RecordTypeCode } from './format.js';

export function writeRecord(ctx: LogContext, type: RecordTypeCode, seq: number, payload: Uint8Array): void {
  const w = ctx.write!;
  const bytes = encodeRecord(type, seq, payload, ctx.geo.unit);
  ctx.flash.write(w.sector * ctx.geo.sectorSize + w.offset, bytes);
  ctx.flash.sync(); // [LOG-1] durable before append returns
  w.offset += bytes.length;
  if (type === RecordType.boot) w.boot = payload;
}

function sectorErased(ctx: LogContext, sector: number): boolean {
  return allErased(ctx.flash.read(sector * ctx.geo.sectorSize, ctx.geo.sectorSize));
}

/**
 * Makes `sector` the erased spare. If it is the oldest live sector, a DROP record naming what it holds
 * goes into the write sector first, unless one for its generation is there already (a power cut
 * interrupted this before).
 */
export function prepareSpare(ctx: LogContext, sector: number, alreadyDropped: ReadonlySet<number>): void {
  const h = headerAt(ctx, sector);
  const r = ctx.readPtr;
  if (r !== undefined && r.sector === sector && ctx.write !== undefined && r.gen !== ctx.write.gen) {
    if (!alreadyDropped.has(r.gen)) writeDrop(ctx, r);
    leaveOldest(ctx, sector);
  } else if (h.kind === 'damaged') {
    ctx.counters.corrupt += countRecords(ctx, sector, ctx.first);
  }
  if (h.kind === 'erased' && sectorErased(ctx, sector)) return;
  if (h.kind === 'valid' || h.kind === 'damaged') {
    ctx.flash.write(sector * ctx.geo.sectorSize, new Uint8Array(KILL_BYTES)); // [LOG-3] killed before the erase
    ctx.flash.sync();
  }
  ctx.flash.erase(sector);
}

/** The DROP record for the records of the oldest live sector from `from` on. */
function writeDrop(ctx: LogContext, from: Position): void {
  const pos: Position = { ...from };
  const drop = new DropBuilder();
  let own = 0;
  for (let r = step(ctx, pos); r.kind !== 'end'; r = step(ctx, pos)) {
    if (r.kind !== 'record') continue;
    own++;
    drop.record(r.boot, r.seq);
    if (r.type === RecordType.drop) {
      const earlier = decodeDrop(r.payload); // lost with this sector: its gaps carry forward
      if (earlier !== undefined) drop.carry(earlier);
    }
  }
  ctx.counters.dropped += own;
  if (drop.count === 0) return;
  const payload = drop.encode(from.gen);
  const w = ctx.write!;
  const needsBoot = !ours(ctx, w.boot);
  // only after damage beyond repair can this not fit: the low-water mark still tells the host
  if (w.offset + span(ctx, payload.length) + (needsBoot ? span(ctx, BOOT_ID_BYTES) : 0) > ctx.geo.sectorSize) return;
  if (needsBoot) writeRecord(ctx, RecordType.boot, BOOT_SEQ, ctx.bootId);
  writeRecord(ctx, RecordType.drop, ctx.nextSeq++, payload); // [LOG-3] the loss is named before the erase
}

/** The read pointer and the cursor leave the oldest live sector, which is about to be erased. */
function leaveOldest(ctx: LogContext, sector: number): void {
  const next: Position = { sector, gen: ctx.readPtr!.gen, offset: ctx.first, boot: ctx.readPtr!.boot };
  if (!nextSector(ctx, next)) return;
  ctx.readPtr = next;
  ctx.oldestStart = { ...next };
  ctx.low = null;
  if (ctx.cursor === undefined || before(ctx.cursor, next)) ctx.cursor = { ...next };
}

/** Opens the spare for writing (this boot's), then makes the sector after it the spare. */
export function openSector(ctx: LogContext): void {
  const target = ctx.write === undefined ? 0 : ringNext(ctx, ctx.write.sector);
  if (!(headerAt(ctx, target).kind === 'erased' && sectorErased(ctx, target))) prepareSpare(ctx, target, new Set());
  const gen = ctx.write === undefined ? 1 : (ctx.write.gen + 1) >>> 0;
  ctx.flash.write(target * ctx.geo.sectorSize, encodeSectorHeader(gen, ctx.bootId));
  ctx.flash.sync();
  ctx.holes[target] = 0;
  ctx.write = { sector: target, gen, offset: ctx.first, boot: ctx.bootId };
  if (ctx.readPtr === undefined) {
    ctx.readPtr = { ...ctx.write };
    ctx.cursor = { ...ctx.write };
    ctx.oldestStart = { ...ctx.write };
    ctx.low = null;
  }
  prepareSpare(ctx, ringNext(ctx, target), new Set());
}
