/**
 * Ingest: every vitals and history record a gateway publishes is parsed strictly (the envelope with
 * firmware/core/protocol, the record inside it once, with the batch codec), deduplicated on
 * (gateway, boot, seq) and committed to SQLite, its `body` stored exactly as the gateway stored it in
 * flash; only after the commit does the host publish `ack` through the highest contiguous seq of that
 * boot. Seqs reported lost (DROP records, or below the gateway log's low-water mark) count as
 * resolved, so the ack passes them (docs/protocol.md, `ack`).
 *
 * Records are committed in batched transactions: whatever arrived within `flushMs` (or `maxBatch`
 * records) goes in one transaction, one fsync, with the gateways' control messages (births, events,
 * command results: `queueControl`) that came meanwhile. Live records go first; history records take
 * at most `historyPerFlush` places in a transaction, the rest wait for the next one, so a ward
 * draining its backlogs does not delay any bed's live data. Bad payloads are refused with a counter and an error
 * event; they never throw out of here.
 *
 * What a gateway can make the host keep is bounded: a gateway boots a few times a day, so records
 * naming more than `newBootsPerHour` boot ids not seen before (12 an hour) are refused, not acked
 * (a real gateway keeps them in flash), and reported once an hour (`bootFlood`); the per-boot
 * frontiers kept in memory are capped (`maxBootsInMemory`, least recently used go; the database
 * holds them all).
 */
import { toHex } from '../firmware/core/hex.js';
import { parseDrop, parseHistory, parseVitals } from '../firmware/core/protocol/index.js';
import { decodeBatch, type VitalsBatch } from '../firmware/core/vitals/index.js';
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
  /** A commit went through (storage works). */
  committed?(): void;
  /** Whether a commit may be tried now (false while storage is failing, but once a second). */
  mayTry?(): boolean;
  /** A gateway named more new boot ids than it may (once an hour per gateway). */
  bootFlood?(gateway: string, perHour: number): void;
  /** Handles a queued control message inside the commit's transaction (a storage error aborts the commit). */
  control?(topic: string, payload: Uint8Array): void;
  /** The commit failed: these control messages were not handled. */
  controlFailed?(items: ReadonlyArray<readonly [string, Uint8Array]>): void;
}

export interface IngestStats {
  received: number;
  stored: number;
  duplicates: number;
  refused: number;
  commits: number;
  acksSent: number;
  storeErrors: number;
  /** Records refused for naming too many new boot ids. */
  bootFlood: number;
}

/** `alarmed`: the refusal has its own alarm (a boot-id flood), so it raises no generic one. */
export type Refusal = { readonly ok: false; readonly error: string; readonly alarmed?: true };

/** A record as the host takes it: its identity, and the batch (with its stored bytes) or a drop report. */
export type ParsedRecord =
  | {
      readonly ok: true;
      readonly bootId: Uint8Array;
      readonly seq: number;
      readonly historical: boolean;
      readonly lowWater: readonly [Uint8Array, number] | undefined;
      readonly record: { readonly kind: 'batch'; readonly body: Uint8Array; readonly batch: VitalsBatch } | { readonly kind: 'drop'; readonly drop: Omit<DropReport, 'gateway'> };
    }
  | Refusal;

/** Strict parse of a `vitals-record` or `history-record` (docs/protocol.md): the envelope, then the record in it, once. */
export function parseRecord(payload: Uint8Array, channel: 'vitals' | 'history'): ParsedRecord {
  const no = (error: string): Refusal => ({ ok: false, error });
  const env = channel === 'vitals' ? parseVitals(payload) : parseHistory(payload);
  if (!env.ok) return no(env.error);
  const { bootId, seq } = env.value;
  let lowWater: readonly [Uint8Array, number] | undefined;
  if ('lowWater' in env.value) {
    const lw = env.value.lowWater;
    lowWater = typeof lw === 'number' ? [bootId, lw] : lw;
  }
  const historical = channel === 'history';
  if ('drop' in env.value && env.value.drop !== undefined) {
    const d = parseDrop(env.value.drop);
    if (!d.ok) return no(d.error);
    return { ok: true, bootId, seq, historical, lowWater, record: { kind: 'drop', drop: { dropped: d.value.dropped, ranges: d.value.ranges, more: d.value.more } } };
  }
  const body = env.value.body!;
  const batch = decodeBatch(body);
  if (!batch.ok) return no(`${channel}-record.body: ${batch.error.detail}`);
  return { ok: true, bootId, seq, historical, lowWater, record: { kind: 'batch', body, batch: batch.value } };
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
  readonly parsed: Extract<ParsedRecord, { ok: true }>;
}

export interface IngestOptions {
  readonly now?: () => number;
  readonly flushMs?: number;
  readonly maxBatch?: number;
  readonly newBootsPerHour?: number;
  readonly maxBootsInMemory?: number;
  readonly historyPerFlush?: number;
}

