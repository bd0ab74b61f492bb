/**
 * How many times a vitals record is encoded and decoded on its way from the device to the database
 * (issue 11): every CBOR encode and decode in this process is counted when it builds or yields a
 * record's sample columns. A real host (embedded broker, SQLite) and a Node-platform gateway, live
 * and through an outage (records drained from flash as history).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CborValue } from '../../firmware/core/cbor/index.js';
import type { Host } from '../../host/service.js';
import type { SitePaths } from '../../host/site.js';
import { makeSite, removeSite, provision, sleep, startGateway, startSiteHost, until, type TestGateway } from '../support/ward.js';

const counts = vi.hoisted(() => ({ encodes: 0, decodes: 0 }));

/** A record's body: integer keys, 4 its array of columns (docs/protocol.md, batch-body). */
function holdsRecord(v: unknown, depth = 0): boolean {
  if (depth > 4) return false;
  if (v instanceof Map) {
    if (v.has(1) && v.has(3) && Array.isArray(v.get(4))) return true;
    for (const x of v.values()) if (holdsRecord(x, depth + 1)) return true;
  }
  if (Array.isArray(v)) return v.some((x) => holdsRecord(x, depth + 1));
  return false;
}

vi.mock('../../firmware/core/cbor/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../firmware/core/cbor/index.js')>();
  return {
    ...real,
    encode(v: CborValue, ...rest: unknown[]) {
      if (holdsRecord(v)) counts.encodes++;
      return (real.encode as (...a: unknown[]) => Uint8Array)(v, ...rest);
    },
    decode(bytes: Uint8Array, ...rest: unknown[]) {
      const r = (real.decode as (...a: unknown[]) => ReturnType<typeof real.decode>)(bytes, ...rest);
      if (r.ok && holdsRecord(r.value)) counts.decodes++;
      return r;
    },
  };
});

let dir: string;
let paths: SitePaths;
let host: Host;
let gw: TestGateway;

beforeAll(async () => {
  ({ dir, paths } = makeSite('ward-codecs'));
  host = await startSiteHost(dir, paths);
});

afterAll(async () => {
  gw?.device.stop();
  await gw?.gw.stop();
  await host?.close();
  removeSite(dir);
});

describe('a vitals record on its way to the database', () => {
  it('is encoded once, on the gateway, and decoded once per arrival, on the host (live and drained from flash)', async () => {
    gw = startGateway({ site: paths, id: 'gw-1', kind: 'monitor', brokerUrl: host.brokerUrl, secret: provision(paths, 'gw-1'), seed: 5 });
    await until('live batches stored', () => host.ingest.stats.stored >= 5);
    gw.gw.network(false);
    await until('degraded', () => gw.gw.core.mode === 'degraded');
    await sleep(2000);
    expect(gw.gw.core.log.stats().used).toBeGreaterThan(0);
    gw.gw.network(true);
    await until('drained', () => gw.gw.core.mode === 'online' && gw.gw.core.log.stats().used === 0, 30_000);
    gw.device.stop(); // no new batches: every record encoded so far is in flash or stored
    await sleep(1000);
    await until('flash empty', () => gw.gw.core.log.stats().used === 0, 30_000);
    const stored = host.db.prepare("SELECT count(*) FROM batches WHERE gateway = 'gw-1'").pluck().get() as number;
    const historical = host.db.prepare("SELECT count(*) FROM batches WHERE gateway = 'gw-1' AND historical = 1").pluck().get() as number;
    const received = host.ingest.stats.received; // a record sent again (its ack was late) arrives twice
    console.log(`records stored ${stored} (${historical} drained from flash), received ${received}; record encodes ${counts.encodes}, record decodes ${counts.decodes}`);
    expect(historical).toBeGreaterThan(0);
    expect(host.ingest.stats.refused).toBe(0);
    expect(counts.encodes).toBe(stored); // once, on the gateway, into flash; sent as stored
    expect(counts.decodes).toBe(received); // once per arrival, on the host
  }, 60_000);
});
