import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { toHex } from '../../firmware/core/hex.js';
import { openBundle } from '../../firmware/core/provision/bundle.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { parsePublicKey } from '../../host/signing/keys.js';
import { required } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { flashPlan, partition, partitionImage, serialPorts } from '../firmware/flash.js';
import { missingToolchain, ROOT, toolPath, which } from '../firmware/toolchain.js';

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** The serial port: --port, else the only one there is, else the technician picks from a list. */
async function pickPort(given: string | undefined, dryRun: boolean): Promise<string> {
  if (given !== undefined) return given;
  const ports = serialPorts(list, existsSync);
  if (ports.length === 1) {
    console.error(`vigil flash: using ${ports[0]} (the only serial port)`);
    return ports[0]!;
  }
  if (ports.length === 0) {
    if (dryRun) return '<serial port>';
    throw new UsageError('no serial port found: connect the ESP32 by USB (a data cable, not a charging one), or name the port with --port /dev/ttyUSB0');
  }
  if (!process.stdin.isTTY) throw new UsageError(`several serial ports: name one with --port (${ports.join(', ')})`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    ports.forEach((p, i) => console.error(`  ${i + 1}. ${p}`));
    const answer = await rl.question(`Which port is the gateway on (1-${ports.length})? `);
    const n = Number(answer.trim());
    if (!Number.isInteger(n) || n < 1 || n > ports.length) throw new UsageError(`"${answer.trim()}" is not one of 1 to ${ports.length}`);
    return ports[n - 1]!;
  } finally {
    rl.close();
  }
}

/** What a real flash needs here; each missing piece says how to get it. */
function missingForFlash(port: string, bundleOnly: boolean): string[] {
  const missing = bundleOnly ? [] : missingToolchain(process.env, 'esp32');
  const path = toolPath(process.env);
  if (which('esptool.py', path) === undefined) missing.push("esptool.py: Espressif's flasher (ESP-IDF's export.sh puts it on PATH; or pip install esptool)");
  if (!existsSync(port)) missing.push(`the serial port ${port} does not exist: is the ESP32 connected by USB?`);
  else if (!statSync(port).isCharacterDevice()) missing.push(`${port} is not a serial port`);
  return missing;
}

const line = (s: { env: Readonly<Record<string, string>>; argv: readonly string[] }) =>
  [...Object.entries(s.env).map(([k, v]) => `${k}=${v}`), ...s.argv].map((a) => (/[\s'"$<>]/.test(a) ? `'${a.replaceAll("'", "'\\''")}'` : a)).join(' ');

/**
 * `vigil flash`: a gateway from a new ESP32 — the site image (one for the whole site) and then this
 * gateway's signed bundle into its own partition. The bundle is checked against the site key before
 * anything is written; the prerequisites are checked before anything runs.
 */
export const flashCommand: Command = {
  name: 'flash',
  summary: "write the site's firmware and a gateway's provisioning bundle to an ESP32 over USB (checks first; --dry-run prints the commands)",
  usage: 'vigil flash --bundle <file from vigil provision> [--port <serial port>] [--data-dir .vigil] [--out <build dir>] [--bundle-only] [--dry-run]',
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: { bundle: { type: 'string' }, port: { type: 'string' }, 'data-dir': { type: 'string' }, out: { type: 'string' }, 'bundle-only': { type: 'boolean', default: false }, 'dry-run': { type: 'boolean', default: false } }, strict: true });
    const bundleFile = required(values.bundle, '--bundle');
    const dir = values['data-dir'] ?? '.vigil';
    const siteFile = join(dir, 'site.json');
    if (!existsSync(siteFile)) throw new UsageError(`no site at ${dir} (give the site's --data-dir: the site id and its provisioning key come from ${siteFile})`);
    const site = JSON.parse(readFileSync(siteFile, 'utf8')) as { site: string; rootPublicKey: string };
    const rootKey = parsePublicKey(site.rootPublicKey);
    if (!existsSync(bundleFile)) throw new UsageError(`no bundle at ${bundleFile}: make it with vigil provision <id> --bundle ${bundleFile} --broker <url>`);
    const bundle = new Uint8Array(readFileSync(bundleFile));
    const checked = openBundle(bundle, site.site, rootKey, ed25519Verify);
    if (!checked.ok) throw new UsageError(`${bundleFile} would be refused by the gateway: ${checked.error}`);
    const opened = { value: checked.value.bundle };
    const port = await pickPort(values.port, values['dry-run']);
    const plan = flashPlan({ port, site: site.site, rootKey: toHex(rootKey), out: resolve(values.out ?? join(ROOT, 'dist', 'firmware', 'esp32-site')), bundleOnly: values['bundle-only'] });
    const image = partitionImage(bundle, partition('vigilcfg').size);
    const header = `gateway ${opened.value.gateway} of site ${site.site} (broker ${opened.value.broker.url}${opened.value.profile ? `, expects a ${opened.value.profile}` : ''}) on ${port}`;
    if (values['dry-run']) {
      const missing = missingForFlash(port, values['bundle-only']);
      console.log(`# vigil flash --dry-run: ${header}`);
      if (missing.length > 0) console.log(`# not ready on this machine:\n${missing.map((m) => `#   - ${m}`).join('\n')}`);
      console.log(`cd ${ROOT}`);
      for (const [i, s] of plan.steps.entries()) {
        if (i === plan.steps.length - 1) console.log(`# vigil writes ${plan.image}: the bundle, ${bundle.length} bytes, after its 4-byte length, for the vigilcfg partition at 0x${plan.offset.toString(16)}`);
        console.log(line(s));
      }
      return 0;
    }
    const missing = missingForFlash(port, values['bundle-only']);
    if (missing.length > 0) {
      console.error(`vigil flash: cannot flash ${header}; missing:\n${missing.map((m) => `  - ${m}`).join('\n')}\nvigil flash --dry-run prints the commands it would run.`);
      return 1;
    }
    console.error(`vigil flash: ${header}`);
    const env = { ...process.env, PATH: toolPath(process.env) };
    for (const [i, s] of plan.steps.entries()) {
      if (i === plan.steps.length - 1) {
        mkdirSync(resolve(plan.image, '..'), { recursive: true });
        writeFileSync(plan.image, image, { mode: 0o600 });
      }
      console.error(`$ ${line(s)}`);
      const r = spawnSync(s.argv[0]!, s.argv.slice(1), { cwd: ROOT, stdio: 'inherit', env: { ...env, ...s.env } });
      if (r.status !== 0) {
        console.error(`vigil flash: failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}): ${line(s)}`);
        return 1;
      }
    }
    console.error(`vigil flash: done. The gateway reads its bundle at first boot and joins ${opened.value.broker.url} as ${opened.value.gateway}; watch for it on the station's Fleet page.`);
    return 0;
  },
};
