/**
 * A database that stops taking writes (issue 12, item 2): locked by another process past the busy
 * timeout, or failing (read-only here). The host must not crash, must say so (/api/health 503, a
 * stream message), must ack nothing it did not store, must keep the control messages that arrived
 * meanwhile and write them once storage works, and must then raise a technical alarm for the outage.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeEvent, topic } from '../../firmware/core/protocol/index.js';
import type { Host } from '../../host/service.js';
import { BUSY_TIMEOUT_MS } from '../../host/store/db.js';
import type { SitePaths } from '../../host/site.js';
import { makeSite, removeSite, provision, sleep, startGateway, startSiteHost, storedSeqs, until, type TestGateway } from '../support/ward.js';

let dir: string;
let paths: SitePaths;
let host: Host;
let monitor: TestGateway;

const uncaught: unknown[] = [];
process.on('uncaughtExceptionMonitor', (e) => uncaught.push(e));
afterEach(() => expect(uncaught.splice(0)).toEqual([]));

const health = async () => {
  const r = await fetch(`${host.httpUrl}/api/health`);
  return { status: r.status, json: (await r.json()) as { storage: { ok: boolean; error: string | null; queued: number } } };
};
const eventCodes = () => (host.db.prepare("SELECT code FROM events WHERE gateway = 'gw-x' ORDER BY id").pluck().all() as string[]).filter((c) => c.startsWith('probe-'));
const event = (code: string) => Buffer.from(encodeEvent({ bootId: new Uint8Array(16), t: 1, clock: 'boot', class: 'technical', code, priority: 'info', detail: new Map() }));

beforeAll(async () => {
  ({ dir, paths } = makeSite('ward-disk'));
  host = await startSiteHost(dir, paths);
  monitor = startGateway({ site: paths, id: 'gw-mon', kind: 'monitor', brokerUrl: host.brokerUrl, secret: provision(paths, 'gw-mon'), seed: 5 });
  await until('monitor stores', () => host.ingest.stats.stored >= 3);
});

afterAll(async () => {
  monitor?.device.stop();
  await monitor?.gw.stop();
  await host?.close();
  removeSite(dir);
});

async function outage(name: string, begin: () => void, end: () => void): Promise<void> {
  const c = await mqtt.connectAsync(host.brokerUrl, { clientId: `vigil-ward-disk-gw-x`, username: 'gw-x', password: provision(paths, 'gw-x'), reconnectPeriod: 0 });
  await c.publishAsync(topic(paths.site, 'gw-x', 'event'), event(`probe-${name}-0`), { qos: 1 });
  await until('first event stored', () => eventCodes().includes(`probe-${name}-0`));
  const ackedBefore = host.ingest.stats.acksSent;
  const began = Date.now();
  begin();
  for (let i = 1; i <= 5; i++) await c.publishAsync(topic(paths.site, 'gw-x', 'event'), event(`probe-${name}-${i}`), { qos: 1 });
  await c.publishAsync(topic(paths.site, 'gw-x', 'state'), Buffer.from('not a birth'), { qos: 1 }); // the refusal path writes too
  await until('health says storage is failing', async () => (await health()).status === 503);
  const h = await health();
  expect(h.json.storage.ok).toBe(false);
  expect(h.json.storage.error).toMatch(/SQLITE|locked|busy|readonly/i);
  await sleep(1500);
  // nothing stored, so nothing acked, while it lasts
  const acksDuring = host.ingest.stats.acksSent;
  await sleep(1500);
  expect(host.ingest.stats.acksSent).toBe(acksDuring);
  expect(acksDuring - ackedBefore).toBeLessThanOrEqual(1); // a commit already under way when it began
  end();
  await until('storage works again', async () => (await health()).status === 200, 15_000);
  await until('the events that came meanwhile are stored, in order', () => eventCodes().filter((c) => c.startsWith(`probe-${name}-`)).length === 6);
  expect(eventCodes().filter((c) => c.startsWith(`probe-${name}-`))).toEqual([0, 1, 2, 3, 4, 5].map((i) => `probe-${name}-${i}`));
  await until('an alarm records this outage', () => host.alarms.list(true, 'host').some((a) => a.code === 'storage-failed' && a.raised >= began));
  // the monitor's records: every seq once, none lost
  await until('monitor caught up', () => monitor.gw.core.log.stats().used === 0, 60_000);
  const seqs = [...storedSeqs(host, 'gw-mon').values()][0]!;
  expect(seqs).toEqual([...seqs.keys()]);
  await c.endAsync(true);
}

describe('a database that stops taking writes', () => {
  it('waits at most a short busy timeout for another process\'s lock', () => {
    expect(host.db.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS);
    expect(BUSY_TIMEOUT_MS).toBeLessThanOrEqual(250);
  });

  it('locked by another process: the host degrades, keeps what came, and recovers', async () => {
    const other = new Database(join(dir, 'vigil.db'));
    await outage('lock', () => other.exec('BEGIN IMMEDIATE'), () => {
      other.exec('COMMIT');
      other.close();
    });
  }, 90_000);

  it('failing writes (read-only): the same', async () => {
    await outage('readonly', () => host.db.pragma('query_only = ON'), () => host.db.pragma('query_only = OFF'));
  }, 90_000);
});