const HOUR_MS = 3600_000;

export class Ingest {
  readonly stats: IngestStats = { received: 0, stored: 0, duplicates: 0, refused: 0, commits: 0, acksSent: 0, storeErrors: 0, bootFlood: 0 };
  private closed = false;
  private live: Pending[] = [];
  private history: Pending[] = [];
  private control: Array<readonly [string, Uint8Array]> = [];
  private readonly historyPerFlush: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly boots = new Map<string, BootState>();
  private readonly now: () => number;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly newBootsPerHour: number;
  private readonly maxBootsInMemory: number;
  /** Per gateway: when it named each boot id new to the host in the last hour, and when a flood was last reported. */
  private readonly newBoots = new Map<string, { times: number[]; reported: number }>();
  /** Boot ids queued but not yet committed (gateway/boot hex). */
  private readonly pendingBoots = new Set<string>();
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
    this.historyPerFlush = opts.historyPerFlush ?? 500;
    this.newBootsPerHour = opts.newBootsPerHour ?? 12;
    this.maxBootsInMemory = opts.maxBootsInMemory ?? 20_000;
    this.insertBatch = db.prepare('INSERT OR IGNORE INTO batches (gateway, boot_id, seq, t0, clock, serial, historical, received, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.insertGap = db.prepare('INSERT OR IGNORE INTO gaps (gateway, boot_id, first_seq, last_seq, reported) VALUES (?, ?, ?, ?, ?)');
    this.upsertBoot = db.prepare('INSERT INTO boots (gateway, boot_id, through, first_seen) VALUES (?, ?, ?, ?) ON CONFLICT (gateway, boot_id) DO UPDATE SET through = excluded.through');
    this.loadBoot = db.prepare<[string, Uint8Array], { through: number }>('SELECT through FROM boots WHERE gateway = ? AND boot_id = ?');
    this.loadAbove = db.prepare<[string, Uint8Array, number], { seq: number }>('SELECT seq FROM batches WHERE gateway = ? AND boot_id = ? AND seq > ?');
    this.loadGaps = db.prepare<[string, Uint8Array, number], { first_seq: number; last_seq: number }>('SELECT first_seq, last_seq FROM gaps WHERE gateway = ? AND boot_id = ? AND last_seq > ?');
    this.commit = db.transaction((items: Pending[], control: ReadonlyArray<readonly [string, Uint8Array]>, at: number) => {
      const r = this.apply(items, at);
      for (const [topic, payload] of control) this.hooks.control?.(topic, payload);
      return r;
    });
  }

  /** Takes one record; returns a refusal (already counted) when it is not a valid record. */
  receive(gateway: string, channel: 'vitals' | 'history', payload: Uint8Array): Refusal | undefined {
    if (this.closed) return undefined; // the host is stopping: not acked, sent again to the next one
    this.stats.received++;
    const parsed = parseRecord(payload, channel);
    if (!parsed.ok) {
      this.stats.refused++;
      return parsed;
    }
    const flood = this.admitBoots(gateway, parsed);
    if (flood !== undefined) {
      this.stats.refused++;
      this.stats.bootFlood++;
      return flood;
    }
    (parsed.historical ? this.history : this.live).push({ gateway, parsed });
    if (this.live.length >= this.maxBatch) this.flush();
    else this.schedule();
    return undefined;
  }

  /** A control message to handle in the next commit (hooks.control). */
  queueControl(topic: string, payload: Uint8Array): void {
    if (this.closed) return;
    this.control.push([topic, payload]);
    if (this.control.length >= this.maxBatch) this.flush();
    else this.schedule();
  }

  /** Records and control messages waiting for a commit. */
  get waiting(): number {
    return this.live.length + this.history.length + this.control.length;
  }

