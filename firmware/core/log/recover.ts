/**
 * The boot scan [LOG-4]: the ring as found (ring.ts), the newest sector's records walked to where they
 * end, anything programmed past them (a torn record, a fill cut short, a flipped erased bit) made
 * filler, the oldest live sector found, and the spare made ready if a power cut left that undone.
 */
import { ringNext, type LogContext, type Position } from './context.js';
import { countRecords, entry, headerBoot } from './cursor.js';
import { decodeDrop } from './drop.js';
import { RecordType } from './format.js';
import { programmedEnd } from './reader.js';
import { scanRing } from './ring.js';
import { prepareSpare } from './spare.js';

export interface BootScan {
  readonly sectors: number;
  readonly liveSectors: number;
  readonly headerReads: number;
  readonly torn: number;
}

/** Walks the newest sector from its start: where its records end, and the generations its DROP records name. */
function walkNewest(ctx: LogContext, start: Position): Set<number> {
  const drops = new Set<number>();
  const pos = start;
  for (;;) {
    const e = entry(ctx, pos);
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
      if (d?.sector !== undefined) drops.add(d.sector);
    }
  }
  return drops;
}

/** Anything programmed after the last whole record becomes filler, so the chain of lengths steps over it. */
function fillTornTail(ctx: LogContext, pos: Position): void {
  const end = programmedEnd(ctx.flash, ctx.geo, pos.sector, pos.offset);
  if (end <= pos.offset) return;
  const unit = ctx.geo.unit;
  const from = pos.offset - (pos.offset % unit); // a fill cut short may leave the chain mid-unit
  ctx.flash.write(pos.sector * ctx.geo.sectorSize + from, new Uint8Array(end - from));
  ctx.flash.sync();
  ctx.counters.torn++;
  pos.offset = end;
}

/** Sets the context's positions from what the flash holds; repairs what a power cut left. */
export function recover(ctx: LogContext): BootScan {
  const { sectors } = ctx.geo;
  const ring = scanRing(ctx.flash, ctx.geo);
  ctx.counters.corrected += ring.corrected;
  for (const s of ring.holes) {
    ctx.holes[s] = 1;
    ctx.counters.corrupt += countRecords(ctx, s, ctx.first);
  }
  const n = ring.newest;
  if (n === undefined) return { sectors, liveSectors: 0, headerReads: sectors, torn: 0 };
  const write: Position = { sector: n.sector, gen: n.gen, offset: ctx.first, boot: n.bootId };
  const dropsInNewest = walkNewest(ctx, write);
  fillTornTail(ctx, write);
  ctx.write = write;
  // the oldest sector still holding records the host has not committed; the spare's place, if a power
  // cut left it live (the ring full, the drop not finished)
  const oldest = (n.sector - ring.liveBack + sectors) % sectors;
  const spare = ringNext(ctx, n.sector);
  const h = ring.headers[spare]!;
  const spareGen = (n.gen + 1 - sectors) >>> 0;
  if (n.freed) ctx.readPtr = { ...write };
  else if (ring.liveBack === sectors - 2 && h.kind === 'valid' && h.generation === spareGen && !h.freed) ctx.readPtr = { sector: spare, gen: spareGen, offset: ctx.first, boot: h.bootId };
  else ctx.readPtr = { sector: oldest, gen: (n.gen - ring.liveBack) >>> 0, offset: ctx.first, boot: ring.liveBack === 0 ? n.bootId : headerBoot(ctx, oldest)! };
  ctx.cursor = { ...ctx.readPtr };
  ctx.oldestStart = { ...ctx.readPtr, offset: ctx.first };
  const liveSectors = n.freed ? 0 : ((write.gen - ctx.readPtr.gen) >>> 0) + 1;
  prepareSpare(ctx, spare, dropsInNewest);
  return { sectors, liveSectors, headerReads: sectors, torn: ctx.counters.torn };
}
