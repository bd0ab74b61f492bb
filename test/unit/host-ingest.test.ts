/**
 * The host service end to end through its embedded aedes broker, with Node-platform gateways that
 * log in with their provisioned secrets: ingest with acks after commit, presence, an outage with
 * nothing lost and nothing stored twice, drop reports stored as gaps, and alarms.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import fc from 'fast-check';
import { encode } from '../../firmware/core/cbor/index.js';
import { encodeEvent, topic, type Channel } from '../../firmware/core/protocol/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../host/service.js';
import type { SitePaths } from '../../host/site.js';
import { makeSite, removeSite, provision, sleep, startGateway, startSiteHost, storedSeqs, until, type TestGateway } from '../support/ward.js';

let dir: string;
let paths: SitePaths;
let host: Host;
const gws: TestGateway[] = [];

beforeAll(async () => {
  ({ dir, paths } = makeSite());
  host = await startSiteHost(dir, paths);
  gws.push(startGateway({ site: paths, id: 'gw-1', kind: 'monitor', brokerUrl: host.brokerUrl, secret: provision(paths, 'gw-1'), seed: 1 }));
  gws.push(startGateway({ site: paths, id: 'gw-2', kind: 'pump', brokerUrl: host.brokerUrl, secret: provision(paths, 'gw-2'), seed: 2 }));
});

afterAll(async () => {
  for (const g of gws) {
    g.device.stop();
    await g.gw.stop();
  }
  await host?.close();
  removeSite(dir);
});

describe('host ingest through the embedded broker', () => {
  it('takes gateways online from their births and commits their live batches, acking so their flash empties', async () => {
    await until('both online', () => host.gateways().filter((g) => g.presence === 'online').length === 2);
    await until('batches stored', () => host.ingest.stats.stored >= 6);
    await until('acks empty the logs', () => gws.every((g) => g.gw.core.log.stats().used === 0 && g.gw.core.mode === 'online'));
    const g1 = host.gateway('gw-1')!;
    expect(g1.device_kind).toBe('monitor');
    expect(g1.device_serial).toBe('MONITOR-gw-1');
    expect(g1.nonce).toHaveLength(16);
  });

  it('loses nothing and stores nothing twice when a gateway\'s network drops and returns', async () => {
    const g = gws[0]!;
    const boot = () => [...storedSeqs(host, 'gw-1').keys()];
    g.gw.network(false);
    await until('gw-1 degraded', () => g.gw.core.mode === 'degraded');
    await sleep(2500); // batches go to flash
    expect(g.gw.core.log.stats().used).toBeGreaterThan(0);
    g.gw.network(true);
    await until('drained and acked', () => g.gw.core.mode === 'online' && g.gw.core.log.stats().used === 0, 30_000);
    expect(boot()).toHaveLength(1); // the same boot throughout: no reboot
    const seqs = storedSeqs(host, 'gw-1').get(boot()[0]!)!;
    expect(seqs).toEqual([...Array(seqs.length).keys()]); // 0..n, each once
    const historical = host.db.prepare("SELECT count(*) FROM batches WHERE gateway = 'gw-1' AND historical = 1").pluck().get() as number;
    expect(historical).toBeGreaterThan(0);
  }, 60_000);

  it('loses nothing and stores nothing twice across a broker and host restart (gateways rebooted onto it)', async () => {
    const before = host.ingest.stats.stored;
    await host.broker!.close(); // the whole broker goes away: a network outage for everyone
    await until('gateways degraded', () => gws.every((g) => g.gw.core.mode === 'degraded'));
    await sleep(3000);
    expect(gws[0]!.gw.core.log.stats().used).toBeGreaterThan(0);
    await host.close();
    // the host comes back on the same database (and a new broker on a new port): the gateways reconnect to it
    host = await startSiteHost(dir, paths);
    for (const g of gws) {
      g.device.stop();
      await g.gw.stop();
    }
    // same flash and store: the gateway reboots into the new broker address, as after a power cycle
    const again = gws.splice(0).map((g, i) => startGateway({ site: paths, id: g.id, kind: i === 0 ? 'monitor' : 'pump', brokerUrl: host.brokerUrl, secret: provision(paths, g.id), seed: 10 + i, flash: g.flash, store: g.store }));
    gws.push(...again);
    await until('backlog drained and acked', () => gws.every((g) => g.gw.core.mode === 'online' && g.gw.core.log.stats().used === 0), 40_000);
    expect(host.ingest.stats.stored).toBeGreaterThan(0);
    expect(before).toBeGreaterThan(0);
    for (const g of gws) {
      for (const [boot, seqs] of storedSeqs(host, g.id)) {
        // every seq of every boot from 0 up to the highest, each exactly once (the primary key forbids twice)
        expect({ boot, missing: [...Array(seqs.at(-1)! + 1).keys()].filter((s) => !seqs.includes(s)) }).toEqual({ boot, missing: [] });
      }
    }
    const historical = host.db.prepare("SELECT count(*) AS n FROM batches WHERE historical = 1 AND gateway = 'gw-2'").get() as { n: number };
    expect(historical.n).toBeGreaterThan(0);
  }, 90_000);

  it('keeps presence from births, deaths and heartbeats', async () => {
    const g = gws[1]!;
    g.device.stop();
    await g.gw.stop(); // ends the connection: the broker publishes the will (death with the current bdSeq)
    await until('gw-2 offline', () => host.gateway('gw-2')!.presence === 'offline');
    await until('offline alarm', () => host.alarms.list(true, 'gw-2').some((a) => a.code === 'gateway-offline'));
  });

  it('raises a clinical alarm from per-bed limits, and it clears when vitals return to range', async () => {
    host.setLimits('gw-1', [{ metric: 'hr', low: 200, priority: 'medium' }]);
    await until('limit alarm', () => host.alarms.list(true, 'gw-1').some((a) => a.code === 'limit-hr'));
    const a = host.alarms.list(true, 'gw-1').find((x) => x.code === 'limit-hr')!;
    expect(a.class).toBe('clinical');
    expect(a.priority).toBe('medium');
    host.setLimits('gw-1', [{ metric: 'hr', low: 10, priority: 'medium' }]);
    await until('limit alarm clears', () => !host.alarms.list(true, 'gw-1').some((x) => x.code === 'limit-hr'));
  });

  it('answers malformed payloads of every kind on every channel with an error event and a counter, and keeps ingesting', async () => {
    const secret = provision(paths, 'gw-x');
    const c = await mqtt.connectAsync(host.brokerUrl, { clientId: `vigil-${paths.site}-gw-x`, username: 'gw-x', password: secret, reconnectPeriod: 0 });
    const bad: Array<[Channel, Uint8Array]> = [
      ['vitals', new Uint8Array([0xff, 0x00])],
      ['history', encode([1, 2, 3])],
      ['state', encode(new Map([['online', 'yes']]))],
      ['state', new Uint8Array(0)],
      ['event', encode(new Map([['class', 'made-up']]))],
      ['cmd/result', encode('nope')],
    ];
    for (const [ch, p] of bad) await c.publishAsync(topic(paths.site, 'gw-x', ch), Buffer.from(p), { qos: 1 });
    // and a fuzz run of random payloads on the gateway's channels
    const payloads = fc.sample(fc.uint8Array({ maxLength: 200 }), { numRuns: 300, seed: 11 });
    const channels: Channel[] = ['vitals', 'history', 'state', 'event', 'cmd/result'];
    for (const [i, p] of payloads.entries()) c.publish(topic(paths.site, 'gw-x', channels[i % channels.length]!), Buffer.from(p), { qos: 1 });
    await c.publishAsync(topic(paths.site, 'gw-x', 'event'), Buffer.from(randomBytes(8)), { qos: 1 });
    await until('every bad payload counted', () => Object.values(host.counters.refused).reduce((a, b) => a + b, 0) >= bad.length + 300);
    for (const ch of channels) expect(host.counters.refused[ch]).toBeGreaterThan(0);
    const events = host.db.prepare("SELECT detail FROM events WHERE gateway = 'gw-x' AND code = 'host-refused-payload'").all() as Array<{ detail: string }>;
    expect(events.length).toBeGreaterThanOrEqual(channels.length); // one stored event per channel per 10 s; every one counted
    expect(JSON.parse(events[0]!.detail)).toHaveProperty('error');
    // a flood of events from one gateway is cut off, counted, and stores at most the allowed number
    const storedBefore = host.db.prepare("SELECT count(*) FROM events WHERE gateway = 'gw-x' AND code = 'flood-test'").pluck().get() as number;
    const ev = encodeEvent({ bootId: new Uint8Array(16), t: 1, clock: 'boot', class: 'technical', code: 'flood-test', priority: 'info', detail: new Map() });
    const refusedBefore = host.counters.refused.event ?? 0;
    const floodStored = () => (host.db.prepare("SELECT count(*) FROM events WHERE gateway = 'gw-x' AND code = 'flood-test'").pluck().get() as number) - storedBefore;
    for (let i = 0; i < 300; i++) c.publish(topic(paths.site, 'gw-x', 'event'), Buffer.from(ev), { qos: 1 });
    await until('every flood event stored or refused', () => floodStored() + (host.counters.refused.event ?? 0) - refusedBefore === 300);
    // at most 100 per 10 s window; the flood may straddle two windows
    expect(floodStored()).toBeLessThanOrEqual(200);
    expect((host.counters.refused.event ?? 0) - refusedBefore).toBeGreaterThanOrEqual(100);
    await c.endAsync(true);
    const before = host.ingest.stats.stored;
    await until('still ingesting', () => host.ingest.stats.stored > before + 2);
  });
});

describe('a host that cannot start', () => {
  it('closes what it opened when its HTTP port is taken: the broker port is free again, the database closed', async () => {
    const { dir: d, paths: p } = makeSite('ward-port');
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const httpPort = (taken.address() as AddressInfo).port;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const brokerPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    try {
      await expect(startSiteHost(d, p, { broker: { embedded: { port: brokerPort } }, http: { port: httpPort } })).rejects.toThrow(`HTTP port ${httpPort} is taken`);
      const again = createServer();
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject);
        again.listen(brokerPort, '127.0.0.1', () => resolve());
      });
      await new Promise<void>((r) => again.close(() => r()));
      // the database is closed, so another host opens the same site at once
      const h = await startSiteHost(d, p);
      await h.close();
    } finally {
      taken.close();
      removeSite(d);
    }
  });
});
