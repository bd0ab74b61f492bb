import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEVICE_KINDS, type DeviceKind } from '../../firmware/core/command/index.js';
import { parsePublicKey } from '../../host/signing/keys.js';
import { startSimulatedGateway } from '../../simulator/gateway.js';
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
    const sim = startSimulatedGateway({
      site,
      id: gateway,
      kind,
      rootKey: parsePublicKey(required(values.root, '--root')),
      brokerUrl: required(values.broker, '--broker'),
      ...(values.username === undefined ? {} : { username: values.username }),
      ...(values.password === undefined ? {} : { password: values.password }),
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
