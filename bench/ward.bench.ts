/**
 * `npm run bench -- ward`: a ward of N gateways at one record a second against one host, on this
 * machine. The host runs in a child process (bench/ward/host-process.ts, default settings: embedded
 * broker, SQLite with synchronous=FULL) so its CPU and memory are its own; the gateways (light MQTT
 * clients speaking the protocol, bench/ward/clients.ts) and a nursing-station WebSocket client run here.
 *
 * Per N: stored/offered over a measured window, loss (records never acked after the run settles),
 * publish → WebSocket latency p50/p99 (from the gateway's publish to the `vitals` message on the
 * stream), host CPU (share of one core) and RSS. Then the outage drain: 50 real gateways (the firmware
 * core on the Node platform, each with a simulated monitor) boot with an 8-hour backlog in flash
 * (480 one-minute batches) and drain it while the light gateways stay live: drain time, live latency
 * during the drain, and history records sent twice.
 *
 * Sizes: VIGIL_WARD_SIZES (default 100,500,1000,2000); window: VIGIL_WARD_SECONDS (default 30).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { openLog } from '../firmware/core/log/index.js';
import { encodeBatch } from '../firmware/core/vitals/index.js';
import { issueSecret } from '../host/broker/passwd.js';
import { NorFlash } from '../firmware/platform/node/nor-flash.js';
import { PARTITION_SECTORS, startSimulatedGateway, type SimulatedGateway } from '../simulator/gateway.js';
import { sampleBatch } from '../test/portable/vitals-samples.js';
import { PASSWORD } from '../test/support/ward.js';
import { connectAll, run1Hz, type LightGateway, type Sent, type WardTarget } from './ward/clients.js';
import { fmt, table } from './measure.js';

interface HostUnderTest extends WardTarget {
  readonly pid: number;
  readonly httpUrl: string;
  readonly rootKey: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

const CLK_TCK = 100;

async function startHostProcess(): Promise<HostUnderTest> {
  const script = fileURLToPath(new URL('./ward/host-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the host process ended (${code}) before it listened`)));
  });
  const info = JSON.parse(line) as Omit<HostUnderTest, 'child' | 'stop'>;
  return {
    ...info,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
      }),
  };
}

/** The host's CPU seconds so far and its resident memory (MB), from /proc. */
function usage(pid: number): { cpu: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu, rssMb: Number(rss?.[1] ?? 0) / 1024 };
}

