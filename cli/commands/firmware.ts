import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toHex } from '../../firmware/core/hex.js';
import { parsePublicKey } from '../../host/signing/keys.js';
import { afterVerb, required, siteAndGateway } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { buildPlan, defaultOut, shown, type BuildRequest } from '../firmware/plan.js';
import { runFirmware, type BuildRecord } from '../firmware/run.js';
import { missingToolchain, ROOT, toolPath, type Platform } from '../firmware/toolchain.js';

export { missingToolchain } from '../firmware/toolchain.js';

const USAGE = [
  'vigil firmware build --platform esp32|lin --site <id> --root <root public key> [--out <dir>] [--release] [--dry-run]',
  '                     (one image for every gateway of the site: each reads its signed provisioning bundle at first boot)',
  '                     lin: [--bundle-file <path>] [--serial-device <path>] [--flash-file <path>]   esp32: [--js-only]',
  'vigil firmware build --platform esp32|lin --site <id> --gateway <id> --root <pubkey> --broker <mqtt://…>   (an image for one gateway)',
  '                     [--secret-file <file from vigil provision>] [--out <dir>] [--release] [--dry-run]',
  '                     esp32: [--ssid <s> --password <p>] [--js-only]   lin: [--serial-device <path>] [--flash-file <path>]',
  'vigil firmware run [--out <dir of a lin build>] [--device pump|ventilator|monitor] [--serial <device serial>] [--seed <n>] [--duration <s>]',
].join('\n  ');

function platformOf(value: string | undefined): Platform {
  const p = value ?? 'esp32';
  if (p !== 'esp32' && p !== 'lin') throw new UsageError(`--platform is esp32 (the gateway) or lin (Moddable's Linux runtime, for tests), got "${p}"`);
  return p;
}

/** The broker login `vigil provision` issued: username = gateway id (docs/host.md). */
function brokerLogin(file: string | undefined, gateway: string): string[] {
  if (file === undefined) return [];
  if (!existsSync(file)) throw new UsageError(`no secret file ${file}: make one with "vigil provision ${gateway} > ${file}"`);
  const secret = readFileSync(file, 'utf8').trim();
  if (!/^[A-Za-z0-9_-]{16,}$/.test(secret)) throw new UsageError(`${file} does not hold a secret from vigil provision`);
  return [`mqttUser=${gateway}`, `mqttPassword=${secret}`];
}

function parseBuild(args: readonly string[]): BuildRequest & { dryRun: boolean; record: Omit<BuildRecord, 'app'> } {
  const { values } = parseArgs({
    args,
    options: {
      platform: { type: 'string' },
      site: { type: 'string' },
      gateway: { type: 'string' },
      root: { type: 'string' },
      broker: { type: 'string' },
      ssid: { type: 'string' },
      password: { type: 'string' },
      'secret-file': { type: 'string' },
      out: { type: 'string' },
      'serial-device': { type: 'string' },
      'flash-file': { type: 'string' },
      'js-only': { type: 'boolean' },
      release: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'bundle-file': { type: 'string' },
    },
    strict: true,
  });
  const platform = platformOf(values.platform);
  if (values.gateway === undefined) return parseSiteBuild(platform, values);
  if (values['bundle-file'] !== undefined) throw new UsageError('--bundle-file is for a site image (without --gateway: each gateway reads its bundle at boot)');
  const { site, gateway } = siteAndGateway(values);
  const root = toHex(parsePublicKey(required(values.root, '--root')));
  const broker = required(values.broker, '--broker');
  if (!/^mqtt:\/\/[^:/\s]+(:\d{1,5})?\/?$/.test(broker)) throw new UsageError(`--broker must be mqtt://host[:port] (the firmware speaks MQTT over TCP), got "${broker}"`);
  const out = resolve(values.out ?? defaultOut(platform));
  const config = [`site=${site}`, `gateway=${gateway}`, `rootKey=${root}`, `broker=${broker}`, ...brokerLogin(values['secret-file'], gateway)];
  const serialDevice = resolve(values['serial-device'] ?? join(out, 'serial'));
  const flashFile = resolve(values['flash-file'] ?? join(out, 'vitals.flash'));
  if (platform === 'lin') {
    for (const o of ['ssid', 'password', 'js-only'] as const) if (values[o] !== undefined) throw new UsageError(`--${o} is for --platform esp32`);
    config.push(`serialDevice=${serialDevice}`, `flashFile=${flashFile}`);
  } else {
    for (const o of ['serial-device', 'flash-file'] as const) if (values[o] !== undefined) throw new UsageError(`--${o} is for --platform lin`);
    if (values.ssid !== undefined) config.push(`ssid=${values.ssid}`, `password=${values.password ?? ''}`);
  }
  return buildRequest(platform, out, values, config, { platform, site, gateway, broker, serialDevice, flashFile });
}

