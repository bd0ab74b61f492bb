/**
 * `vigil sim`, the conductor: makes (or opens) a site, starts the host as a hospital runs it (`vigil
 * host`, its own process, embedded broker) or uses a running one, starts bed workers (ward.ts,
 * worker.ts: the real firmware core on the Node platform, one per bed, with simulated devices), plays
 * the scenario's timeline (timeline.ts: faults, attacks, signed commands), watches the nursing
 * station's stream (station.ts), then lets the ward settle and counts: every sample a device made
 * against every sample the host stored (report.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SettingValue } from '../../firmware/core/command/index.js';
import type { GatewayConfig } from '../../firmware/core/gateway/index.js';
import { toHex } from '../../firmware/core/hex.js';
import { DRIVERS } from '../../firmware/core/device/drivers.js';
import { issueSecret } from '../../host/broker/passwd.js';
import { ROGUE, type AttackResult, type Battlefield } from './attacks.js';
import { startHostProcess, type HostProcess } from './host-proc.js';
import type { BedReport, BedSpec } from './messages.js';
import { buildReport, type CommandOutcome, type SimReport, type StationEvent } from './report.js';
import { bedsOf, checkSpeed, wardKinds, type Scenario } from './scenario.js';
import { openSimSite, type SimSite } from './site.js';
import { apiAs, storedSamples, watchStation, type Api, type Station } from './station.js';
import { fmtDuration, playStep, type Play } from './timeline.js';
import { startWard, type Ward } from './ward.js';

export { fmtDuration };

export interface SimOptions {
  readonly scenario: Scenario;
  /** Overrides of the scenario's own values. */
  readonly gateways?: number;
  readonly seed?: number;
  readonly speed?: number;
  readonly duration?: number;
  /** The site and the host's data; a fresh temporary directory (removed afterwards) by default. */
  readonly dataDir?: string;
  /** A running host (its API) and broker, instead of starting one: the site's data directory must be given. */
  readonly external?: { readonly hostUrl: string; readonly brokerUrl: string };
  /** The host's ports (0 or absent: free ones). */
  readonly hostPorts?: { readonly broker: number; readonly http: number };
  /** The script that runs `vigil host` (a test passes a deliberately broken build). */
  readonly hostEntry?: string;
  readonly workers?: number;
  /** Gateway settings other than the defaults users get (none by default). */
  readonly config?: Partial<GatewayConfig>;
  readonly flashSectors?: number;
  /** Live progress (a terminal's status line), about once a second. */
  readonly progress?: (line: string) => void;
  readonly log?: (line: string) => void;
  /** Ends the timeline early (Ctrl-C): the run still settles and reports. */
  readonly stop?: AbortSignal;
  /** Called once the ward runs: where the host and its API are, and the demo logins. */
  readonly onReady?: (info: { hostUrl: string; brokerUrl: string; site: SimSite; beds: number }) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const unixNow = () => performance.timeOrigin + performance.now();

/** Refuses, before anything starts, what this run cannot carry out. */
function checkRun(o: SimOptions, ward: number, duration: number): void {
  const s = o.scenario;
  checkSpeed(s, o.speed ?? s.speed);
  const steps = s.timeline.filter((x) => x.at <= duration);
  if (o.external !== undefined) {
    const local = steps.find((x) => 'fault' in x && (x.fault === 'host-kill' || x.fault === 'broker-restart'));
    if (local !== undefined) throw new Error(`${s.name}: ${'fault' in local ? local.fault : ''} needs the host this run starts (not --host)`);
    if (o.dataDir === undefined) throw new Error('against a running host, --data-dir must name its site directory (the sim provisions the gateways there)');
  }
  for (const x of steps) for (const b of 'beds' in x ? bedsOf(x.beds, ward) : 'bed' in x ? [x.bed] : 'command' in x ? [x.command.bed] : []) {
    if (b > ward) throw new Error(`${s.name}: a step at ${x.at} s names bed ${b}, and this ward has ${ward}`);
  }
}

/** The beds: a gateway id, a device kind in the scenario's mix, a serial, a seed, a broker secret. */
function provisionBeds(site: SimSite, n: number, s: Scenario, seed: number): BedSpec[] {
  return wardKinds(n, s.mix).map((kind, i) => {
    const id = `gw-bed-${i + 1}`;
    return { bed: i + 1, id, kind, serial: `${kind.toUpperCase()}-${String(seed).padStart(4, '0')}-${i + 1}`, seed: seed * 7919 + i * 104_729, secret: issueSecret(site.paths.passwdFile, id) };
  });
}

