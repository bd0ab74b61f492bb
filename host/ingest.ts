/**
 * Ingest: every vitals and history record a gateway publishes is decoded strictly, deduplicated on
 * (gateway, boot, seq) and committed to SQLite; only after the commit does the host publish `ack`
 * through the highest contiguous seq of that boot. Seqs reported lost (drop ranges, or below the
 * gateway log's low-water mark) count as resolved, so the ack passes them (docs/protocol.md, `ack`).
 *
 * Records are committed in batched transactions: whatever arrived within `flushMs` (or `maxBatch`
 * records) goes in one transaction, one fsync. Bad payloads are refused with a counter and an error
 * event; they never throw out of here.
 */
import { decode, type CborValue } from '../firmware/core/cbor/index.js';
import { toHex } from '../firmware/core/hex.js';
import { batchFromMap, type VitalsBatch } from '../firmware/core/vitals/index.js';
import type { Db } from './store/db.js';

export interface AckOut {
  readonly gateway: string;
  readonly bootId: Uint8Array;
  readonly through: number;
}

export interface StoredBatch {
  readonly gateway: string;
  readonly bootId: Uint8Array;
  readonly seq: number;
  readonly historical: boolean;
  readonly batch: VitalsBatch;
}

export interface DropReport {
  readonly gateway: string;
  readonly dropped: number;
  readonly ranges: ReadonlyArray<readonly [Uint8Array, number, number]>;
  readonly more: boolean;
}

export interface IngestHooks {
  /** After the commit: acks to publish. */
  ack(acks: readonly AckOut[]): void;
  /** After the commit: batches stored for the first time (not duplicates). */
  stored?(batches: readonly StoredBatch[]): void;
  dropped?(report: DropReport): void;
  /** A transaction failed (disk full, I/O error): nothing of it was acked. */
  storeFailed?(error: Error, records: number): void;
}

export interface IngestStats {
  received: number;
  stored: number;
  duplicates: number;
  refused: number;
  commits: number;
  acksSent: number;
  storeErrors: number;
}

export type Refusal = { readonly ok: false; readonly error: string };
type Parsed =
  | { readonly ok: true; readonly bootId: Uint8Array; readonly seq: number; readonly historical: boolean; readonly lowWater: readonly [Uint8Array, number] | undefined; readonly batch: VitalsBatch | undefined; readonly drop: Omit<DropReport, 'gateway'> | undefined }
  | Refusal;

const MAX_PAYLOAD = 16 * 1024;

function bootOf(v: CborValue | undefined): Uint8Array | undefined {
  return v instanceof Uint8Array && v.length === 16 ? v : undefined;
}

