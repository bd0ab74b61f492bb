/**
 * `vigil sim`, the conductor: makes (or opens) a site, starts the host as a hospital runs it (`vigil
 * host`, its own process, embedded broker) or uses a running one, starts bed workers (worker.ts: the
 * real firmware core on the Node platform, one per bed, with simulated devices), plays the scenario's
 * timeline (faults, attacks, signed commands), watches the nursing station's stream, then lets the
 * ward settle and counts: every sample a device made against every sample the host stored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { SettingValue } from '../../firmware/core/command/index.js';
import type { GatewayConfig } from '../../firmware/core/gateway/index.js';
import { toHex } from '../../firmware/core/hex.js';
import { DRIVERS } from '../../firmware/core/device/drivers.js';
import { issueSecret } from '../../host/broker/passwd.js';
import { attack, commanded, ROGUE, type AttackResult, type Battlefield } from './attacks.js';
import { startHostProcess, type HostProcess } from './host-proc.js';
import type { BedReport, BedSpec, FromWorker, ToWorker } from './messages.js';
import { buildReport, type CommandOutcome, type SimReport, type StationEvent } from './report.js';
import { bedsOf, checkSpeed, wardKinds, type Scenario, type Step } from './scenario.js';
import { openSimSite, type SimSite } from './site.js';

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

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const unixNow = () => performance.timeOrigin + performance.now();

interface Worker {
  readonly child: ChildProcess;
  readonly ids: Set<string>;
  call(m: ToWorker): Promise<FromWorker>;
  post(m: ToWorker): void;
}

function startWorker(start: ToWorker & { type: 'start' }): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, (m: FromWorker) => void>();
  let next = 1;
  let failure: string | undefined;
  return new Promise((resolve, reject) => {
    child.on('message', (m: FromWorker) => {
      if (m.re !== undefined) {
        waiting.get(m.re)?.(m);
        waiting.delete(m.re);
      } else if (m.type === 'ready') {
        resolve(worker);
      } else if (m.type === 'error') {
        failure = m.error;
        reject(new Error(`a bed worker failed: ${m.error}`));
      }
    });
    child.once('exit', (code) => {
      const why = failure ?? `a bed worker exited (${code})`;
      for (const w of waiting.values()) w({ type: 'error', error: why });
      waiting.clear();
      reject(new Error(why));
    });
    const worker: Worker = {
      child,
      ids: new Set(start.beds.map((b) => b.id)),
      post: (m) => void child.send(m),
      call: (m) =>
        new Promise((res) => {
          const req = next++;
          waiting.set(req, res);
          child.send({ ...m, req });
        }),
    };
    child.send(start);
  });
}

/** The host's API as one user: signs in (again, after a host restart) as needed. */
function apiAs(base: () => string, username: string, password: string) {
  let token: string | undefined;
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    for (let attempt = 0; ; attempt++) {
      try {
        if (token === undefined) {
          const r = await fetch(`${base()}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
          if (r.status !== 200) throw new Error(`sign-in as ${username}: ${r.status} ${await r.text()}`);
          token = ((await r.json()) as { token: string }).token;
        }
        const r = await fetch(`${base()}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
        if (r.status === 401) {
          token = undefined;
          continue;
        }
        const text = await r.text();
        return { status: r.status, json: text.length > 0 ? JSON.parse(text) : undefined };
      } catch (e) {
        if (attempt >= 60) throw e;
        await sleep(500); // the host is restarting
      }
    }
  };
}

/**
 * Every sample the host holds for a gateway from this run (its boots: a kept data directory holds
 * earlier runs too): the rows of every stored batch, paged through the API.
 */
async function storedSamples(api: ReturnType<typeof apiAs>, id: string, boots: ReadonlySet<string>): Promise<number> {
  let from = 0;
  let samples = 0;
  const seen = new Set<string>();
  for (;;) {
    const r = await api('GET', `/api/gateways/${encodeURIComponent(id)}/vitals?from=${from}&to=${Number.MAX_SAFE_INTEGER}&limit=2000`);
    if (r.status !== 200) throw new Error(`vitals of ${id}: ${r.status} ${JSON.stringify(r.json)}`);
    const page = r.json as Array<{ bootId: string; seq: number; t0: number; columns: Array<{ values: unknown[] }> }>;
    for (const b of page) {
      const key = `${b.bootId}/${b.seq}`;
      if (seen.has(key) || !boots.has(b.bootId.toLowerCase())) continue; // pages overlap on the last t0
      seen.add(key);
      samples += b.columns[0]?.values.length ?? 0;
    }
    if (page.length < 2000) return samples;
    from = page[page.length - 1]!.t0;
  }
}

export async function runSimulation(o: SimOptions): Promise<SimReport> {
  const s = o.scenario;
  const speed = o.speed ?? s.speed;
  checkSpeed(s, speed);
  const ward = o.gateways ?? s.gateways;
  const seed = o.seed ?? s.seed;
  const duration = o.duration ?? s.duration;
  const steps = s.timeline.filter((x) => x.at <= duration);
  const log = o.log ?? (() => undefined);
  if (o.external !== undefined) {
    const local = steps.find((x) => 'fault' in x && (x.fault === 'host-kill' || x.fault === 'broker-restart'));
    if (local !== undefined) throw new Error(`${s.name}: ${'fault' in local ? local.fault : ''} needs the host this run starts (not --host)`);
    if (o.dataDir === undefined) throw new Error('against a running host, --data-dir must name its site directory (the sim provisions the gateways there)');
  }
  for (const x of steps) for (const b of 'beds' in x ? bedsOf(x.beds, ward) : 'bed' in x ? [x.bed] : 'command' in x ? [x.command.bed] : []) {
    if (b > ward) throw new Error(`${s.name}: a step at ${x.at} s names bed ${b}, and this ward has ${ward}`);
  }

  const temp = o.dataDir === undefined;
  const dir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'vigil-sim-'));
  const workers: Worker[] = [];
  let host: HostProcess | undefined;
  let stream: WebSocket | undefined;
  let streamWanted = true;
  try {
    const site = await openSimSite(dir, 'ward-sim');
    const kinds = wardKinds(ward, s.mix);
    const beds: BedSpec[] = kinds.map((kind, i) => {
      const id = `gw-bed-${i + 1}`;
      return { bed: i + 1, id, kind, serial: `${kind.toUpperCase()}-${String(seed).padStart(4, '0')}-${i + 1}`, seed: seed * 7919 + i * 104_729, secret: issueSecret(site.paths.passwdFile, id) };
    });
    const rogueSecret = issueSecret(site.paths.passwdFile, ROGUE);

    let hostUrl: string;
    let brokerUrl: string;
    if (o.external === undefined) {
      host = await startHostProcess(dir, { entry: o.hostEntry, brokerPort: o.hostPorts?.broker || undefined, httpPort: o.hostPorts?.http || undefined });
      hostUrl = host.httpUrl;
      brokerUrl = `mqtt://127.0.0.1:${host.brokerPort}`;
    } else {
      hostUrl = o.external.hostUrl.replace(/\/$/, '');
      brokerUrl = o.external.brokerUrl;
    }
    const broker = new URL(brokerUrl);
    const brokerAt = { host: broker.hostname, port: Number(broker.port || 1883) };
    const apis = new Map<string, ReturnType<typeof apiAs>>();
    const api = (user = 'ben') => {
      if (!apis.has(user)) apis.set(user, apiAs(() => hostUrl, user, site.logins.passwords[user] ?? ''));
      return apis.get(user)!;
    };
    await api()('GET', '/api/me');

    // the nursing station's view: the stream, with presence, alarms and live vitals (for latency)
    let started = unixNow(); // moved to the timeline's start below: station times are scenario-relative
    const station: StationEvent[] = [];
    const received = new Map<string, number>();
    let duplicatesAtStart = 0;
    const watchStation = async () => {
      if (!streamWanted) return;
      const login = await api()('GET', '/api/me').catch(() => undefined);
      if (login === undefined) return void setTimeout(watchStation, 1000);
      const r = await fetch(`${hostUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ana', password: site.logins.passwords.ana }) }).catch(() => undefined);
      if (r?.status !== 200) return void setTimeout(watchStation, 1000);
      const { token } = (await r.json()) as { token: string };
      const ws = new WebSocket(`${hostUrl.replace(/^http/, 'ws')}/api/stream?token=${token}`, { headers: { origin: hostUrl } });
      stream = ws;
      ws.on('open', () => station.push({ t: unixNow() - started, what: 'stream', detail: 'the station is connected to the host' }));
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { type: string; gateway?: string; bootId?: string; seq?: number; historical?: boolean; presence?: string; change?: string; alarm?: { gateway: string; code: string; priority: string; class: string; message: string } };
        const t = unixNow() - started;
        if (m.type === 'vitals' && m.historical === false) received.set(`${m.gateway}/${m.bootId?.toLowerCase()}/${m.seq}`, unixNow());
        else if (m.type === 'presence') station.push({ t, what: 'presence', gateway: m.gateway, detail: m.presence ?? '' });
        else if (m.type === 'hello') for (const g of (m as { gateways?: Array<{ id: string; presence: string }> }).gateways ?? []) station.push({ t, what: 'presence', gateway: g.id, detail: g.presence });
        else if (m.type === 'alarm' && m.change === 'raised' && m.alarm !== undefined) station.push({ t, what: 'alarm', gateway: m.alarm.gateway, detail: `${m.alarm.priority} ${m.alarm.class} ${m.alarm.code}`, code: m.alarm.code });
      });
      ws.on('close', () => {
        if (!streamWanted) return;
        station.push({ t: unixNow() - started, what: 'stream', detail: 'the station lost the host' });
        setTimeout(watchStation, 1000);
      });
      ws.on('error', () => undefined);
    };
    await watchStation();
    duplicatesAtStart = ((await api()('GET', '/api/health')).json?.ingest?.duplicates as number | undefined) ?? 0;

    // the beds, shared out among worker processes
    const nWorkers = Math.max(1, Math.min(o.workers ?? (ward > 300 ? 2 : 1), ward));
    const epoch = Date.now();
    const config = o.config ?? {};
    for (let w = 0; w < nWorkers; w++) {
      const share = beds.filter((_, i) => i % nWorkers === w);
      workers.push(await startWorker({ type: 'start', site: site.paths.site, rootKey: toHex(site.paths.rootPublicKey), broker: brokerAt, beds: share, speed, epoch, serial: s.serial, flashSectors: o.flashSectors ?? 240, config }));
    }
    const workerOf = (id: string) => workers.find((w) => w.ids.has(id))!;
    const idsOf = (x: { beds: Parameters<typeof bedsOf>[0] }) => bedsOf(x.beds, ward).map((b) => beds[b - 1]!.id);
    const toBeds = (ids: readonly string[], m: (ids: string[]) => ToWorker) => {
      for (const w of workers) {
        const mine = ids.filter((id) => w.ids.has(id));
        if (mine.length > 0) w.post(m(mine));
      }
    };
    const reports = async (latencies = false): Promise<BedReport[]> => {
      const all: BedReport[] = [];
      for (const w of workers) {
        const r = await w.call({ type: 'report', latencies });
        if (r.type !== 'report') throw new Error(r.type === 'error' ? r.error : 'no report');
        all.push(...r.beds);
      }
      return all;
    };
    o.onReady?.({ hostUrl, brokerUrl, site, beds: ward });
    log(`${s.name}: ${ward} beds (${(['monitor', 'pump', 'ventilator'] as const).map((k) => `${kinds.filter((x) => x === k).length} ${k}s`).join(', ')}), ${fmtDuration(duration)} of ward time at ×${speed}, seed ${seed}; host ${hostUrl}, broker ${brokerUrl}, data in ${dir}`);

    // ---- the timeline ----
    const t0 = performance.now();
    started = unixNow();
    const realMs = (scenarioS: number) => (scenarioS * 1000) / speed;
    const current = new Map<string, SettingValue>();
    const commands: CommandOutcome[] = [];
    const attacks: Promise<AttackResult>[] = [];
    const pending: Promise<unknown>[] = [];
    const battlefield: Battlefield = {
      site,
      broker: brokerAt,
      rogueSecret,
      bed: (n) => beds[n - 1]!,
      call: async (id, m) => {
        const r = await workerOf(id).call(m);
        if (r.type === 'error') throw new Error(r.error);
        return r;
      },
      report: async (id) => {
        const r = await workerOf(id).call({ type: 'report', latencies: false });
        if (r.type !== 'report') throw new Error(r.type === 'error' ? r.error : 'no report');
        return r.beds.find((b) => b.id === id)!;
      },
      api: (method, path, body) => api()(method, path, body),
      current: (bed, setting) => current.get(`${bed}/${setting}`),
      alarmWaitMs: () => Math.max(20_000, t0 + realMs(duration) - performance.now() + 60_000),
    };
    const at = (scenarioS: number) => sleep(Math.max(0, t0 + realMs(scenarioS) - performance.now()));
    const faultLog: StationEvent[] = [];
    const note = (what: string, detail: string): void => void faultLog.push({ t: unixNow() - started, what, detail });

    const run = async (x: Step): Promise<void> => {
      if ('mark' in x) return note('mark', x.mark);
      if ('attack' in x) {
        note('attack', `${x.attack} at bed ${x.bed}`);
        const limit = battlefield.alarmWaitMs() + 60_000;
        attacks.push(
          Promise.race([
            attack(battlefield, x.attack, x.bed).catch((e: unknown) => failedAttack(x.attack, x.bed, `the attack could not be carried out: ${(e as Error).message}`)),
            sleep(limit).then(() => failedAttack(x.attack, x.bed, `no verdict within ${Math.round(limit / 1000)} s`)),
          ]).then((r) => {
            log(`attack ${r.attack} at bed ${r.bed}: ${r.blocked ? 'blocked' : 'NOT BLOCKED'}, ${r.alarmed ? `alarm ${r.alarm}` : 'NO ALARM'} (${r.evidence})`);
            return r;
          }),
        );
        return;
      }
      if ('command' in x) {
        const c = x.command;
        const id = beds[c.bed - 1]!.id;
        const by = c.by;
        const unit = c.unit ?? undefined;
        note('command', `${by} sets ${c.setting} = ${c.value} at bed ${c.bed}`);
        const task = (async () => {
          const r = await api(by)('POST', '/api/commands', { gateway: id, orderId: `SIM-${c.bed}-${Math.round(x.at)}`, params: { [c.setting]: unit === undefined ? { value: c.value } : { value: c.value, unit } }, passphrase: site.logins.passphrases[by] });
          if (r.status !== 201 && r.status !== 202) return void commands.push({ bed: c.bed, gateway: id, setting: c.setting, value: c.value, status: `refused by the host: ${r.status} ${r.json?.error ?? ''}` });
          commanded(id);
          let status = r.json.status as string;
          const end = performance.now() + 45_000;
          while (!['applied', 'failed', 'rejected', 'timed-out', 'withdrawn'].includes(status) && performance.now() < end) {
            await sleep(250);
            status = (await api(by)('GET', `/api/commands/${r.json.id}`)).json?.status ?? status;
          }
          if (status === 'applied') current.set(`${c.bed}/${c.setting}`, c.value);
          commands.push({ bed: c.bed, gateway: id, setting: c.setting, value: c.value, status });
        })();
        pending.push(task);
        return;
      }
      switch (x.fault) {
        case 'partition': {
          const ids = idsOf(x);
          note('fault', `network lost at ${ids.length} bed(s)${x.silent ? ' (silently)' : ''} for ${fmtDuration(x.for)}`);
          toBeds(ids, (mine) => ({ type: 'partition', ids: mine, down: true, silent: x.silent }));
          pending.push(at(x.at + x.for).then(() => {
            note('restore', `network back at ${ids.length} bed(s)`);
            toBeds(ids, (mine) => ({ type: 'partition', ids: mine, down: false, silent: x.silent }));
          }));
          return;
        }
        case 'flap': {
          const ids = idsOf(x);
          note('fault', `flapping links at ${ids.length} bed(s) for ${fmtDuration(x.for)}`);
          pending.push((async () => {
            for (let t = x.at, down = true; t < x.at + x.for; t += x.period / 2, down = !down) {
              await at(t);
              toBeds(ids, (mine) => ({ type: 'partition', ids: mine, down, silent: false }));
            }
            await at(x.at + x.for);
            toBeds(ids, (mine) => ({ type: 'partition', ids: mine, down: false, silent: false }));
          })());
          return;
        }
        case 'serial-noise': {
          const ids = idsOf(x);
          note('fault', `serial noise at ${ids.length} bed(s) for ${fmtDuration(x.for)}`);
          toBeds(ids, (mine) => ({ type: 'serial-noise', ids: mine, line: x.line }));
          pending.push(at(x.at + x.for).then(() => toBeds(ids, (mine) => ({ type: 'serial-noise', ids: mine, line: s.serial }))));
          return;
        }
        case 'power-cut': {
          const ids = idsOf(x);
          note('fault', `power cut at ${ids.length} gateway(s) at their next flash write (${x.outcome}), off ${fmtDuration(x.off)}`);
          toBeds(ids, (mine) => ({ type: 'power-cut', ids: mine, offMs: realMs(x.off), outcome: x.outcome }));
          return;
        }
        case 'host-kill':
        case 'broker-restart': {
          const kill = x.fault === 'host-kill';
          note('fault', kill ? `host killed (SIGKILL), down ${fmtDuration(x.down)}` : 'broker restarted (the embedded broker: the host process stops cleanly and starts again)');
          pending.push((async () => {
            await host!.stop(kill ? 'SIGKILL' : 'SIGTERM');
            if (kill) await sleep(realMs(x.down));
            await host!.start();
            note('restore', 'host back');
          })());
          return;
        }
      }
    };

    const progress = o.progress;
    let ticker: NodeJS.Timeout | undefined;
    if (progress !== undefined) {
      let busy = false;
      ticker = setInterval(() => {
        if (busy) return;
        busy = true;
        reports()
          .then((r) => {
            const elapsed = ((performance.now() - t0) / 1000) * speed;
            const modes = new Map<string, number>();
            for (const b of r) modes.set(b.mode, (modes.get(b.mode) ?? 0) + 1);
            const backlog = Math.max(0, ...r.map((b) => b.maxBacklog));
            progress(`${fmtDuration(Math.min(elapsed, duration))} / ${fmtDuration(duration)} ×${speed} | ${[...modes].map(([m, n]) => `${n} ${m}`).join(', ')} | samples made ${r.reduce((a, b) => a + b.produced, 0)} | max backlog ${(backlog / 1024).toFixed(0)} KB | attacks ${attacks.length}`);
          })
          .catch(() => undefined)
          .finally(() => (busy = false));
      }, 1000);
    }

    const aborted = new Promise<void>((resolve) => {
      if (o.stop?.aborted) resolve();
      o.stop?.addEventListener('abort', () => resolve(), { once: true });
    });
    const timeline = (async () => {
      for (const x of steps) {
        await Promise.race([at(x.at), aborted]);
        if (o.stop?.aborted) return;
        await run(x);
      }
      await Promise.race([at(duration), aborted]);
    })();
    await timeline;
    await Promise.all(pending);
    const attackResults = await Promise.all(attacks);
    const ranFor = ((performance.now() - t0) / 1000) * speed;

    // ---- settle: devices stop making samples; every gateway flushes, drains and goes quiet ----
    for (const w of workers) w.post({ type: 'settle' });
    const batchS = Math.max(...(['monitor', 'pump', 'ventilator'] as const).map((k) => DRIVERS[k].sampleMs)) / 1000 + 60;
    const settleEnd = performance.now() + Math.max(120_000, realMs(batchS) * 3);
    let settled = false;
    let last: BedReport[] = [];
    while (performance.now() < settleEnd) {
      last = await reports();
      if (last.every((b) => b.busy === undefined)) {
        settled = true;
        break;
      }
      await sleep(500);
    }
    if (ticker !== undefined) clearInterval(ticker);
    const final = await reports(true);
    const stored = new Map<string, number>();
    for (const b of final) stored.set(b.id, await storedSamples(api(), b.id, new Set(b.boots)));
    const health = (await api()('GET', '/api/health')).json as { ingest?: { duplicates?: number } };
    // latency over the timeline after its warm-up (every gateway connecting and announcing itself at once)
    const warmUp = started + Math.min(30_000, realMs(duration) / 4);
    const latencies: number[] = [];
    for (const b of final) {
      for (const [batch, sentAt] of b.published ?? []) {
        if (sentAt < warmUp) continue;
        const got = received.get(`${b.id}/${batch}`);
        if (got !== undefined && got >= sentAt - 5 && got - sentAt < 60_000) latencies.push(got - sentAt);
      }
    }

    return buildReport({
      scenario: s,
      ward,
      seed,
      speed,
      duration: ranFor,
      realSeconds: (performance.now() - t0) / 1000,
      beds: final,
      busy: settled ? [] : last.filter((b) => b.busy !== undefined).map((b) => `${b.id} (${b.busy})`),
      stored,
      duplicates: (health.ingest?.duplicates ?? 0) - duplicatesAtStart,
      latencies,
      attacks: attackResults,
      commands,
      station,
      faults: faultLog,
      steps,
      config,
    });
  } finally {
    streamWanted = false;
    stream?.close();
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
      if (w.child.exitCode !== null) return resolve();
      w.child.once('exit', () => resolve());
      w.post({ type: 'stop' });
      setTimeout(() => w.child.kill('SIGKILL'), 15_000).unref();
    })));
    await host?.stop('SIGTERM');
    if (temp) for (const d of [dir, `${dir}-audit`]) rmSync(d, { recursive: true, force: true }); // the audit key and checkpoints live beside the data
  }
}

function failedAttack(name: AttackResult['attack'], bed: number, evidence: string): AttackResult {
  return { attack: name, bed, gateway: '?', defence: '?', blocked: false, alarm: '?', alarmed: false, evidence, at: Date.now() };
}

export function fmtDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
