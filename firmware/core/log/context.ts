/**
 * The open log's state, shared by its parts: positions in the ring, the counters stats() reports, and
 * the few helpers every part needs. Kept in one record so each part (reading, the spare and drops,
 * recovery at boot, the API) is a set of functions over it, each short enough to read.
 */
import type { Flash } from './flash.js';
import { alignUp, BOOT_ID_BYTES, RECORD_HEADER } from './format.js';
import type { Geometry } from './reader.js';

/** A place in the ring: a sector, its generation, an offset in it, and the boot its records there belong to. */
export interface Position {
  sector: number;
  gen: number;
  offset: number;
  boot: Uint8Array;
}

export interface Counters {
  torn: number;
  corrupt: number;
  corrected: number;
  dropped: number;
}

export type LowWater = { readonly bootId: Uint8Array; readonly seq: number } | undefined;

export interface LogContext {
  readonly flash: Flash;
  readonly geo: Geometry;
  /** Where a sector's first record goes. */
  readonly first: number;
  readonly bootId: Uint8Array;
  readonly counters: Counters;
  /** Per sector: 1 for a hole (both header copies beyond repair, inside the live range). */
  readonly holes: Uint8Array;
  /** Where damage and corrections were last counted, so a re-read does not count them again. */
  readonly seen: string[];
  /** Where the next record goes; undefined until the first sector is opened. */
  write: Position | undefined;
  /** The first record the host has not committed. */
  readPtr: Position | undefined;
  /** The next record to send. */
  cursor: Position | undefined;
  /** The start of the oldest live sector: the low-water mark is its first record. */
  oldestStart: Position | undefined;
  /** null: to be computed (the oldest sector changed). */
  low: LowWater | null;
  nextSeq: number;
}

export function ringNext(ctx: LogContext, s: number): number {
  return (s + 1) % ctx.geo.sectors;
}

/** Bytes a record of `payloadBytes` takes, in whole write units. */
export function span(ctx: LogContext, payloadBytes: number): number {
  return alignUp(RECORD_HEADER + payloadBytes, ctx.geo.unit);
}

/** Whether a boot id (a sector header's or a BOOT record's) is this boot's. */
export function ours(ctx: LogContext, boot: Uint8Array): boolean {
  if (boot === ctx.bootId) return true;
  for (let i = 0; i < BOOT_ID_BYTES; i++) if (boot[i] !== ctx.bootId[i]) return false;
  return true;
}

/** a before b in log order (generations compared as serial numbers). */
export function before(a: Position, b: Position): boolean {
  return a.gen !== b.gen ? ((a.gen - b.gen) | 0) < 0 : a.offset < b.offset;
}

export function atWrite(ctx: LogContext, p: Position): boolean {
  return ctx.write !== undefined && p.gen === ctx.write.gen && p.offset >= ctx.write.offset;
}

/** True the first time `what` at `pos` is seen (a bounded memory: an old one may count again). */
export function firstSight(ctx: LogContext, what: string, pos: Position): boolean {
  const key = `${what}${pos.gen}:${pos.offset}`;
  if (ctx.seen.indexOf(key) >= 0) return false;
  if (ctx.seen.length >= 32) ctx.seen.shift();
  ctx.seen.push(key);
  return true;
}