function uint(v: CborValue | undefined): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** Strict parse of a `vitals-batch` or `history-record` (docs/protocol.md). */
export function parseRecord(payload: Uint8Array, channel: 'vitals' | 'history'): Parsed {
  const no = (error: string): Refusal => ({ ok: false, error });
  if (payload.length > MAX_PAYLOAD) return no(`payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  const r = decode(payload, { maxDepth: 6, maxLength: 4096 });
  if (!r.ok) return no(`CBOR: ${r.error.type} at byte ${r.error.offset}`);
  const m = r.value;
  if (!(m instanceof Map)) return no('a record is a CBOR map');
  const bootId = bootOf(m.get('bootId'));
  const seq = uint(m.get('seq'));
  if (bootId === undefined) return no('bootId must be 16 bytes');
  if (seq === undefined) return no('seq must be an unsigned integer');
  const historical = m.get('historical');
  if (channel === 'history' && historical !== true) return no('a history record carries historical: true');
  if (channel === 'vitals' && historical !== undefined) return no('a live batch carries no historical flag');
  let lowWater: readonly [Uint8Array, number] | undefined;
  if (channel === 'history') {
    const lw = m.get('lowWater');
    const lwBoot = Array.isArray(lw) && lw.length === 2 ? bootOf(lw[0]) : undefined;
    const lwSeq = Array.isArray(lw) && lw.length === 2 ? uint(lw[1]) : undefined;
    if (lwBoot === undefined || lwSeq === undefined) return no('lowWater must be [bootId, seq]');
    lowWater = [lwBoot, lwSeq];
  }
  if (m.has('dropped')) {
    if (channel !== 'history') return no('drop reports come only on history');
    const d = m.get('dropped');
    if (!(d instanceof Map)) return no('dropped must be a map');
    const count = uint(d.get('dropped'));
    const ranges = d.get('ranges');
    const more = d.get('more');
    if (count === undefined || !Array.isArray(ranges) || typeof more !== 'boolean' || ranges.length > 4) return no('dropped must hold dropped, ranges (at most 4) and more');
    const out: Array<readonly [Uint8Array, number, number]> = [];
    for (const x of ranges as CborValue[]) {
      const b = Array.isArray(x) && x.length === 3 ? bootOf(x[0]) : undefined;
      const first = Array.isArray(x) ? uint(x[1]) : undefined;
      const last = Array.isArray(x) ? uint(x[2]) : undefined;
      if (b === undefined || first === undefined || last === undefined || last < first) return no('each drop range is [bootId, first, last]');
      out.push([b, first, last]);
    }
    return { ok: true, bootId, seq, historical: true, lowWater, batch: undefined, drop: { dropped: count, ranges: out, more } };
  }
  for (const k of m.keys()) {
    if (typeof k !== 'string' || !['bootId', 'seq', 'historical', 'lowWater', 't0', 'clock', 'serial', 'metrics'].includes(k)) return no(`unexpected key ${String(k)}`);
  }
  const batch = batchFromMap(m);
  if (!batch.ok) return no(`batch: ${batch.error.detail}`);
  return { ok: true, bootId, seq, historical: channel === 'history', lowWater, batch: batch.value, drop: undefined };
}

/** Per (gateway, boot): the contiguous frontier and what is resolved beyond it. */
interface BootState {
  readonly gateway: string;
  readonly bootId: Uint8Array;
  through: number;
  /** Every seq below this is resolved (the log's low-water mark). */
  floor: number;
  readonly above: Set<number>;
  readonly lost: Array<[number, number]>;
}

interface Pending {
  readonly gateway: string;
  readonly payload: Uint8Array;
  readonly parsed: Extract<Parsed, { ok: true }>;
}

export interface IngestOptions {
  readonly now?: () => number;
  readonly flushMs?: number;
  readonly maxBatch?: number;
}

export class Ingest {
  readonly stats: IngestStats = { received: 0, stored: 0, duplicates: 0, refused: 0, commits: 0, acksSent: 0, storeErrors: 0 };
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly boots = new Map<string, BootState>();
  private readonly now: () => number;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly insertBatch;
  private readonly insertGap;
  private readonly upsertBoot;
  private readonly loadBoot;
  private readonly loadAbove;
  private readonly loadGaps;
  private readonly commit;

  constructor(private readonly db: Db, private readonly hooks: IngestHooks, opts: IngestOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.flushMs = opts.flushMs ?? 15;
    this.maxBatch = opts.maxBatch ?? 2000;
    this.insertBatch = db.prepare('INSERT OR IGNORE INTO batches (gateway, boot_id, seq, t0, clock, serial, historical, received, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.insertGap = db.prepare('INSERT OR IGNORE INTO gaps (gateway, boot_id, first_seq, last_seq, reported) VALUES (?, ?, ?, ?, ?)');
    this.upsertBoot = db.prepare('INSERT INTO boots (gateway, boot_id, through, first_seen) VALUES (?, ?, ?, ?) ON CONFLICT (gateway, boot_id) DO UPDATE SET through = excluded.through');
    this.loadBoot = db.prepare<[string, Uint8Array], { through: number }>('SELECT through FROM boots WHERE gateway = ? AND boot_id = ?');
    this.loadAbove = db.prepare<[string, Uint8Array, number], { seq: number }>('SELECT seq FROM batches WHERE gateway = ? AND boot_id = ? AND seq > ?');
    this.loadGaps = db.prepare<[string, Uint8Array, number], { first_seq: number; last_seq: number }>('SELECT first_seq, last_seq FROM gaps WHERE gateway = ? AND boot_id = ? AND last_seq > ?');
    this.commit = db.transaction((items: Pending[], at: number) => this.apply(items, at));
  }

  /** Takes one record; returns a refusal (already counted) when it is not a valid record. */
  receive(gateway: string, channel: 'vitals' | 'history', payload: Uint8Array): Refusal | undefined {
    this.stats.received++;
    const parsed = parseRecord(payload, channel);
    if (!parsed.ok) {
      this.stats.refused++;
      return parsed;
    }
    this.queue.push({ gateway, payload, parsed });
    if (this.queue.length >= this.maxBatch) this.flush();
    else if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), this.flushMs);
    return undefined;
  }

  /** Commits what is queued, then acks. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const items = this.queue;
    this.queue = [];
    let result: { touched: Set<BootState>; stored: StoredBatch[]; drops: DropReport[] };
    try {
      result = this.commit(items, this.now()) as typeof result;
    } catch (e) {
      // nothing of this transaction is stored, so nothing is acked: the gateways keep the records and
      // send them again. The in-memory frontiers may have moved inside the failed transaction: reload.
      this.boots.clear();
      this.stats.storeErrors++;
      this.hooks.storeFailed?.(e as Error, items.length);
      return;
    }
    this.stats.commits++;
    const acks = [...result.touched].filter((b) => b.through >= 0).map((b) => ({ gateway: b.gateway, bootId: b.bootId, through: b.through }));
    this.stats.acksSent += acks.length;
    this.hooks.ack(acks);
    if (result.stored.length > 0) this.hooks.stored?.(result.stored);
    for (const d of result.drops) this.hooks.dropped?.(d);
  }

  private boot(gateway: string, bootId: Uint8Array): BootState {
    const key = `${gateway}/${toHex(bootId)}`;
    let b = this.boots.get(key);
    if (b === undefined) {
      const row = this.loadBoot.get(gateway, bootId);
      const through = row?.through ?? -1;
      b = { gateway, bootId, through, floor: 0, above: new Set(), lost: [] };
      if (row !== undefined) {
        for (const r of this.loadAbove.all(gateway, bootId, through)) b.above.add(r.seq);
        for (const g of this.loadGaps.all(gateway, bootId, through)) b.lost.push([g.first_seq, g.last_seq]);
      }
      this.boots.set(key, b);
    }
    return b;
  }

  private advance(b: BootState): void {
    for (;;) {
      const next = b.through + 1;
      if (next < b.floor || b.above.delete(next)) {
        b.through = next;
        continue;
      }
      const range = b.lost.find(([first, last]) => first <= next && next <= last);
      if (range !== undefined) {
        b.through = range[1];
        continue;
      }
      break;
    }
    for (const s of b.above) if (s <= b.through) b.above.delete(s);
    for (let i = b.lost.length - 1; i >= 0; i--) if (b.lost[i]![1] <= b.through) b.lost.splice(i, 1);
  }

  private apply(items: Pending[], at: number): { touched: Set<BootState>; stored: StoredBatch[]; drops: DropReport[] } {
    const touched = new Set<BootState>();
    const stored: StoredBatch[] = [];
    const drops: DropReport[] = [];
    for (const { gateway, payload, parsed: p } of items) {
      const b = this.boot(gateway, p.bootId);
      touched.add(b);
      if (p.batch !== undefined) {
        const res = this.insertBatch.run(gateway, p.bootId, p.seq, p.batch.t0, p.batch.clock, p.batch.serial, p.historical ? 1 : 0, at, payload);
        if (res.changes === 1) {
          this.stats.stored++;
          stored.push({ gateway, bootId: p.bootId, seq: p.seq, historical: p.historical, batch: p.batch });
        } else this.stats.duplicates++;
      } else if (p.drop !== undefined) {
        for (const [rb, first, last] of p.drop.ranges) {
          this.insertGap.run(gateway, rb, first, last, at);
          const target = this.boot(gateway, rb);
          target.lost.push([first, last]);
          touched.add(target);
        }
        drops.push({ gateway, ...p.drop });
      }
      if (p.seq > b.through) b.above.add(p.seq);
      if (p.lowWater !== undefined) {
        const lw = this.boot(gateway, p.lowWater[0]);
        lw.floor = Math.max(lw.floor, p.lowWater[1]);
        touched.add(lw);
      }
    }
    for (const b of touched) {
      this.advance(b);
      this.upsertBoot.run(b.gateway, b.bootId, b.through, at);
    }
    return { touched, stored, drops };
  }

  /** Deletes batches, events and gaps received before `cutoff` (host ms). */
  purge(cutoff: number): { batches: number; events: number } {
    const batches = this.db.prepare('DELETE FROM batches WHERE received < ?').run(cutoff).changes;
    const events = this.db.prepare('DELETE FROM events WHERE received < ?').run(cutoff).changes;
    this.db.prepare('DELETE FROM gaps WHERE reported < ?').run(cutoff);
    return { batches, events };
  }

  close(): void {
    this.flush();
  }
}