  private schedule(): void {
    if (this.timer === undefined && !this.closed) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  /** Commits what is queued, then acks. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting === 0 || this.closed) return;
    const items = this.live.concat(this.history.slice(0, this.historyPerFlush));
    const control = this.control;
    this.history = this.history.slice(this.historyPerFlush);
    this.live = [];
    this.control = [];
    if (this.history.length > 0) this.schedule(); // the rest of the backlog, after what came live meanwhile
    if (this.hooks.mayTry?.() === false) {
      // storage is failing: not even tried (each try may wait out the busy timeout). Nothing is
      // acked, so the gateways keep these records in flash and send them again.
      this.stats.storeErrors++;
      this.pendingBoots.clear();
      if (control.length > 0) this.hooks.controlFailed?.(control);
      return;
    }
    let result: { touched: Set<BootState>; stored: StoredBatch[]; drops: DropReport[] };
    try {
      result = this.commit(items, control, this.now()) as typeof result;
    } catch (e) {
      // nothing of this transaction is stored, so nothing is acked: the gateways keep the records and
      // send them again. The in-memory frontiers may have moved inside the failed transaction: reload.
      this.boots.clear();
      this.pendingBoots.clear();
      this.stats.storeErrors++;
      this.hooks.storeFailed?.(e as Error, items.length);
      if (control.length > 0) this.hooks.controlFailed?.(control);
      return;
    }
    this.stats.commits++;
    this.trimBoots();
    this.hooks.committed?.();
    const acks = [...result.touched].filter((b) => b.through >= 0).map((b) => ({ gateway: b.gateway, bootId: b.bootId, through: b.through }));
    this.stats.acksSent += acks.length;
    this.hooks.ack(acks);
    if (result.stored.length > 0) this.hooks.stored?.(result.stored);
    for (const d of result.drops) this.hooks.dropped?.(d);
  }

  /** Boot ids a record names that the host does not know yet count against the gateway's hourly bound. */
  private admitBoots(gateway: string, p: Extract<ParsedRecord, { ok: true }>): Refusal | undefined {
    const named = [p.bootId, ...(p.lowWater === undefined ? [] : [p.lowWater[0]]), ...(p.record.kind === 'drop' ? p.record.drop.ranges.map((r) => r[0]) : [])];
    const fresh = new Set<string>();
    for (const b of named) {
      const key = `${gateway}/${toHex(b)}`;
      if (this.boots.has(key) || this.pendingBoots.has(key) || fresh.has(key)) continue;
      if (this.loadBoot.get(gateway, b) !== undefined) continue;
      fresh.add(key);
    }
    if (fresh.size === 0) return undefined;
    const t = this.now();
    const w = this.newBoots.get(gateway) ?? { times: [], reported: -Infinity };
    w.times = w.times.filter((x) => t - x < HOUR_MS);
    if (w.times.length + fresh.size > this.newBootsPerHour) {
      if (t - w.reported >= HOUR_MS) {
        w.reported = t;
        this.hooks.bootFlood?.(gateway, w.times.length + fresh.size);
      }
      this.newBoots.set(gateway, w);
      return { ok: false, error: `more than ${this.newBootsPerHour} new boot ids from ${gateway} in an hour: refused (a gateway boots a few times a day)`, alarmed: true };
    }
    for (const k of fresh) {
      w.times.push(t);
      this.pendingBoots.add(k);
    }
    this.newBoots.set(gateway, w);
    return undefined;
  }

  /** Keeps at most maxBootsInMemory frontiers, dropping the least recently used (they reload from the database). */
  private trimBoots(): void {
    this.pendingBoots.clear();
    while (this.boots.size > this.maxBootsInMemory) this.boots.delete(this.boots.keys().next().value!);
    if (this.newBoots.size > this.maxBootsInMemory) {
      const t = this.now();
      for (const [g, w] of this.newBoots) if (w.times.every((x) => t - x >= HOUR_MS) && t - w.reported >= HOUR_MS) this.newBoots.delete(g);
    }
  }

  private boot(gateway: string, bootId: Uint8Array): BootState {
    const key = `${gateway}/${toHex(bootId)}`;
    let b = this.boots.get(key);
    if (b !== undefined) {
      this.boots.delete(key); // most recently used last: the map's order is the eviction order
      this.boots.set(key, b);
    } else {
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
    for (const { gateway, parsed: p } of items) {
      const b = this.boot(gateway, p.bootId);
      touched.add(b);
      const r = p.record;
      if (r.kind === 'batch') {
        // the body exactly as the gateway stored it in flash: no re-encoding on the way in
        const res = this.insertBatch.run(gateway, p.bootId, p.seq, r.batch.t0, r.batch.clock, r.batch.serial, p.historical ? 1 : 0, at, r.body);
        if (res.changes === 1) {
          this.stats.stored++;
          stored.push({ gateway, bootId: p.bootId, seq: p.seq, historical: p.historical, batch: r.batch });
        } else this.stats.duplicates++;
      } else {
        for (const [rb, first, last] of r.drop.ranges) {
          this.insertGap.run(gateway, rb, first, last, at);
          const target = this.boot(gateway, rb);
          target.lost.push([first, last]);
          touched.add(target);
        }
        drops.push({ gateway, ...r.drop });
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
    // boots with nothing left of them: their frontier guards nothing any more
    this.db.prepare('DELETE FROM boots WHERE first_seen < ? AND NOT EXISTS (SELECT 1 FROM batches WHERE batches.gateway = boots.gateway AND batches.boot_id = boots.boot_id)').run(cutoff);
    this.boots.clear();
    return { batches, events };
  }

  /** Commits what is waiting (history beyond one transaction's share is left for the gateways to send again) and stops. */
  close(): void {
    this.flush();
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
