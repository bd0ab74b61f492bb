/**
 * The gateway's vitals pipeline: device reports collected into batches, each batch appended to the
 * flash log (the one encode of a record), published live while the session is live, drained as
 * history otherwise, and freed only by the host's ack.
 *
 * The backlog drains through a window of records in flight that follows the ack round trip
 * (drain-window.ts), so a ward of gateways back from an outage cannot bury the host's live data.
 *
 * Timing: a live batch every `batchMs` (5 s); while the gateway cannot publish live, 60 s batches
 * (`outageBatchMs`), which fill the flash far more slowly. When the session becomes live again the
 * batch being collected goes out at once and live batches follow every `batchMs`, so live data never
 * waits for an outage batch to end.
 */
import { parseAck, encodeHistory, encodeVitals, type HistoryRecord } from '../protocol/index.js';
import type { VitalsLog } from '../log/index.js';
import { encodeBatch } from '../vitals/index.js';
import { createBatcher, type Batcher } from './batcher.js';
import { createDrainWindow } from './drain-window.js';
import type { EventChannel, GatewayEffect, GatewayStats, Publish, TimeSource } from './effects.js';

const ACK_STALL_MS = 30_000;

export interface VitalsOptions {
  readonly batchMs: number;
  readonly outageBatchMs: number;
  readonly drainEveryMs: number;
  readonly drainBatch: number;
}

export interface VitalsPipeline {
  readonly log: VitalsLog;
  /**
   * A device was identified: a new batcher for its metrics. The batch of the device identified before
   * (another device swapped in, or the same one saying hello again) is stored first, under its serial.
   */
  device(out: GatewayEffect[], now: number, live: boolean, serial: string, mdcs: readonly number[], sampleMs: number): void;
  add(row: ReadonlyMap<number, number | null>, now: number): void;
  start(now: number): void;
  /** The session became live: the batch being collected goes out now; the backlog is sent again from its oldest record. */
  goLive(out: GatewayEffect[], now: number): void;
  /** A connection opened: acks start afresh. */
  connected(now: number): void;
  tick(out: GatewayEffect[], now: number, live: boolean): void;
  /** An `ack` payload from the host. */
  ack(out: GatewayEffect[], now: number, payload: Uint8Array): void;
  hasBacklog(): boolean;
  wakeAt(live: boolean): number;
}

export function createVitalsPipeline(deps: {
  readonly log: VitalsLog;
  readonly options: VitalsOptions;
  readonly topics: { readonly vitals: string; readonly history: string };
  readonly time: TimeSource;
  readonly stats: GatewayStats;
  readonly events: EventChannel;
  /** Publishes when connected to the broker; false when not. */
  readonly publish: (out: GatewayEffect[], p: Publish) => boolean;
}): VitalsPipeline {
  const { log, options: o } = deps;
  let batcher: Batcher | undefined;
  let serial: string | undefined;
  let batchAt = 0;
  let drainAt = 0;
  let lastAckProgress = 0;
  const flow = createDrainWindow();

  function flush(out: GatewayEffect[], now: number, live: boolean): void {
    if (batcher === undefined || serial === undefined) return;
    const b = batcher.flush((m) => deps.time.time(m), serial);
    if (b === undefined) return;
    const body = encodeBatch(b);
    const r = log.append(body, live);
    if (!r.ok) {
      deps.events.emit(out, now, 'technical', 'batch-too-large', 'medium', [['bytes', body.length]]);
      return;
    }
    deps.stats.samplesLogged += b.columns[0]?.values.length ?? 0;
    if (live) deps.publish(out, { topic: deps.topics.vitals, payload: encodeVitals({ bootId: log.bootId, seq: r.seq, body }), qos: 1, retain: false });
  }

  function drain(out: GatewayEffect[], now: number): void {
    const n = Math.min(o.drainBatch, flow.room());
    for (let i = 0; i < n; i++) {
      const rec = log.next();
      if (rec === undefined) return;
      const low = rec.lowWater ?? { bootId: rec.bootId, seq: rec.seq };
      const sameBoot = low.bootId.length === rec.bootId.length && low.bootId.every((b, k) => b === rec.bootId[k]);
      const envelope: HistoryRecord = {
        bootId: rec.bootId,
        seq: rec.seq,
        lowWater: sameBoot ? low.seq : [low.bootId, low.seq],
        ...(rec.kind === 'data' ? { body: rec.payload } : { drop: rec.payload }),
      };
      deps.stats.historySent++;
      flow.sent(rec.bootId, rec.seq, now);
      deps.publish(out, { topic: deps.topics.history, payload: encodeHistory(envelope), qos: 1, retain: false });
    }
  }

  return {
    log,
    device(out, now, live, s, mdcs, sampleMs) {
      flush(out, now, live);
      serial = s;
      batcher = createBatcher(mdcs, sampleMs, 3600);
    },
    add(row, now) {
      if (batcher === undefined) return;
      batcher.add(row, now);
      deps.stats.samplesTaken++;
    },
    start(now) {
      batchAt = now + o.batchMs;
    },
    goLive(out, now) {
      log.rewind();
      flow.reset();
      flush(out, now, true);
      batchAt = now + o.batchMs;
    },
    connected(now) {
      lastAckProgress = now;
    },
    tick(out, now, live) {
      if (now >= batchAt) {
        flush(out, now, live);
        batchAt = now + (live ? o.batchMs : o.outageBatchMs);
      }
      if (live && now >= drainAt) {
        drain(out, now);
        drainAt = now + o.drainEveryMs;
        if (log.stats().used > 0 && now - lastAckProgress > ACK_STALL_MS) {
          log.rewind(); // acks stopped: send the unacknowledged records again (the host drops duplicates)
          flow.reset();
          lastAckProgress = now;
        }
      }
    },
    ack(out, now, payload) {
      const a = parseAck(payload);
      if (!a.ok) {
        deps.events.emit(out, now, 'security', 'ack-refused', 'medium', [['detail', a.error]]);
        return;
      }
      const before = log.stats().used;
      const r = log.ack(a.value.bootId, a.value.through);
      if (r.ok) flow.acked(a.value.bootId, a.value.through, now);
      // a record of this boot committed: every event published before it had arrived
      if (r.ok && a.value.bootId.length === log.bootId.length && a.value.bootId.every((b, i) => b === log.bootId[i])) deps.events.confirm(a.value.through);
      // an ack beyond what this boot appended is not the host's to give: clamped by the log, and reported
      if (!r.ok || r.clamped) deps.events.emit(out, now, 'security', 'ack-refused', 'medium', [['through', a.value.through], ['detail', r.ok ? 'beyond the last record appended; clamped' : r.detail]]);
      if (log.stats().used !== before) lastAckProgress = now;
    },
    hasBacklog: () => log.stats().used > 0,
    wakeAt: (live) => Math.min(batchAt, live && log.stats().used > 0 ? drainAt : Infinity),
  };
}
