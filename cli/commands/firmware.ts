import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { toHex } from '../../firmware/core/hex.js';
import { parsePublicKey } from '../../host/signing/keys.js';
import { afterVerb, required, siteAndGateway } from '../args.js';
import { UsageError, type Command } from '../command.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What a firmware build needs on this machine, each with how to get it; empty when all is there. */
export function missingToolchain(env: NodeJS.ProcessEnv): string[] {
  const missing: string[] = [];
  if (!env['MODDABLE'] || !existsSync(join(env['MODDABLE'], 'build'))) missing.push('$MODDABLE must point at a Moddable SDK 8.2.x checkout (https://github.com/Moddable-OpenSource/moddable, documentation/Moddable SDK - Getting Started.md)');
  if (spawnSync('mcconfig', ['-h'], { stdio: 'ignore' }).error) missing.push('mcconfig must be on PATH (build the Moddable tools: cd $MODDABLE/build/makefiles/lin && make)');
  if (!env['IDF_PATH'] || !existsSync(env['IDF_PATH'])) missing.push('$IDF_PATH must point at ESP-IDF 6.0, set up with its export.sh (documentation/devices/esp32.md in the SDK)');
  if (spawnSync('tsc', ['-v'], { stdio: 'ignore' }).error) missing.push('tsc must be on PATH: mcconfig runs it for the TypeScript modules (npm i -g typescript@5.9.3, or add node_modules/.bin to PATH)');
  return missing;
}

export const firmwareCommand: Command = {
  name: 'firmware',
  summary: 'build the ESP32 firmware with the Moddable SDK ("firmware build"); --dry-run prints the commands',
  usage: 'vigil firmware build --site <id> --gateway <id> --root <pubkey> --broker <mqtt://…> [--secret-file <file from vigil provision>] [--ssid <s> --password <p>] [--release] [--dry-run]',
  async run(args) {
    const rest = afterVerb(args, 'firmware', 'build');
    const { values } = parseArgs({
      args: rest,
      options: {
        site: { type: 'string' },
        gateway: { type: 'string' },
        root: { type: 'string' },
        broker: { type: 'string' },
        ssid: { type: 'string' },
        password: { type: 'string' },
        'secret-file': { type: 'string' },
        release: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
      },
      strict: true,
    });
    const { site, gateway } = siteAndGateway(values);
    const root = toHex(parsePublicKey(required(values.root, '--root')));
    const broker = required(values.broker, '--broker');
    const config = [`site=${site}`, `gateway=${gateway}`, `rootKey=${root}`, `broker=${broker}`];
    if (values.ssid !== undefined) config.push(`ssid=${values.ssid}`, `password=${values.password ?? ''}`);
    if (values['secret-file'] !== undefined) {
      // the broker login `vigil provision` issued: username = gateway id (docs/host.md)
      if (!existsSync(values['secret-file'])) throw new UsageError(`no secret file ${values['secret-file']}: make one with "vigil provision ${gateway} > ${values['secret-file']}"`);
      const secret = readFileSync(values['secret-file'], 'utf8').trim();
      if (!/^[A-Za-z0-9_-]{16,}$/.test(secret)) throw new UsageError(`${values['secret-file']} does not hold a secret from vigil provision`);
      config.push(`mqttUser=${gateway}`, `mqttPassword=${secret}`);
    }
    const mcconfig = ['mcconfig', ...(values.release ? [] : ['-d']), '-m', '-p', 'esp32', join(ROOT, 'manifest.json'), ...config];
    const shown = mcconfig.map((a) => (a.startsWith('password=') ? 'password=…' : a.startsWith('mqttPassword=') ? 'mqttPassword=…' : a)).join(' ');
    if (values['dry-run']) {
      console.log(`cd ${ROOT}\n${shown}`);
      return 0;
    }
    const missing = missingToolchain(process.env);
    if (missing.length > 0) {
      console.error(`vigil firmware build: cannot build here; missing:\n${missing.map((m) => `  - ${m}`).join('\n')}\nThe command it would run:\n  ${shown}`);
      return 1;
    }
    const r = spawnSync(mcconfig[0]!, mcconfig.slice(1), { cwd: ROOT, stdio: 'inherit' });
    return r.status ?? 1;
  },
};
