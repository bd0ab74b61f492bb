import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEVICE_KINDS, type DeviceKind, type DeviceProfile } from '../../firmware/core/command/index.js';
import { ed25519Verify } from '../../firmware/crypto/ed25519.js';
import { simulatedDeviceOnLine } from '../../firmware/platform/node/device-line.js';
import { FileFlash } from '../../firmware/platform/node/file-flash.js';
import { knownModels, loadProfile } from '../../firmware/platform/node/profiles.js';
import { startNodeGateway } from '../../firmware/platform/node/runtime.js';
import { FileStore } from '../../firmware/platform/node/store.js';
import { parsePublicKey } from '../../host/signing/keys.js';
import { required, siteAndGateway } from '../args.js';
import { UsageError, type Command } from '../command.js';

/** One gateway on the Node platform, with a simulated device on a simulated serial line. */
export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'run one gateway against a broker, with a simulated device on a (lossy) serial line',
  usage:
    'vigil gateway --broker <mqtt://host:port> --site <id> --gateway <id> --root <pubkey> --device monitor|pump|ventilator\n' +
    '              [--serial <device serial>] [--data-dir <dir>] [--loss <0..1>] [--corrupt <0..1>] [--username <u> --password <p>]',
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        broker: { type: 'string' },
        site: { type: 'string' },
        gateway: { type: 'string' },
        root: { type: 'string' },
        device: { type: 'string' },
        serial: { type: 'string' },
        'data-dir': { type: 'string' },
        loss: { type: 'string' },
        corrupt: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
      },
      strict: true,
    });
    const { site, gateway } = siteAndGateway(values);
    const kind = required(values.device, '--device') as DeviceKind;
    if (DEVICE_KINDS.indexOf(kind) < 0) throw new UsageError(`--device expects one of ${DEVICE_KINDS.join(', ')}, got "${kind}"`);
    const rate = (v: string | undefined, name: string) => {
      const n = v === undefined ? 0 : Number(v);
      if (!(n >= 0 && n < 1)) throw new UsageError(`${name} expects a probability in [0, 1), got "${v}"`);
      return n;
    };
    const dir = values['data-dir'] ?? join('.vigil', gateway);
    mkdirSync(dir, { recursive: true });
    const profiles = new Map<string, DeviceProfile>(knownModels().map((m) => [m, loadProfile(m)]));
    const device = simulatedDeviceOnLine({ kind, serial: values.serial ?? `${kind.toUpperCase()}-${gateway}`, seed: Date.now() % 100_000, faults: { loss: rate(values.loss, '--loss'), corrupt: rate(values.corrupt, '--corrupt'), duplicate: 0 } });
    const gw = startNodeGateway({
      config: { site, gateway, firmware: '0.1.0', rootKey: parsePublicKey(required(values.root, '--root')), profiles },
      ports: { flash: new FileFlash(join(dir, 'vitals.flash'), 240), store: new FileStore(join(dir, 'store.json')), verify: ed25519Verify, random: (n) => new Uint8Array(randomBytes(n)) },
      brokerUrl: required(values.broker, '--broker'),
      ...(values.username === undefined ? {} : { username: values.username }),
      ...(values.password === undefined ? {} : { password: values.password }),
      serial: device.port,
    });
    console.error(`gateway ${site}/${gateway} with a simulated ${kind}; flash and state in ${dir}; Ctrl-C stops`);
    let last = '';
    const status = setInterval(() => {
      const s = gw.core.log.stats();
      const line = `${gw.core.mode}, backlog ${s.used} B, dropped ${s.dropped}, published ${gw.core.stats.published}, history ${gw.core.stats.historySent}`;
      if (line !== last) console.error(line);
      last = line;
    }, 5000);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    clearInterval(status);
    device.stop();
    await gw.stop();
    return 0;
  },
};
