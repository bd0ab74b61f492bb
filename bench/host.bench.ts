/**
 * Host benchmarks, each against a reference in the same run:
 *  - ingest: end to end (gateways publish → broker → host decode → dedupe → SQLite commit → ack back
 *    to every gateway) against raw pub→sub through the same broker code with the same payloads
 *    (publishers → embedded aedes → one subscriber), both with authentication and ACLs on. Goal ≥ 50 %.
 *  - command round trip: a clinician's request → signed → gateway verifies → `accepted` back at the
 *    host, and → `applied` (device read-back over the simulated serial link), against a raw MQTT
 *    request/echo round trip through the same broker.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { decode } from '../firmware/core/cbor/index.js';
import { parseParams } from '../host/commands.js';
import { startEmbeddedBroker } from '../host/broker/embedded.js';
import { issueSecret } from '../host/broker/passwd.js';
import { makeSite, PASSPHRASES, provision, startGateway, startSiteHost, until } from '../test/support/ward.js';
import { record } from '../test/support/records.js';
import { fmt } from './measure.js';

const GATEWAYS = 4;
const PER_GATEWAY = 4000;

export function payloads(): Uint8Array[][] {
  return Array.from({ length: GATEWAYS }, () => {
    const boot = new Uint8Array(randomBytes(16));
    return Array.from({ length: PER_GATEWAY }, (_, seq) => record({ bootId: boot, seq, kind: 'monitor', seconds: 5, seed: seq % 50 }));
  });
}

async function connect(url: string, site: string, user: string, secret: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId: `vigil-${site}-${user}`, username: user, password: secret, reconnectPeriod: 0 });
  (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true); // as the broker's side does: no Nagle wait on small packets
  return c;
}

/** Raw pub→sub: the same payloads from GATEWAYS publishers to one subscriber, through the embedded broker. */
async function rawPubSub(data: Uint8Array[][]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-raw-'));
  const passwd = join(dir, 'passwd');
  const broker = await startEmbeddedBroker({ site: 'bench', port: 0, passwdFile: passwd });
  const sub = await connect(broker.url, 'bench', 'host', issueSecret(passwd, 'host'));
  const pubs = await Promise.all(data.map((_, i) => connect(broker.url, 'bench', `gw-${i}`, issueSecret(passwd, `gw-${i}`))));
  let got = 0;
  const total = GATEWAYS * PER_GATEWAY;
  const done = new Promise<void>((resolve) => sub.on('message', () => ++got === total && resolve()));
  await sub.subscribeAsync('vigil/v1/bench/+/vitals', { qos: 1 });
  const start = performance.now();
  data.forEach((list, i) => list.forEach((p) => pubs[i]!.publish(`vigil/v1/bench/gw-${i}/vitals`, Buffer.from(p), { qos: 1 })));
  await done;
  const seconds = (performance.now() - start) / 1000;
  await Promise.all([sub, ...pubs].map((c) => c.endAsync(true)));
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
  return total / seconds;
}

/** End to end: publish → host ingest → commit → ack received by every publishing gateway. */
export async function ingest(data: Uint8Array[][]): Promise<number> {
  const { dir, paths } = makeSite('bench');
  const host = await startSiteHost(dir, paths);
  const pubs = await Promise.all(data.map((_, i) => connect(host.brokerUrl, 'bench', `gw-${i}`, provision(paths, `gw-${i}`))));
  const acked = new Array<number>(GATEWAYS).fill(-1);
  const total = GATEWAYS * PER_GATEWAY;
  const done = new Promise<void>((resolve) => {
    pubs.forEach((c, i) =>
      c.on('message', (_t, payload) => {
        const r = decode(new Uint8Array(payload));
        if (r.ok && r.value instanceof Map) acked[i] = Math.max(acked[i]!, r.value.get('through') as number);
        if (acked.every((a) => a === PER_GATEWAY - 1)) resolve();
      }),
    );
  });
  await Promise.all(pubs.map((c, i) => c.subscribeAsync(`vigil/v1/bench/gw-${i}/ack`, { qos: 1 })));
  const start = performance.now();
  data.forEach((list, i) => list.forEach((p) => pubs[i]!.publish(`vigil/v1/bench/gw-${i}/vitals`, Buffer.from(p), { qos: 1 })));
  await done;
  const seconds = (performance.now() - start) / 1000;
  const stored = host.ingest.stats.stored;
  const commits = host.ingest.stats.commits;
  await Promise.all(pubs.map((c) => c.endAsync(true)));
  await host.close();
  rmSync(dir, { recursive: true, force: true });
  if (stored !== total) throw new Error(`stored ${stored} of ${total}`);
  lastCommits = commits;
  return total / seconds;
}
let lastCommits = 0;

