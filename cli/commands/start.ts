import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderReport } from '../../simulator/fleet/report.js';
import { runSimulation } from '../../simulator/fleet/run.js';
import { loadScenario } from '../../simulator/fleet/scenario.js';
import { DEMO } from '../../simulator/fleet/site.js';
import { wholeNumber } from '../args.js';
import { UsageError, type Command } from '../command.js';

/**
 * `npm start`: the main job on one machine. The `ward` scenario of the simulator (`vigil sim`): the
 * host service in its own process with its embedded broker and API, and a 12-bed ward (six patient
 * monitors, four infusion pumps, two ventilators), each bed a Node-platform gateway running the
 * firmware core with its simulated device, logging in with the secret the host's site issued it. On
 * the first run it makes a demo site in the data directory (root key, clinicians' keys, trust list,
 * users) and prints the demo logins once (they stay in `<data-dir>/demo-logins.json`). It runs until
 * Ctrl-C (or `--duration`), then prints the ward's report. The host serves the nursing station (web/,
 * docs/station.md) at its HTTP address, which it prints first.
 */
async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export const startCommand: Command = {
  name: 'start',
  summary: 'start the main job: host service with its embedded broker, API and nursing-station web app, and a simulated 12-bed ward (the ward scenario)',
  usage: 'vigil start [--broker-port 1883] [--http-port 8080] [--data-dir .vigil] [--gateways 12] [--duration <seconds>]',
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: { 'broker-port': { type: 'string' }, 'http-port': { type: 'string' }, 'data-dir': { type: 'string' }, gateways: { type: 'string' }, duration: { type: 'string' } }, strict: true });
    const dir = values['data-dir'] ?? '.vigil';
    const ports = { broker: values['broker-port'] === undefined ? 1883 : wholeNumber(values['broker-port'], '--broker-port'), http: values['http-port'] === undefined ? 8080 : wholeNumber(values['http-port'], '--http-port') };
    for (const [name, port] of Object.entries(ports)) {
      if (port === 0 || (await portFree(port))) continue;
      if (values[`${name}-port` as 'broker-port' | 'http-port'] !== undefined) throw new UsageError(`port ${port} is taken: choose another --${name}-port`);
      // a default port is taken (often 1883 by a system Mosquitto): a newcomer's first run still works
      console.log(`Port ${port} is taken (a system Mosquitto?): using a free port instead; --${name}-port chooses.`);
      ports[name as 'broker' | 'http'] = 0;
    }
    const stop = new AbortController();
    const end = () => stop.abort();
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
    const timer = values.duration === undefined ? undefined : setTimeout(end, wholeNumber(values.duration, '--duration') * 1000);
    try {
      const report = await runSimulation({
        scenario: loadScenario('ward'),
        ...(values.gateways === undefined ? {} : { gateways: wholeNumber(values.gateways, '--gateways', 1) }),
        dataDir: dir,
        hostPorts: ports,
        stop: stop.signal,
        onReady: ({ hostUrl, brokerUrl, site, beds }) => {
          console.log(`\nNursing station: ${hostUrl}/  (open it in a browser and sign in with a demo login below)\n`);
          console.log(`Vigil site ${site.paths.site}: broker ${brokerUrl}, API ${hostUrl} (docs/api.md), ${beds} gateways with simulated devices (the ward scenario); data in ${dir}/`);
          if (site.made) {
            const lines = DEMO.map((d) => `${d.username.padEnd(5)} ${d.role.padEnd(13)} ${site.logins.passwords[d.username]}${site.logins.passphrases[d.username] === undefined ? '' : `   signing passphrase ${site.logins.passphrases[d.username]}`}`);
            console.log(`Demo logins (shown once; also in ${join(dir, 'demo-logins.json')}):\n  ${lines.join('\n  ')}`);
          } else console.log(`Demo logins: ${join(dir, 'demo-logins.json')}`);
          console.log("Ctrl-C stops and prints the ward's report.\n");
        },
      });
      console.log(renderReport(report));
      return report.ok ? 0 : 1;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      process.off('SIGINT', end);
      process.off('SIGTERM', end);
    }
  },
};