/** The request both kinds of image make, from the options they share. */
function buildRequest(platform: Platform, out: string, values: BuildValues, config: string[], record: Omit<BuildRecord, 'app'>): ReturnType<typeof parseBuild> {
  return { platform, out, release: values.release === true, jsOnly: values['js-only'] === true, config, dryRun: values['dry-run'] === true, record };
}

type BuildValues = Partial<Record<'site' | 'gateway' | 'root' | 'broker' | 'ssid' | 'password' | 'secret-file' | 'out' | 'serial-device' | 'flash-file' | 'bundle-file', string>> & Partial<Record<'js-only' | 'release' | 'dry-run', boolean>>;

/** A site image: the site id and its root public key compiled in; the rest from each gateway's bundle at boot. */
function parseSiteBuild(platform: Platform, values: BuildValues): ReturnType<typeof parseBuild> {
  for (const o of ['broker', 'secret-file', 'ssid', 'password'] as const) if (values[o] !== undefined) throw new UsageError(`--${o} comes from each gateway's provisioning bundle in a site image (or name --gateway for an image of one gateway)`);
  const site = required(values.site, '--site');
  const rootKey = toHex(parsePublicKey(required(values.root, '--root')));
  const out = resolve(values.out ?? defaultOut(platform));
  const config = [`site=${site}`, `rootKey=${rootKey}`, 'siteImage=1'];
  const serialDevice = resolve(values['serial-device'] ?? join(out, 'serial'));
  const flashFile = resolve(values['flash-file'] ?? join(out, 'vitals.flash'));
  const bundleFile = resolve(values['bundle-file'] ?? join(out, 'bundle.cbor'));
  if (platform === 'lin') config.push(`serialDevice=${serialDevice}`, `flashFile=${flashFile}`, `bundleFile=${bundleFile}`);
  else for (const o of ['serial-device', 'flash-file', 'bundle-file'] as const) if (values[o] !== undefined) throw new UsageError(`--${o} is for --platform lin (the ESP32 reads its bundle from the vigilcfg partition)`);
  return buildRequest(platform, out, values, config, { platform, site, gateway: `(from ${bundleFile})`, broker: '(from the bundle)', serialDevice, flashFile });
}

function build(args: readonly string[]): number {
  const request = parseBuild(args);
  const plan = buildPlan(request);
  if (request.dryRun) {
    console.log([`cd ${ROOT}`, ...plan.steps.map(shown)].join('\n'));
    return 0;
  }
  const missing = missingToolchain(process.env, request.platform, request.jsOnly);
  if (missing.length > 0) {
    console.error(`vigil firmware build: cannot build for ${request.platform} here; missing:\n${missing.map((m) => `  - ${m}`).join('\n')}\nThe commands it would run:\n${plan.steps.map((s) => `  ${shown(s)}`).join('\n')}`);
    return 1;
  }
  const env = { ...process.env, PATH: toolPath(process.env) };
  for (const step of plan.steps) {
    const r = spawnSync(step[0]!, step.slice(1), { cwd: ROOT, stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(`vigil firmware build: failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}): ${shown(step)}`);
      return 1;
    }
  }
  if (request.platform === 'lin') writeFileSync(join(request.out, 'vigil-firmware.json'), `${JSON.stringify({ ...request.record, app: plan.app }, null, 2)}\n`);
  console.log(`vigil firmware build: built ${request.platform}${request.jsOnly ? ' (JavaScript half)' : ''}: ${plan.app}`);
  return 0;
}

export const firmwareCommand: Command = {
  name: 'firmware',
  summary: 'build the gateway firmware with the Moddable SDK ("firmware build"), run the Linux build ("firmware run")',
  usage: USAGE,
  async run(args) {
    if (args[0] === 'run') return runFirmware(args.slice(1));
    return build(afterVerb(args, 'firmware', 'build'));
  },
};
