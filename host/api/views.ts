/** A gateway's stored vitals batches decoded, as the API serves them (a gateway's and a command's views: host/views.ts). */
import { toHex } from '../../firmware/core/hex.js';
import { decodeBatch, type VitalsBatch } from '../../firmware/core/vitals/index.js';
import type { Host } from '../types.js';
import { intParam } from './router.js';

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
