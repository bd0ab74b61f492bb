import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DeviceKind } from '../../firmware/core/command/index.js';
import { BrokerPortTaken } from '../../host/broker/embedded.js';
import { issueSecret } from '../../host/broker/passwd.js';
import { startHost, type Host } from '../../host/service.js';
import { initSite, readSite } from '../../host/site.js';
import { startSimulatedGateway, type SimulatedGateway } from '../../simulator/gateway.js';
import { wholeNumber } from '../args.js';
import { UsageError, type Command } from '../command.js';

/**
 * `npm start`: the main job on one machine. The host service with its embedded broker, and a small
 * simulated ward of Node-platform gateways, each with a simulated device, logging in with the secrets
 * the host issued them. On the first run it makes a demo site in the data directory (root key,
 * clinicians' keys, trust list) and demo users, whose passwords it prints once and keeps in
 * `<data-dir>/demo-logins.txt`. The nursing-station dashboard and the full ward simulator (faults,
 * attacks) are not built yet; the API they will use is (docs/api.md).
 */
const NOT_YET = ['nursing-station dashboard', 'ward simulator with faults and attacks'];
const WARD: ReadonlyArray<[string, DeviceKind]> = [['gw-bed-1', 'monitor'], ['gw-bed-2', 'pump'], ['gw-bed-3', 'ventilator']];
const DEMO = [
  { username: 'ana', person: 'ana.nurse', role: 'nurse', trust: ['nurse'] },
  { username: 'ben', person: 'ben.md', role: 'physician', trust: ['physician'] },
  { username: 'cleo', person: 'cleo.charge', role: 'charge-nurse', trust: ['charge-nurse'] },
  { username: 'pia', person: 'pia.pharm', role: 'pharmacist', trust: ['pharmacist'] },
  { username: 'dan', person: undefined, role: 'biomed', trust: [] },
  { username: 'eve', person: undefined, role: 'admin', trust: [] },
] as const;

export const startCommand: Command = {
  name: 'start',
  summary: 'start the main job: host service with its embedded broker and API, and a simulated ward of gateways',
  usage: 'vigil start [--broker-port 1883] [--http-port 8080] [--data-dir .vigil] [--site ward-1] [--duration <seconds>]',
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: { 'broker-port': { type: 'string' }, 'http-port': { type: 'string' }, 'data-dir': { type: 'string' }, site: { type: 'string' }, duration: { type: 'string' } }, strict: true });
    const dir = values['data-dir'] ?? '.vigil';
    mkdirSync(dir, { recursive: true });
    const passphrases = new Map<string, string>(); // a demo clinician's own signing passphrase, made with the site
    if (!existsSync(join(dir, 'site.json'))) {
      for (const d of DEMO) if (d.person !== undefined) passphrases.set(d.username, randomBytes(9).toString('base64url'));
      initSite(dir, values.site ?? 'ward-1', DEMO.filter((d) => d.person !== undefined).map((d) => ({ person: d.person!, roles: d.trust, passphrase: passphrases.get(d.username)! })));
      console.log(`Made a demo site in ${dir}/ (root key, clinicians' signing keys encrypted under their passphrases, trust list).`);
    }
    const site = readSite(dir);
    if (values.site !== undefined && values.site !== site.site) throw new UsageError(`${dir} holds site ${site.site}, not ${values.site}: choose another --data-dir`);

    const brokerPort = values['broker-port'] === undefined ? 1883 : wholeNumber(values['broker-port'], '--broker-port');
    const httpPort = values['http-port'] === undefined ? 8080 : wholeNumber(values['http-port'], '--http-port');
    const start = (broker: number, http: number) =>
      startHost({ site: site.site, dataDir: dir, broker: { embedded: { port: broker } }, http: { port: http }, rootKey: site.rootPublicKey, trustFile: site.trustFile, keyringDir: site.keyringDir, log: () => undefined });
    let host: Host;
    try {
      host = await start(brokerPort, httpPort);
    } catch (e) {
      const taken = e instanceof BrokerPortTaken || /HTTP port .* is taken/.test((e as Error).message);
      if (!taken || values['broker-port'] !== undefined || values['http-port'] !== undefined) throw e instanceof BrokerPortTaken ? new UsageError(e.message) : e;
      // a default port is taken (often 1883 by a system Mosquitto): a newcomer's first run still works
      host = await start(0, 0);
      console.log(`Port ${brokerPort} or ${httpPort} is taken (a system Mosquitto?): using free ports instead; --broker-port and --http-port choose.`);
    }
    await host.ready();

    const logins: string[] = [];
    if (host.users.count() === 0) {
      for (const d of DEMO) {
        const password = randomBytes(9).toString('base64url');
        await host.users.add(Date.now(), 'vigil-start', { username: d.username, role: d.role, person: d.person, password });
        const signing = passphrases.get(d.username);
        logins.push(`${d.username.padEnd(5)} ${d.role.padEnd(13)} ${password}${signing === undefined ? '' : `   signing passphrase ${signing}`}`);
      }
      writeFileSync(join(dir, 'demo-logins.txt'), logins.join('\n') + '\n', { mode: 0o600 });
    }

    const running: SimulatedGateway[] = WARD.map(([id, kind], i) =>
      startSimulatedGateway({ site: site.site, id, kind, rootKey: site.rootPublicKey, brokerUrl: host.brokerUrl, username: id, password: issueSecret(site.passwdFile, id), dataDir: join(dir, 'ward', id), seed: i + 1, faults: { loss: 0.001, corrupt: 0.0005, duplicate: 0 } }),
    );

    console.log(`Vigil site ${site.site}: broker ${host.brokerUrl}, API ${host.httpUrl} (docs/api.md), ${running.length} gateways with simulated devices; data in ${dir}/`);
    if (logins.length > 0) console.log(`Demo logins (shown once; also in ${join(dir, 'demo-logins.txt')}):\n  ${logins.join('\n  ')}`);
    else console.log(`Demo logins: ${join(dir, 'demo-logins.txt')}`);
    console.log(`Not built yet: ${NOT_YET.join('; ')}. Ctrl-C stops.\n`);
    const status = () => {
      const line = host.gateways().map((g) => `${g.id} ${g.presence}`).join(', ');
      const s = host.ingest.stats;
      console.log(`  ${line}; stored ${s.stored} batches, ${s.duplicates} duplicates, ${s.refused} refused; ${host.alarms.list(true).length} active alarms`);
    };
    const timer = setInterval(status, 10_000);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      if (values.duration !== undefined) setTimeout(resolve, wholeNumber(values.duration, '--duration') * 1000);
    });
    clearInterval(timer);
    status();
    for (const r of running) await r.stop();
    await host.close();
    return 0;
  },
};
