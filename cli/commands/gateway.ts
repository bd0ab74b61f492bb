import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEVICE_KINDS, type DeviceKind } from '../../firmware/core/command/index.js';
import { parsePublicKey } from '../../host/signing/keys.js';
import { startSimulatedGateway } from '../../simulator/gateway.js';
import { required, siteAndGateway } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { readBundle } from '../../firmware/platform/node/bundle.js';

/** One gateway on the Node platform, with a simulated device on a simulated serial line. */
export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'run one gateway against a broker, with a simulated device on a (lossy) serial line',
  usage:
    'vigil gateway --broker <mqtt://host:port> --site <id> --gateway <id> --root <pubkey> --device monitor|pump|ventilator\n' +
    '              [--serial <device serial>] [--data-dir <dir>] [--loss <0..1>] [--corrupt <0..1>] [--username <u> --password <p>]\n' +
    '       vigil gateway --bundle <file> --site <id> --root <root public key> --device monitor|pump|ventilator [--serial …] [--data-dir …]\n' +
    '              (as a flashed gateway boots: everything else from its signed provisioning bundle)',
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
        bundle: { type: 'string' },
      },
      strict: true,
    });
    const kind = required(values.device, '--device') as DeviceKind;
    if (DEVICE_KINDS.indexOf(kind) < 0) throw new UsageError(`--device expects one of ${DEVICE_KINDS.join(', ')}, got "${kind}"`);
    const rate = (v: string | undefined, name: string) => {
      const n = v === undefined ? 0 : Number(v);
      if (!(n >= 0 && n < 1)) throw new UsageError(`${name} expects a probability in [0, 1), got "${v}"`);
      return n;
    };
    let login: { site: string; gateway: string; brokerUrl: string; rootKey: Uint8Array; username?: string; password?: string; model?: string };
    if (values.bundle !== undefined) {
      for (const o of ['broker', 'gateway', 'username', 'password'] as const) if (values[o] !== undefined) throw new UsageError(`--${o} comes from the bundle; leave it out`);
      const site = required(values.site, '--site');
      const dataDir = values['data-dir'] ?? join('.vigil', 'gateway-from-bundle');
      mkdirSync(dataDir, { recursive: true });
      const b = readBundle(values.bundle, site, parsePublicKey(required(values.root, '--root')), join(dataDir, 'site-key-epoch'));
      if (!b.ok) throw new UsageError(`${values.bundle}: ${b.error}`);
      if (b.value.broker.password === undefined) throw new UsageError(`${values.bundle}: logs in by client certificate; the Node gateway logs in by password (use the firmware build for mTLS)`);
      login = { site, gateway: b.value.gateway, brokerUrl: b.value.broker.url, rootKey: b.value.rootKey, username: b.value.broker.username, password: b.value.broker.password, ...(b.value.profile === undefined ? {} : { model: b.value.profile }) };
    } else {
      const { site, gateway } = siteAndGateway(values);
      login = {
        site,
        gateway,
        brokerUrl: required(values.broker, '--broker'),
        rootKey: parsePublicKey(required(values.root, '--root')),
        ...(values.username === undefined ? {} : { username: values.username }),
        ...(values.password === undefined ? {} : { password: values.password }),
      };
    }
    const { site, gateway } = login;
    const dir = values['data-dir'] ?? join('.vigil', values.bundle === undefined ? gateway : 'gateway-from-bundle');
    const sim = startSimulatedGateway({
      site,
      id: gateway,
      kind,
      rootKey: login.rootKey,
      brokerUrl: login.brokerUrl,
      ...(login.username === undefined ? {} : { username: login.username }),
      ...(login.password === undefined ? {} : { password: login.password }),
      ...(login.model === undefined ? {} : { model: login.model }),
      ...(values.serial === undefined ? {} : { serial: values.serial }),
      seed: Date.now() % 100_000,
      faults: { loss: rate(values.loss, '--loss'), corrupt: rate(values.corrupt, '--corrupt'), duplicate: 0 },
      dataDir: dir,
    });
    const gw = sim.gw;
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
    await sim.stop();
    return 0;
  },
};
