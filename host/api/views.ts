/** How stored rows look in the API: a gateway, and a gateway's stored vitals batches decoded. */
import { toHex } from '../../firmware/core/hex.js';
import { decodeBatch, type VitalsBatch } from '../../firmware/core/vitals/index.js';
import type { GatewayRow, Host } from '../types.js';
import { intParam } from './router.js';

export function gatewayView(g: GatewayRow) {
  return {
    id: g.id,
    bed: g.bed,
    presence: g.presence,
    mode: g.mode,
    bdSeq: g.bd_seq,
    bootId: g.boot_id ? toHex(g.boot_id) : null,
    firmware: g.firmware,
    device: g.device_kind ? { kind: g.device_kind, model: g.device_model, serial: g.device_serial } : null,
    buffer: g.buffer_capacity === null ? null : { used: g.buffer_used, capacity: g.buffer_capacity, dropped: g.buffer_dropped },
    lastSeen: g.last_seen,
  };
}

export interface StoredBatch {
  readonly bootHex: string;
  readonly seq: number;
  readonly historical: boolean;
  readonly received: number;
  readonly batch: VitalsBatch;
}

/** Batches with t0 in [?from, ?to], the newest ?limit of them, oldest first; the one decode on the way out. */
export function storedBatches(host: Host, id: string, url: URL): StoredBatch[] {
  const from = intParam(url, 'from', 0, Number.MAX_SAFE_INTEGER);
  const to = intParam(url, 'to', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const limit = intParam(url, 'limit', 100, 2000);
  const rows = host.db
    .prepare<[string, number, number, number], { boot_id: Uint8Array; seq: number; historical: number; received: number; body: Uint8Array }>(
      'SELECT boot_id, seq, historical, received, body FROM batches WHERE gateway = ? AND t0 >= ? AND t0 <= ? ORDER BY t0 DESC, seq DESC LIMIT ?',
    )
    .all(id, from, to, limit)
    .reverse();
  return rows.flatMap((r) => {
    const b = decodeBatch(r.body);
    return b.ok ? [{ bootHex: toHex(r.boot_id), seq: r.seq, historical: r.historical === 1, received: r.received, batch: b.value }] : [];
  });
}
