/**
 * A Node-platform gateway against an embedded aedes broker, with a stand-in host that commits and
 * acks, through a broker outage: what the device recorded during the outage arrives on `history`
 * after it, in order, none lost, while live batches keep flowing during the drain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NorFlash } from '../../firmware/platform/node/nor-flash.js';
import type { NodeGateway } from '../../firmware/platform/node/runtime.js';
import type { DeviceOnLine } from '../../simulator/device-line.js';
import { startSimulatedGateway, type SimulatedGateway } from '../../simulator/gateway.js';
import { startTestBroker, type TestBroker } from '../support/broker.js';
import { StandInHost } from '../support/stand-in-host.js';
import { keys, trustList } from '../portable/command-cases.js';
import { signCommand } from '../../firmware/core/command/index.js';
import { topic, trustTopic } from '../../firmware/core/protocol/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(25);
  }
}

let broker: TestBroker;
let host: StandInHost;
let sim: SimulatedGateway;
let gw: NodeGateway;
let device: DeviceOnLine;
const alarms: boolean[] = [];

beforeAll(async () => {
  broker = await startTestBroker();
  host = new StandInHost(broker.url, 'ward-7');
  await host.start();
  // short batches, so the outage fits a test (the defaults are tested in simulated time: gateway-bugs.test.ts)
  sim = startSimulatedGateway({
    site: 'ward-7',
    id: 'gw-bed-1',
    kind: 'monitor',
    serial: 'MON-0001',
    rootKey: keys.root.publicKey,
    brokerUrl: broker.url,
    seed: 21,
    faults: { loss: 0.002, corrupt: 0.001, duplicate: 0 },
    flash: new NorFlash({ sectors: 16 }),
    firmware: '0.1.0',
    config: { batchMs: 400, outageBatchMs: 400, drainEveryMs: 300, drainBatch: 1, heartbeatMs: 2000 },
    onEffect: (e) => {
      if (e.type === 'alarm-output') alarms.push(e.on);
    },
  });
  gw = sim.gw;
  device = sim.device;
});

afterAll(async () => {
  await sim?.stop();
  await host?.stop();
  await broker?.close();
});

describe('gateway through a broker outage', () => {
  it('goes online and streams live vitals that the host acks', async () => {
    await until('live vitals', () => host.received.filter((r) => r.topic === 'vitals').length >= 3);
    expect(gw.core.mode).toBe('online');
    await until('acks free the log', () => gw.core.log.stats().used === 0);
  });

  it('keeps recording during the outage and hands the backlog over after it, in order, none lost, live data flowing during the drain', async () => {
    const before = host.received.length;
    await broker.down();
    await until('degraded', () => gw.core.mode === 'degraded');
    await sleep(4000); // the device keeps reporting; batches go to flash
    expect(gw.core.log.stats().used).toBeGreaterThan(0);
    await broker.up();
    await until('back online with the backlog drained', () => gw.core.mode === 'online' && gw.core.log.stats().used === 0, 30_000);
    await sleep(1000);

    const after = host.received.slice(before);
    const history = after.filter((r) => r.topic === 'history');
    expect(history.length).toBeGreaterThanOrEqual(4);
    // in order
    const seqs = history.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // live data still flowed during the drain: a live batch arrived between the first and last history record
    const first = history[0]!.at;
    const last = history[history.length - 1]!.at;
    expect(after.some((r) => r.topic === 'vitals' && r.at > first && r.at < last)).toBe(true);
    // none lost: every seq of this boot from 0 to the highest is committed
    const boot = history[0]!.bootId;
    const committed = host.committed.get(boot)!;
    const max = Math.max(...committed);
    const missing = [...Array(max + 1).keys()].filter((s) => !committed.has(s));
    expect(missing).toEqual([]);
    expect(host.through.get(boot)).toBe(max);
  }, 60_000);

  it('publishes a retained birth with the challenge nonce and the device identity', () => {
    const birth = host.states.filter((s) => s.online).at(-1)!;
    if (!birth.online) throw new Error('no birth');
    expect(birth.nonce).toHaveLength(16);
    expect(birth.device?.serial).toBe('MON-0001');
    expect(birth.bdSeq).toBeGreaterThan(0);
    expect(host.malformed).toEqual([]);
  });

  it('applies a signed setting change: accepted, forwarded, confirmed by the read-back', async () => {
    await host.publish(trustTopic('ward-7'), trustList().bytes);
    await sleep(300);
    const last = host.states.filter((s) => s.online).at(-1)!;
    if (!last.online) throw new Error('no birth');
    const nonce = last.nonce;
    const bytes = signCommand(
      { gateway: 'gw-bed-1', serial: 'MON-0001', counter: 1, iat: Math.floor(Date.now() / 1000) - 5, exp: Math.floor(Date.now() / 1000) + 300, nonce, epoch: 3, op: 'set', params: new Map([['hrHigh', { value: 130, unit: '/min' }]]), orderId: 'ORD-7', clinician: 'nurse.ada' },
      keys.nurse,
    );
    await host.publish(topic('ward-7', 'gw-bed-1', 'cmd'), bytes);
    await until('applied', () => host.results.some((r) => r.status === 'applied'));
    expect(host.results.map((r) => r.status)).toEqual(['accepted', 'applied']);
    expect(device.device.settings.get('hrHigh')).toBe(130);
    // the same bytes again: a replay, refused, nothing forwarded
    await host.publish(topic('ward-7', 'gw-bed-1', 'cmd'), bytes);
    await until('rejected', () => host.results.length === 3);
    expect(host.results[2]).toMatchObject({ status: 'rejected', reason: 'replay' });
    expect(host.events.some((e) => e.code === 'cmd-rejected')).toBe(true);
  });

  it('reports a change made at the device itself', async () => {
    for (const b of device.device.localChange('spo2Low', 88, 0)) void b;
    await until('local-setting-change', () => host.events.some((e) => e.code === 'local-setting-change'), 10_000);
  });

  it('raises a technical alarm and the local alarm output when the device falls silent', async () => {
    device.device.silent = true;
    await until('device-silent event', () => host.events.some((e) => e.code === 'device-silent'), 15_000);
    expect(alarms.at(-1)).toBe(true);
    device.device.silent = false;
    await until('device-back event', () => host.events.some((e) => e.code === 'device-back'), 15_000);
    expect(alarms.at(-1)).toBe(false);
  }, 40_000);
});
