/**
 * The firmware as the Moddable SDK builds it, on Moddable's own Linux runtime (mcsim, headless), against
 * the real host: built by `vigil firmware build --platform lin`, run by `vigil firmware run` with the
 * simulated pump on the other end of a pty (socat), so the device link goes through Moddable's
 * `embedded:io/serial`, the vitals log through a NOR-semantics file, the MQTT session through the SDK's
 * `mqtt` module and sockets, Ed25519 through the native module on libsodium. Core defaults throughout
 * (5 s batches live, 60 s batches in an outage): nothing is tuned for the test.
 *
 * Needs the SDK tools: `bash .ci/moddable-sdk` builds them and prints the MODDABLE to export (.ci/run
 * does both). Without them every case fails, naming what is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, buildPlan } from '../../cli/firmware/plan.js';
import { startMcsim, stopGroup } from '../../cli/firmware/run.js';
import { toHex } from '../../firmware/core/hex.js';
import { missingRuntime, missingToolchain, toolPath } from '../../cli/firmware/toolchain.js';
import type { Host } from '../../host/service.js';
import type { SitePaths } from '../../host/site.js';
import { apiClient } from '../support/api.js';
import { startMqttProxy, type MqttProxy } from '../../simulator/net-proxy.js';
import { makeSite, PASSPHRASES, PASSWORD, provision, removeSite, sleep, startSiteHost, storedSeqs, until } from '../support/ward.js';

const bin = fileURLToPath(new URL('../../bin/vigil.mjs', import.meta.url));
const GATEWAY = 'gw-lin';
const env = { ...process.env, PATH: toolPath(process.env) };

function requireModdable(): void {
  const missing = [...missingToolchain(process.env, 'lin'), ...missingRuntime(process.env)];
  if (missing.length > 0) throw new Error(`the Moddable SDK tools are needed (bash .ci/moddable-sdk builds them and prints MODDABLE=… to export):\n  - ${missing.join('\n  - ')}`);
}

/** The output of a child, line by line, kept for the test to wait on. */
function collect(child: ChildProcess): { lines: string[]; text(): string } {
  const lines: string[] = [];
  let partial = '';
  const take = (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return { lines, text: () => lines.join('\n') };
}

let dir: string;
let paths: SitePaths;
let host: Host;
let proxy: MqttProxy;
let out: string;
let run: ChildProcess | undefined;
let runOut: { lines: string[]; text(): string };
/** Every line of every run, for the heap figures. */
const allLines: string[] = [];

function startRun(): void {
  run = spawn(process.execPath, [bin, 'firmware', 'run', '--out', out, '--device', 'pump', '--seed', '3'], { env: process.env, detached: true });
  runOut = collect(run);
  run.on('exit', () => allLines.push(...runOut.lines));
}
const tokens = new Map<string, string>();
const api = apiClient(() => host.httpUrl, tokens);

beforeAll(async () => {
  requireModdable();
  ({ dir, paths } = makeSite('ward-lin'));
  host = await startSiteHost(dir, paths);
  proxy = await startMqttProxy({ host: '127.0.0.1', port: host.broker!.port });
  out = mkdtempSync(join(tmpdir(), 'vigil-fw-lin-'));
  writeFileSync(join(out, 'gw.secret'), `${provision(paths, GATEWAY)}\n`);
  const login = await api(undefined, 'POST', '/api/login', { username: 'ana', password: PASSWORD });
  tokens.set('ana', login.json.token);
}, 60_000);

afterAll(async () => {
  await stopGroup(run);
  await proxy?.close();
  await host?.close();
  if (dir !== undefined) removeSite(dir);
  if (out !== undefined) rmSync(out, { recursive: true, force: true });
});

const gw = () => host.gateway(GATEWAY);
const events = (code: string) => host.db.prepare<[string, string], { detail: string }>('SELECT detail FROM events WHERE gateway = ? AND code = ? ORDER BY id').all(GATEWAY, code).map((r) => r.detail);

describe('the firmware built by the Moddable SDK, on its Linux runtime, against the host', () => {
  it('refuses to start with a root key the Node gateway refuses (all zero): a clear trace, the alarm output on, no connection', async () => {
    const plan = buildPlan({ platform: 'lin', out, release: false, jsOnly: false, config: ['site=ward-lin', `gateway=${GATEWAY}`, `rootKey=${'00'.repeat(32)}`, `broker=mqtt://127.0.0.1:${proxy.port}`, `serialDevice=${join(out, 'serial')}`, `flashFile=${join(out, 'vitals.flash')}`] });
    for (const step of plan.steps) {
      const r = spawnSync(step[0]!, step.slice(1), { env, encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(r.status, `${step.join(' ')}\n${r.stderr.slice(-3000)}`).toBe(0);
    }
    const sim = startMcsim(plan.app, env);
    const o = collect(sim);
    try {
      await until('the refusal', () => o.text().includes('vigil alarm-output on'), 30_000);
      expect(o.text()).toMatch(/vigil: refusing to start: the root key in the config is unusable \(small-order\)/);
      await sleep(1500);
      expect(o.text()).not.toMatch(/vigil: gateway .* started/);
      expect(proxy.captured).toHaveLength(0);
      expect(gw()).toBeUndefined();
    } finally {
      await stopGroup(sim);
    }
  }, 600_000);

  it('builds with vigil firmware build --platform lin', () => {
    const r = spawnSync(process.execPath, [bin, 'firmware', 'build', '--platform', 'lin', '--site', 'ward-lin', '--gateway', GATEWAY, '--root', toHex(paths.rootPublicKey), '--broker', `mqtt://127.0.0.1:${proxy.port}`, '--secret-file', join(out, 'gw.secret'), '--out', out], { env: process.env, encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/vigil firmware build: built lin: .*mc\.so/);
    expect(r.stdout + r.stderr).not.toContain(readFileSync(join(out, 'gw.secret'), 'utf8').trim());
  }, 600_000);

  it('runs under vigil firmware run, comes online at the host with the simulated pump identified over the pty', async () => {
    startRun();
    await until('the gateway online with its device', () => gw()?.presence === 'online' && gw()?.device_serial === 'PUMP-LIN-3', 60_000);
    expect(runOut.text()).toMatch(new RegExp(`vigil firmware run: pid ${run!.pid} `));
    expect(gw()?.firmware).toBeTruthy();
  }, 90_000);

  it('streams vitals from the device that the host commits and acks', async () => {
    await until('three batches stored', () => [...storedSeqs(host, GATEWAY).values()].flat().length >= 3, 60_000);
    const through = () => host.db.prepare<[string], { through: number }>('SELECT max(through) AS through FROM boots WHERE gateway = ?').get(GATEWAY)?.through ?? -1;
    await until('acked', () => through() >= 2, 30_000);
    await until('the gateway reports its flash emptied by the acks', () => (gw()?.buffer_used ?? Infinity) < 4096, 30_000);
  }, 120_000);

  it('survives a 70 s broker outage with a power cut in it: the records wait in its flash file and are drained afterwards, none lost', async () => {
    const flash = join(out, 'vitals.flash');
    expect(statSync(flash).size).toBe(240 * 4096);
    const firstBoot = toHex(gw()!.boot_id!);
    const lastOfFirstBoot = () => storedSeqs(host, GATEWAY).get(firstBoot.toUpperCase())?.at(-1) ?? -1;
    proxy.cut();
    await until('the host sees the gateway gone', () => gw()?.presence !== 'online', 30_000);
    const storedBeforeCut = lastOfFirstBoot();
    // past the first 60 s outage batch, so records of this boot sit in the flash file
    await sleep(65_000);
    // a power cut: the firmware's whole process group (xvfb-run, mcsim) killed at once
    const group = Number(/process group (\d+)/.exec(runOut.text())![1]);
    const exited = new Promise<number | null>((r) => run!.once('exit', (c) => r(c)));
    process.kill(-group, 'SIGKILL');
    expect(await exited).toBe(1);
    startRun();
    await sleep(5000);
    proxy.restore();
    await until('online again, a new boot', () => gw()?.presence === 'online' && toHex(gw()!.boot_id!) !== firstBoot, 60_000);
    // the first boot is gone: whatever of it arrives now came out of the flash file, as history
    await until('the first boot\'s backlog drained from the flash file', () => lastOfFirstBoot() > storedBeforeCut, 60_000);
    const late = host.db.prepare<[string, string, number], { historical: number }>('SELECT historical FROM batches WHERE gateway = ? AND hex(boot_id) = ? AND seq > ?').all(GATEWAY, firstBoot.toUpperCase(), storedBeforeCut);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((r) => r.historical === 1)).toBe(true);
    // the new boot's own records (a pump reports every 10 s, so its first batch can come after the drain)
    await until('the new boot stores its own batches', () => storedSeqs(host, GATEWAY).size === 2, 60_000);
    await sleep(6000);
    const seqs = storedSeqs(host, GATEWAY);
    expect(seqs.size).toBe(2);
    for (const [boot, list] of seqs) {
      expect(list, `boot ${boot}`).toEqual(Array.from({ length: list.at(-1)! + 1 }, (_, i) => i));
    }
    expect(host.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM gaps WHERE gateway = ?').get(GATEWAY)!.n).toBe(0);
  }, 300_000);

  it('applies a signed setting change at the device (read-back) and refuses the same bytes replayed on the wire', async () => {
    const post = await api('ana', 'POST', '/api/commands', { passphrase: PASSPHRASES.ana, gateway: GATEWAY, orderId: 'ORD-LIN-1', params: { rate: { value: 120, unit: 'mL/h' } } });
    expect(post.status).toBe(201);
    const id = post.json.id as number;
    await until('applied', () => host.commands.get(id).status === 'applied', 60_000);
    await until('the device shows the new rate', () => /device PUMP-LIN-3: rate \S+ -> 120/.test(runOut.text()), 10_000);
    const command = proxy.captured.filter((c) => c.topic.endsWith(`/${GATEWAY}/cmd`));
    expect(command).toHaveLength(1);
    expect(proxy.inject(command[0]!.packet)).toBe(1);
    await until('the replay refused and reported', () => events('cmd-rejected').some((d) => d.includes('replay')), 30_000);
    await sleep(1000);
    expect(runOut.text().match(/device PUMP-LIN-3: rate/g)).toHaveLength(1);
    expect(host.commands.get(id).status).toBe('applied');
  }, 120_000);

  it('stops everything it started when stopped by its PID', async () => {
    const pid = run!.pid!;
    const exited = new Promise<number | null>((r) => run!.once('exit', (c) => r(c)));
    process.kill(pid, 'SIGTERM');
    expect(await exited).toBe(0);
    await until('the gateway gone from the host', () => gw()?.presence !== 'online', 30_000);
    expect(existsSync(join(out, 'serial'))).toBe(false);
    await sleep(100);
    // each run's samples, the first ten seconds (start-up) apart for the lowest figure
    const samples: number[][] = [];
    const steady: number[][] = [];
    let since = 0;
    for (const l of allLines) {
      if (l.startsWith('instruments key: ')) since = 0;
      if (!l.startsWith('instruments: ')) continue;
      const row = l.slice(13).split(',').map(Number);
      samples.push(row);
      if (++since > 10) steady.push(row);
    }
    expect(samples.length).toBeGreaterThan(60);
    writeFigures(samples, steady);
  }, 60_000);
});

/**
 * The figures docs/gateway.md quotes, from this run (measurements, not assertions): the XS heap as
 * Moddable's instrumentation sampled it once a second (columns named by its "instruments key" line:
 * chunk bytes, slot bytes at 32 bytes a slot on 64-bit Linux, stack bytes), and the linked archive.
 */
function writeFigures(samples: number[][], steady: number[][]): void {
  const col = (name: string) => allLines.find((l) => l.startsWith('instruments key: '))!.slice(17).split(',').indexOf(name);
  const [chunk, slot, stack] = [col('Chunk used'), col('Slot used'), col('Stack used')];
  const max = (i: number, rows = samples) => Math.max(...rows.map((r) => r[i]!));
  const min = (i: number, rows = steady) => Math.min(...rows.map((r) => r[i]!));
  const tmp = join(out, 'tmp', 'lin', 'mc', 'debug', APP);
  const size = spawnSync('size', [join(tmp, 'mc.xs.c.o')], { encoding: 'utf8' }).stdout.trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
  const xsb = readdirSync(join(tmp, 'modules'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.xsb')).reduce((n, f) => n + statSync(join(tmp, 'modules', f)).size, 0);
  const figures = {
    measured: new Date().toISOString(),
    seconds: samples.length,
    heap: { chunkBytesPeak: max(chunk), slotsPeak: max(slot) / 32, chunkBytesLowest: min(chunk), slotsLowest: min(slot) / 32, stackSlotsPeak: max(stack) / 32 },
    archive: { xsCodeText: size[0], xsCodeData: size[1], xsbBytes: xsb },
  };
  mkdirSync('.tmp', { recursive: true });
  writeFileSync('.tmp/moddable-lin.json', `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`moddable-lin figures: ${JSON.stringify(figures)}`);
}


describe('a site image: one firmware for every gateway of the site, each joining by its signed provisioning bundle', () => {
  let siteOut: string;
  let siteRun: ChildProcess | undefined;
  const vigil = (args: string[], extra: Record<string, string> = {}) =>
    new Promise<{ code: number | null; text: string }>((resolve) => {
      const c = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...extra } });
      const o = collect(c);
      c.on('exit', (code) => resolve({ code, text: o.text() }));
    });

  afterAll(async () => {
    await stopGroup(siteRun);
    if (siteOut !== undefined) rmSync(siteOut, { recursive: true, force: true });
  });

  it('builds with the site id and its root key only (no gateway, broker or secret in the image)', async () => {
    siteOut = mkdtempSync(join(tmpdir(), 'vigil-fw-site-'));
    const r = await vigil(['firmware', 'build', '--platform', 'lin', '--site', 'ward-lin', '--root', toHex(paths.rootPublicKey), '--out', siteOut]);
    expect(r.code, r.text.slice(-3000)).toBe(0);
    expect(r.text).toMatch(/vigil firmware build: built lin/);
  }, 600_000);

  it('refuses to start on a bundle from another site: the reason traced, the alarm output on, no connection', async () => {
    const other = makeSite('ward-lin'); // the same site id, other keys
    try {
      const made = await vigil(['provision', 'gw-site', '--data-dir', other.dir, '--bundle', join(siteOut, 'bundle.cbor'), '--broker', `mqtt://127.0.0.1:${host.broker!.port}`]);
      expect(made.code, made.text).toBe(0);
    } finally {
      removeSite(other.dir);
    }
    const sim = startMcsim(buildPlan({ platform: 'lin', out: siteOut, release: false, jsOnly: false, config: [] }).app, env);
    const o = collect(sim);
    try {
      await until('the refusal', () => o.text().includes('vigil alarm-output on'), 30_000);
      expect(o.text()).toMatch(/vigil: refusing to start: the bundle file: its site key is not certified by the root key of ward-lin/);
      await sleep(1000);
      expect(o.text()).not.toMatch(/vigil: gateway .* started/);
      expect(host.gateway('gw-site')).toBeUndefined();
    } finally {
      await stopGroup(sim);
    }
  }, 60_000);
});