/** A nursing station on the stream: each live record's publish → stream latency, and history counted. */
async function watchStream(h: HostUnderTest, sent: Sent): Promise<{ latencies: number[]; history: { n: number }; close(): void }> {
  const login = await fetch(`${h.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ana', password: PASSWORD }) });
  const { token } = (await login.json()) as { token: string };
  const ws = new WebSocket(`${h.httpUrl.replace('http', 'ws')}/api/stream?token=${token}`);
  const latencies: number[] = [];
  const history = { n: 0 };
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { type: string; gateway?: string; seq?: number; historical?: boolean };
    if (m.type !== 'vitals') return;
    if (m.historical) {
      history.n++;
      return;
    }
    const key = `${m.gateway}/${m.seq}`;
    const at = sent.get(key);
    if (at !== undefined) {
      latencies.push(performance.now() - at);
      sent.delete(key);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { latencies, history, close: () => ws.close() };
}

function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function health(h: HostUnderTest): Promise<{ ingest: { stored: number; duplicates: number; received: number } }> {
  return (await (await fetch(`${h.httpUrl}/api/health`)).json()) as { ingest: { stored: number; duplicates: number; received: number } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SteadyRow {
  n: number;
  connectS: number;
  offered: number;
  stored: number;
  lost: number;
  p50: number;
  p99: number;
  cpu: number;
  rssMb: number;
  note: string;
}

/** N light gateways at 1 Hz: connect, warm up 10 s, measure `seconds`, then stop and let acks settle. */
async function steady(n: number, seconds: number): Promise<SteadyRow> {
  const h = await startHostProcess();
  const sent: Sent = new Map();
  const counts = { published: 0 };
  let gws: LightGateway[] = [];
  let note = '';
  try {
    const t0 = performance.now();
    gws = await connectAll(h, Array.from({ length: n }, (_, i) => `gw-${i}`));
    const connectS = (performance.now() - t0) / 1000;
    const stream = await watchStream(h, sent);
    const stop = run1Hz(h, gws, sent, counts);
    await sleep(10_000);
    stream.latencies.length = 0;
    const before = { h: await health(h), u: usage(h.pid), published: counts.published };
    await sleep(seconds * 1000);
    const after = { h: await health(h), u: usage(h.pid), published: counts.published };
    const latencies = [...stream.latencies];
    stop();
    // settle: every record published must be acked (stored), or it is lost
    const deadline = performance.now() + 60_000;
    while (gws.some((g) => g.acked < g.seq - 1) && performance.now() < deadline) await sleep(500);
    const lost = gws.reduce((a, g) => a + Math.max(0, g.seq - 1 - g.acked), 0);
    if (lost > 0) note = `${lost} not acked 60 s after the run`;
    stream.close();
    return {
      n,
      connectS,
      offered: after.published - before.published,
      stored: after.h.ingest.stored - before.h.ingest.stored,
      lost,
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      cpu: (after.u.cpu - before.u.cpu) / seconds,
      rssMb: after.u.rssMb,
      note,
    };
  } finally {
    await Promise.all(gws.map((g) => g.stop().catch(() => undefined)));
    await h.stop();
  }
}

/** A monitor's flash after 8 hours offline: 480 one-minute batches from a previous boot. */
function flashWithBacklog(id: string, records: number): NorFlash {
  const flash = new NorFlash({ sectors: PARTITION_SECTORS });
  const log = openLog(flash, new Uint8Array(16).map((_, i) => (i * 7 + id.length) & 0xff));
  const minute = sampleBatch('monitor', 60);
  const start = Date.now() - records * 60_000;
  for (let i = 0; i < records; i++) {
    const r = log.append(encodeBatch({ ...minute, t0: start + i * 60_000, serial: `MONITOR-${id}` }), false);
    if (!r.ok) throw new Error(`backlog for ${id}: ${r.detail}`);
  }
  return flash;
}

interface OutageRow {
  live: number;
  draining: number;
  backlog: number;
  drainS: number;
  p50: number;
  p99: number;
  liveBaselineP99: number;
  historyRecords: number;
  sentTwice: number;
  cpu: number;
  rssMb: number;
}

/** `live` light gateways at 1 Hz while `draining` real gateways boot with 8-hour backlogs and drain them. */
async function outageDrain(live: number, draining: number, backlog: number): Promise<OutageRow> {
  const h = await startHostProcess();
  const sent: Sent = new Map();
  const counts = { published: 0 };
  let gws: LightGateway[] = [];
  const real: SimulatedGateway[] = [];
  try {
    gws = await connectAll(h, Array.from({ length: live }, (_, i) => `gw-${i}`));
    const stream = await watchStream(h, sent);
    const stop = run1Hz(h, gws, sent, counts);
    await sleep(10_000);
    const baseline = [...stream.latencies];
    stream.latencies.length = 0;
    const flashes = Array.from({ length: draining }, (_, i) => flashWithBacklog(`gw-out-${i}`, backlog));
    const before = { h: await health(h), u: usage(h.pid) };
    const t0 = performance.now();
    const rootKey = Uint8Array.from(Buffer.from(h.rootKey, 'hex'));
    flashes.forEach((flash, i) => {
      const id = `gw-out-${i}`;
      real.push(startSimulatedGateway({ site: h.site, id, kind: 'monitor', rootKey, brokerUrl: h.brokerUrl, username: id, password: issueSecret(h.passwdFile, id), flash, seed: i + 100 }));
    });
    const deadline = performance.now() + 20 * 60_000;
    while (real.some((g) => g.gw.core.log.stats().used > 0 || g.gw.core.mode !== 'online') && performance.now() < deadline) await sleep(250);
    const drainS = (performance.now() - t0) / 1000;
    const after = { h: await health(h), u: usage(h.pid) };
    const during = [...stream.latencies];
    stop();
    stream.close();
    const sentHistory = real.reduce((a, g) => a + g.gw.core.stats.historySent, 0);
    return {
      live,
      draining,
      backlog,
      drainS,
      p50: pct(during, 50),
      p99: pct(during, 99),
      liveBaselineP99: pct(baseline, 99),
      historyRecords: draining * backlog,
      sentTwice: Math.max(0, sentHistory - draining * backlog),
      cpu: (after.u.cpu - before.u.cpu) / drainS,
      rssMb: after.u.rssMb,
    };
  } finally {
    await Promise.all(real.map((g) => g.stop().catch(() => undefined)));
    await Promise.all(gws.map((g) => g.stop().catch(() => undefined)));
    await h.stop();
  }
}

export async function benchWard(): Promise<string> {
  const sizes = (process.env.VIGIL_WARD_SIZES ?? '100,500,1000,2000').split(',').map(Number);
  const seconds = Number(process.env.VIGIL_WARD_SECONDS ?? 30);
  const rows: SteadyRow[] = [];
  for (const n of sizes) {
    try {
      rows.push(await steady(n, seconds));
    } catch (e) {
      rows.push({ n, connectS: NaN, offered: 0, stored: 0, lost: NaN, p50: NaN, p99: NaN, cpu: NaN, rssMb: NaN, note: `stopped: ${(e as Error).message}` });
      break;
    }
  }
  const liveForOutage = Number(process.env.VIGIL_WARD_OUTAGE_LIVE ?? 1000);
  const o = await outageDrain(liveForOutage, 50, 480);
  return [
    `N gateways, one 1-second monitor record each per second, against one host (child process, default settings); ${seconds} s measured after 10 s of warm-up`,
    table([
      ['gateways', 'connect s', 'offered', 'stored/offered', 'lost', 'publish→WS p50 ms', 'p99 ms', 'host CPU (cores)', 'host RSS MB', ''],
      ...rows.map((r) => [String(r.n), r.connectS.toFixed(1), fmt(r.offered), (r.stored / r.offered).toFixed(3), String(r.lost), r.p50.toFixed(0), r.p99.toFixed(0), r.cpu.toFixed(2), r.rssMb.toFixed(0), r.note]),
    ]),
    '',
    `Outage drain: ${o.draining} gateways boot with an 8-hour backlog (${o.backlog} one-minute batches each, ${fmt(o.historyRecords)} records) and drain it while ${o.live} gateways stay live`,
    table([
      ['drain s', 'live p50 ms during', 'live p99 ms during', 'live p99 before', 'history sent twice', 'host CPU (cores)', 'host RSS MB'],
      [o.drainS.toFixed(0), o.p50.toFixed(0), o.p99.toFixed(0), o.liveBaselineP99.toFixed(0), `${fmt(o.sentTwice)} (${((o.sentTwice / o.historyRecords) * 100).toFixed(1)} %)`, o.cpu.toFixed(2), o.rssMb.toFixed(0)],
    ]),
    '',
    'Goals: p99 publish→WebSocket ≤ 250 ms at 1,000 gateways; 2,000 gateways with zero loss; live p99 ≤ 2 s while 50 beds drain 8-hour backlogs.',
  ].join('\n');
}
