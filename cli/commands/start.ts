import { Aedes } from 'aedes';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DeviceKind, DeviceProfile } from '../../firmware/core/command/index.js';
import { ed25519Verify } from '../../firmware/crypto/ed25519.js';
import { simulatedDeviceOnLine, type DeviceOnLine } from '../../firmware/platform/node/device-line.js';
import { FileFlash } from '../../firmware/platform/node/file-flash.js';
import { knownModels, loadProfile } from '../../firmware/platform/node/profiles.js';
import { startNodeGateway, type NodeGateway } from '../../firmware/platform/node/runtime.js';
import { FileStore } from '../../firmware/platform/node/store.js';
import { loadSigningKey, newKeyPair } from '../../host/signing/keys.js';
import { wholeNumber } from '../args.js';
import { UsageError, type Command } from '../command.js';

/**
 * `npm start`: the main job. Today that is an embedded MQTT broker and a small simulated ward of
 * Node-platform gateways, each with a simulated device. The host service, the full ward simulator and
 * the nursing-station dashboard are not built yet: without a host the gateways are degraded and keep
 * every sample in their flash, as they would in an outage, and this says so.
 */
const NOT_YET = ['host service (ingest, storage, acks, alarms, command service, API)', 'ward simulator with faults and attacks', 'nursing-station dashboard'];
const WARD: ReadonlyArray<[string, DeviceKind]> = [['gw-bed-1', 'monitor'], ['gw-bed-2', 'pump'], ['gw-bed-3', 'ventilator']];

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const a = server.address();
      resolve(a !== null && typeof a === 'object' ? a.port : port);
    });
  });
}

export const startCommand: Command = {
  name: 'start',
  summary: 'start the main job: an embedded broker and a simulated ward of gateways (host and dashboard: not yet)',
  usage: 'vigil start [--port 1883] [--data-dir .vigil] [--site ward-1] [--duration <seconds>]',
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, site: { type: 'string' }, duration: { type: 'string' } }, strict: true });
    const wanted = values.port === undefined ? 1883 : wholeNumber(values.port, '--port');
    const dir = values['data-dir'] ?? '.vigil';
    const site = values.site ?? 'ward-1';
    mkdirSync(dir, { recursive: true });

    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    let port: number;
    try {
      port = await listen(server, wanted);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      if (values.port !== undefined) {
        await new Promise<void>((r) => broker.close(() => r()));
        throw new UsageError(`port ${wanted} is taken (another broker, such as Mosquitto, may be running): give --port <free port>, or --port 0 for any`);
      }
      // the default port is taken (often by a system Mosquitto): a newcomer's first run still works
      port = await listen(server, 0);
      console.log(`Port ${wanted} is taken (another broker, such as Mosquitto?): the embedded broker listens on ${port} instead; --port chooses.`);
    }

    // the ward's root key: made once, kept in the data directory (the host will sign trust lists with it)
    const rootPath = join(dir, 'site-root.pem');
    if (!existsSync(rootPath)) writeFileSync(rootPath, newKeyPair().pem, { mode: 0o600 });
    const root = loadSigningKey(rootPath);

    const profiles = new Map<string, DeviceProfile>(knownModels().map((m) => [m, loadProfile(m)]));
    const running: Array<{ id: string; kind: DeviceKind; gw: NodeGateway; device: DeviceOnLine }> = [];
    for (const [id, kind] of WARD) {
      const gdir = join(dir, id);
      mkdirSync(gdir, { recursive: true });
      const device = simulatedDeviceOnLine({ kind, serial: `${kind.toUpperCase()}-${id}`, seed: running.length + 1, faults: { loss: 0.001, corrupt: 0.0005, duplicate: 0 } });
      const gw = startNodeGateway({
        config: { site, gateway: id, firmware: '0.1.0', rootKey: root.publicKey, profiles },
        ports: { flash: new FileFlash(join(gdir, 'vitals.flash'), 240), store: new FileStore(join(gdir, 'store.json')), verify: ed25519Verify, random: (n) => new Uint8Array(randomBytes(n)) },
        brokerUrl: `mqtt://127.0.0.1:${port}`,
        serial: device.port,
      });
      running.push({ id, kind, gw, device });
    }

    console.log(`Vigil: broker on mqtt://127.0.0.1:${port}, site ${site}, ${running.length} gateways with simulated devices (data in ${dir}/)`);
    console.log(`Not built yet: ${NOT_YET.join('; ')}.`);
    console.log('Without a host the gateways are degraded and keep every sample in flash, as in an outage. Ctrl-C stops.\n');
    const status = () => {
      for (const r of running) {
        const s = r.gw.core.log.stats();
        console.log(`  ${r.id} (${r.kind}): ${r.gw.core.state}, ${s.used} bytes waiting in flash, ${s.dropped} dropped`);
      }
    };
    const timer = setInterval(status, 10_000);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      if (values.duration !== undefined) setTimeout(resolve, wholeNumber(values.duration, '--duration') * 1000);
    });
    clearInterval(timer);
    status();
    for (const r of running) {
      r.device.stop();
      await r.gw.stop();
    }
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
    return 0;
  },
};