/** A status line about once a second while the timeline runs. */
function showProgress(progress: (line: string) => void, ward: Ward, t0: number, speed: number, duration: number, attacks: () => number): () => void {
  let busy = false;
  const ticker = setInterval(() => {
    if (busy) return;
    busy = true;
    ward
      .reports()
      .then((r) => {
        const elapsed = ((performance.now() - t0) / 1000) * speed;
        const modes = new Map<string, number>();
        for (const b of r) modes.set(b.mode, (modes.get(b.mode) ?? 0) + 1);
        const backlog = Math.max(0, ...r.map((b) => b.maxBacklog));
        progress(`${fmtDuration(Math.min(elapsed, duration))} / ${fmtDuration(duration)} ×${speed} | ${[...modes].map(([m, n]) => `${n} ${m}`).join(', ')} | samples made ${r.reduce((a, b) => a + b.produced, 0)} | max backlog ${(backlog / 1024).toFixed(0)} KB | attacks ${attacks()}`);
      })
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, 1000);
  return () => clearInterval(ticker);
}

/** The end of the run: the devices stop making samples; waits until every gateway flushed, drained and went quiet. */
async function settle(ward: Ward, realMs: (s: number) => number): Promise<{ settled: boolean; last: BedReport[] }> {
  ward.post({ type: 'settle' });
  const batchS = Math.max(...(['monitor', 'pump', 'ventilator'] as const).map((k) => DRIVERS[k].sampleMs)) / 1000 + 60;
  const end = performance.now() + Math.max(120_000, realMs(batchS) * 3);
  let last: BedReport[] = [];
  while (performance.now() < end) {
    last = await ward.reports();
    if (last.every((b) => b.busy === undefined)) return { settled: true, last };
    await sleep(500);
  }
  return { settled: false, last };
}

/** Live batches matched between the gateways' publishes and the station's stream, after the warm-up. */
function latencies(final: readonly BedReport[], station: Station, warmUpEnd: number): number[] {
  const out: number[] = [];
  for (const b of final) {
    for (const [batch, sentAt] of b.published ?? []) {
      if (sentAt < warmUpEnd) continue;
      const got = station.received.get(`${b.id}/${batch}`);
      if (got !== undefined && got >= sentAt - 5 && got - sentAt < 60_000) out.push(got - sentAt);
    }
  }
  return out;
}

export async function runSimulation(o: SimOptions): Promise<SimReport> {
  const s = o.scenario;
  const speed = o.speed ?? s.speed;
  const size = o.gateways ?? s.gateways;
  const seed = o.seed ?? s.seed;
  const duration = o.duration ?? s.duration;
  checkRun(o, size, duration);
  const steps = s.timeline.filter((x) => x.at <= duration);
  const log = o.log ?? (() => undefined);
  const temp = o.dataDir === undefined;
  const dir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'vigil-sim-'));
  let host: HostProcess | undefined;
  let ward: Ward | undefined;
  let station: Station | undefined;
  try {
    const site = await openSimSite(dir, 'ward-sim');
    const beds = provisionBeds(site, size, s, seed);
    const rogueSecret = issueSecret(site.paths.passwdFile, ROGUE);
    if (o.external === undefined) host = await startHostProcess(dir, { entry: o.hostEntry, brokerPort: o.hostPorts?.broker || undefined, httpPort: o.hostPorts?.http || undefined });
    const hostUrl = host?.httpUrl ?? o.external!.hostUrl.replace(/\/$/, '');
    const brokerUrl = host === undefined ? o.external!.brokerUrl : `mqtt://127.0.0.1:${host.brokerPort}`;
    const brokerAt = { host: new URL(brokerUrl).hostname, port: Number(new URL(brokerUrl).port || 1883) };
    const apis = new Map<string, Api>();
    const api = (user = 'ben'): Api => {
      if (!apis.has(user)) apis.set(user, apiAs(() => hostUrl, user, site.logins.passwords[user] ?? ''));
      return apis.get(user)!;
    };
    await api()('GET', '/api/me');
    station = await watchStation(hostUrl, 'ana', site.logins.passwords.ana ?? '');
    const duplicatesAtStart = ((await api()('GET', '/api/health')).json?.ingest?.duplicates as number | undefined) ?? 0;

    const config = o.config ?? {};
    ward = await startWard(beds, Math.max(1, Math.min(o.workers ?? (size > 300 ? 2 : 1), size)), { type: 'start', site: site.paths.site, rootKey: toHex(site.paths.rootPublicKey), broker: brokerAt, speed, epoch: Date.now(), serial: s.serial, flashSectors: o.flashSectors ?? 240, config });
    o.onReady?.({ hostUrl, brokerUrl, site, beds: size });
    const kinds = beds.map((b) => b.kind);
    log(`${s.name}: ${size} beds (${(['monitor', 'pump', 'ventilator'] as const).map((k) => `${kinds.filter((x) => x === k).length} ${k}s`).join(', ')}), ${fmtDuration(duration)} of ward time at ×${speed}, seed ${seed}; host ${hostUrl}, broker ${brokerUrl}, data in ${dir}`);

    // ---- the timeline ----
    const t0 = performance.now();
    station.origin = unixNow();
    const started = station.origin;
    const realMs = (scenarioS: number) => (scenarioS * 1000) / speed;
    const current = new Map<string, SettingValue>();
    const w = ward;
    const battlefield: Battlefield = {
      site,
      broker: brokerAt,
      rogueSecret,
      bed: (n) => beds[n - 1]!,
      call: async (id, m) => {
        const r = await w.call(id, m);
        if (r.type === 'error') throw new Error(r.error);
        return r;
      },
      report: (id) => w.report(id),
      api: (method, path, body) => api()(method, path, body),
      current: (bed, setting) => current.get(`${bed}/${setting}`),
      alarmWaitMs: () => Math.max(20_000, t0 + realMs(duration) - performance.now() + 60_000),
    };
    const faults: StationEvent[] = [];
    const play: Play = {
      scenario: s,
      beds,
      ward,
      site,
      host,
      api,
      battlefield,
      realMs,
      at: (scenarioS) => sleep(Math.max(0, t0 + realMs(scenarioS) - performance.now())),
      note: (what, detail) => void faults.push({ t: unixNow() - started, what, detail }),
      log,
      pending: [],
      attacks: [] as Promise<AttackResult>[],
      commands: [] as CommandOutcome[],
      current,
    };
    const stopProgress = o.progress === undefined ? () => undefined : showProgress(o.progress, ward, t0, speed, duration, () => play.attacks.length);
    const aborted = new Promise<void>((resolve) => {
      if (o.stop?.aborted) resolve();
      o.stop?.addEventListener('abort', () => resolve(), { once: true });
    });
    // a drill is declared to every nursing station (a banner) for as long as it runs
    const notice = s.drill ? ((await api('cleo')('POST', '/api/notices', { kind: 'drill', message: (s.description.split('.')[0] || `${s.name} drill`).slice(0, 200) })).json as { id?: number } | undefined)?.id : undefined;
    for (const x of steps) {
      await Promise.race([play.at(x.at), aborted]);
      if (o.stop?.aborted) break;
      await playStep(play, x);
    }
    await Promise.race([play.at(duration), aborted]);
    await Promise.all(play.pending);
    if (notice !== undefined) await api('cleo')('POST', `/api/notices/${notice}/end`).catch(() => undefined);
    const attackResults = await Promise.all(play.attacks);
    const ranFor = ((performance.now() - t0) / 1000) * speed;

    // ---- settle and count ----
    const { settled, last } = await settle(ward, realMs);
    stopProgress();
    const final = await ward.reports(true);
    const stored = new Map<string, number>();
    for (const b of final) stored.set(b.id, await storedSamples(api(), b.id, new Set(b.boots)));
    const health = (await api()('GET', '/api/health')).json as { ingest?: { duplicates?: number } };
    return buildReport({
      scenario: s,
      ward: size,
      seed,
      speed,
      duration: ranFor,
      realSeconds: (performance.now() - t0) / 1000,
      beds: final,
      busy: settled ? [] : last.filter((b) => b.busy !== undefined).map((b) => `${b.id} (${b.busy})`),
      stored,
      duplicates: (health.ingest?.duplicates ?? 0) - duplicatesAtStart,
      // latency over the timeline after its warm-up (every gateway connecting and announcing itself at once)
      latencies: latencies(final, station, started + Math.min(30_000, realMs(duration) / 4)),
      attacks: attackResults,
      commands: play.commands,
      station: station.events,
      faults,
      steps,
      config,
    });
  } finally {
    station?.close();
    await ward?.stop();
    await host?.stop('SIGTERM');
    if (temp) for (const d of [dir, `${dir}-audit`]) rmSync(d, { recursive: true, force: true }); // the audit key and checkpoints live beside the data
  }
}