/** Raw request/echo round trips through the same broker code, with the same identities and ACLs. */
async function rawEcho(): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-echo-'));
  const passwd = join(dir, 'passwd');
  const broker = await startEmbeddedBroker({ site: 'bench', port: 0, passwdFile: passwd });
  const echo = await connect(broker.url, 'bench', 'gw-echo', issueSecret(passwd, 'gw-echo'));
  await echo.subscribeAsync('vigil/v1/bench/gw-echo/cmd', { qos: 1 });
  echo.on('message', (_t, p) => echo.publish('vigil/v1/bench/gw-echo/cmd/result', p, { qos: 1 }));
  const raw = await connect(broker.url, 'bench', 'host', issueSecret(passwd, 'host'));
  await raw.subscribeAsync('vigil/v1/bench/gw-echo/cmd/result', { qos: 1 });
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const back = new Promise<void>((r) => raw.once('message', () => r()));
    raw.publish('vigil/v1/bench/gw-echo/cmd', Buffer.from(randomBytes(200)), { qos: 1 });
    await back;
    times.push(performance.now() - t);
  }
  await raw.endAsync(true);
  await echo.endAsync(true);
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
  return times;
}

async function commandRtt(): Promise<string> {
  const { dir, paths } = makeSite('bench');
  const host = await startSiteHost(dir, paths);
  const gw = startGateway({ site: paths, id: 'gw-cmd', kind: 'monitor', brokerUrl: host.brokerUrl, secret: provision(paths, 'gw-cmd') });
  await until('online', () => host.gateway('gw-cmd')?.presence === 'online', 30_000);
  const ana = host.users.find('ana')!;
  const rawTimes = await rawEcho();
  await new Promise((r) => setTimeout(r, 1000));

  const settings: Array<[string, number, string]> = [['hrHigh', 125, '/min'], ['hrLow', 45, '/min'], ['spo2Low', 88, '%'], ['rrHigh', 28, '/min'], ['rrLow', 7, '/min'], ['nibpSysHigh', 170, 'mm[Hg]'], ['nibpSysLow', 85, 'mm[Hg]']];
  const accepted: number[] = [];
  const applied: number[] = [];
  // the moment each status reaches the host, from the host's own stream
  const statusAt = new Map<string, number>();
  host.subscribe((m) => {
    if (m.type === 'command') statusAt.set(`${m.command.id}/${m.command.status}`, performance.now());
  });
  for (let i = 0; i < 10; i++) {
    const [name, value, unit] = settings[i % settings.length]!;
    const v = i >= settings.length ? value + 1 : value;
    const t = performance.now();
    let c;
    for (;;) {
      try {
        c = await host.commands.request(Date.now(), ana, 'gw-cmd', `ORD-${i}`, parseParams({ [name]: { value: v, unit } }), PASSPHRASES.ana);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 10)); // the nonce of the previous command is still moving on
      }
    }
    await until('applied', () => {
      const s = host.commands.get(c.id).status;
      if (s === 'rejected' || s === 'failed' || s === 'timed-out') throw new Error(`command ${i} (${name} ${v}) ${s}: ${host.commands.get(c.id).reason}`);
      return s === 'applied';
    }, 20_000);
    accepted.push(statusAt.get(`${c.id}/accepted`)! - t);
    applied.push(statusAt.get(`${c.id}/applied`)! - t);
    await new Promise((r) => setTimeout(r, 300)); // the next command needs the nonce of this one's result
  }
  gw.device.stop();
  await gw.gw.stop();
  await host.close();
  rmSync(dir, { recursive: true, force: true });
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return [
    `command round trip (median of 10): request → accepted ${fmt(med(accepted))} ms; → applied (device read-back) ${fmt(med(applied))} ms`,
    `  reference: raw MQTT request → echo through the same broker ${fmt(med(rawTimes))} ms (median of 20)`,
  ].join('\n');
}

export async function benchHost(): Promise<string> {
  const data = payloads();
  const bytes = data.flat().reduce((a, p) => a + p.length, 0) / (GATEWAYS * PER_GATEWAY);
  let bestRaw = 0;
  let bestIngest = 0;
  for (let round = 0; round < 3; round++) {
    bestRaw = Math.max(bestRaw, await rawPubSub(data));
    bestIngest = Math.max(bestIngest, await ingest(data));
  }
  return [
    `ingest end to end (${GATEWAYS} gateways x ${PER_GATEWAY} monitor batches of 5 s, ${Math.round(bytes)} B each, QoS 1, best of 3, interleaved):`,
    `  publish → decode → dedupe → commit (WAL, synchronous=FULL) → ack: ${fmt(bestIngest)} records/s (${fmt(bestIngest * 5)} s of monitor data per s) in ${lastCommits} transactions`,
    `  reference raw pub→sub, same broker code and payloads: ${fmt(bestRaw)} msg/s`,
    `  ratio ${(bestIngest / bestRaw).toFixed(2)} (goal >= 0.50)`,
    await commandRtt(),
  ].join('\n');
}
