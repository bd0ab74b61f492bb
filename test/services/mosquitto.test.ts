/**
 * Mosquitto interop: `vigil broker-config mosquitto` writes the configuration and ACL, a private
 * Mosquitto runs them on a free port, and then (1) the ACL abuse suite that the embedded broker also
 * passes, (2) the host service ingesting through Mosquitto from Node gateways, with acks, and
 * (3) gateway identity by TLS client certificate CN, on Mosquitto and on the embedded broker.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerConfigCommand } from '../../cli/commands/broker-config.js';
import { signCommand } from '../../firmware/core/command/index.js';
import { topic } from '../../firmware/core/protocol/index.js';
import { startEmbeddedBroker } from '../../host/broker/embedded.js';
import { hashSecret, issueSecret } from '../../host/broker/passwd.js';
import type { Host } from '../../host/service.js';
import type { SitePaths } from '../../host/site.js';
import { claims, keys } from '../portable/command-cases.js';
import { aclAbuseSuite } from '../support/acl-abuse.js';
import { makeCerts, type Certs } from '../support/certs.js';
import { freePort, startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { makeSite, removeSite, startGateway, startSiteHost, storedSeqs, until, type TestGateway } from '../support/ward.js';

let dir: string;
let paths: SitePaths;
let mosq: Mosquitto;
let port: number;
let tlsPort: number;
let certs: Certs;
const secrets = new Map<string, string>();
const BAD_IDS = ['gw+1', 'gw#', 'gw-a/vitals', '$gw', 'gw\u0001', 'Gw-Upper'];

beforeAll(async () => {
  ({ dir, paths } = makeSite('ward-m'));
  // Mosquitto started as root drops to its own account unless told otherwise; the test's files are root's
  for (const u of ['host', 'gw-a', 'gw-b', 'gw-m', 'gw-1']) secrets.set(u, issueSecret(paths.passwdFile, u));
  // ids that provisioning refuses, written straight into the file: Mosquitto must refuse them by the ACL's terms too
  for (const bad of BAD_IDS) {
    writeFileSync(paths.passwdFile, `${readFileSync(paths.passwdFile, 'utf8')}${bad}:${hashSecret('bad-id-secret')}\n`);
    secrets.set(bad, 'bad-id-secret');
  }
  certs = makeCerts(dir);
  port = await freePort();
  tlsPort = await freePort();
  const out = join(dir, 'mosquitto');
  const code = await brokerConfigCommand.run(['mosquitto', '--out', out, '--data-dir', dir, '--port', String(port), '--user', 'root', '--tls-port', String(tlsPort), '--tls-key', certs.serverKey, '--tls-cert', certs.serverCert, '--tls-ca', certs.ca]);
  expect(code).toBe(0);
  mosq = await startMosquitto(join(out, 'mosquitto.conf'), port);
}, 60_000);

afterAll(async () => {
  await mosq?.stop();
  removeSite(dir);
});

aclAbuseSuite('Mosquitto with the generated configuration', () => ({
  url: `mqtt://127.0.0.1:${port}`,
  site: 'ward-m',
  secret: (u) => {
    const s = secrets.get(u);
    if (s === undefined) throw new Error(`${u} was not provisioned before Mosquitto started`);
    return s;
  },
  clientIdBound: false, // Mosquitto cannot tie client ids to usernames (host/broker/mosquitto.ts says so)
  subackDenies: false, // Mosquitto 2.0 grants the SUBACK and checks read access per message
  badIdsRefusedAtConnect: false, // Mosquitto lets such a user in with no rights at all
}));

describe('the host service on Mosquitto', () => {
  let host: Host;
  let gw: TestGateway;
  afterAll(async () => {
    gw?.device.stop();
    await gw?.gw.stop();
    await host?.close();
  });

  it('ingests a Node gateway\'s vitals through Mosquitto and acks them after commit', async () => {
    host = await startSiteHost(dir, paths, { broker: { url: `mqtt://127.0.0.1:${port}`, secret: secrets.get('host')! } });
    gw = startGateway({ site: paths, id: 'gw-1', kind: 'monitor', brokerUrl: `mqtt://127.0.0.1:${port}`, secret: secrets.get('gw-1')! });
    await until('online', () => host.gateway('gw-1')?.presence === 'online');
    await until('stored and acked', () => host.ingest.stats.stored >= 5 && gw.gw.core.log.stats().used === 0);
    const seqs = [...storedSeqs(host, 'gw-1').values()][0]!;
    expect(seqs).toEqual([...Array(seqs.length).keys()]);
  }, 60_000);
});

describe('gateway identity by TLS client certificate', () => {
  /** Connects with a client certificate, subscribes to gw-a's commands, and says whether a command for gw-a reached it. */
  async function tryTls(tlsUrl: string, plainUrl: string, clientId: string, cert?: { key: string; cert: string }): Promise<{ ok: boolean; received?: boolean }> {
    const c = mqtt.connect(tlsUrl, { clientId, reconnectPeriod: 0, connectTimeout: 4000, ca: readFileSync(certs.ca), key: cert && readFileSync(cert.key), cert: cert && readFileSync(cert.cert) });
    const connected = await new Promise<boolean>((resolve) => {
      c.once('connect', () => resolve(true));
      c.once('error', () => resolve(false));
      c.once('close', () => resolve(false));
    });
    if (!connected) {
      c.end(true);
      return { ok: false };
    }
    let received = false;
    c.on('message', () => (received = true));
    await new Promise<void>((r) => c.subscribe(topic('ward-m', 'gw-a', 'cmd'), { qos: 1 }, () => r()));
    const host = await mqtt.connectAsync(plainUrl, { clientId: 'vigil-ward-m-host', username: 'host', password: secrets.get('host')!, reconnectPeriod: 0 });
    await host.publishAsync(topic('ward-m', 'gw-a', 'cmd'), Buffer.from(signCommand(claims(), keys.nurse)), { qos: 1 });
    const end = performance.now() + 1500;
    while (!received && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
    await host.endAsync(true);
    c.end(true);
    return { ok: true, received };
  }

  it('Mosquitto: a CA-signed certificate with CN gw-a is gw-a; CN gw-b reads nothing of gw-a; self-signed or none is refused', async () => {
    const tls = `mqtts://127.0.0.1:${tlsPort}`;
    const plain = `mqtt://127.0.0.1:${port}`;
    expect(await tryTls(tls, plain, 'vigil-ward-m-gw-a', certs.client('gw-a'))).toEqual({ ok: true, received: true });
    expect(await tryTls(tls, plain, 'vigil-ward-m-gw-b', certs.client('gw-b'))).toEqual({ ok: true, received: false });
    expect((await tryTls(tls, plain, 'vigil-ward-m-gw-a', certs.client('gw-a', 'self'))).ok).toBe(false);
    expect((await tryTls(tls, plain, 'vigil-ward-m-gw-a')).ok).toBe(false);
  }, 30_000);

  it('embedded broker: the same, and the client id must be the certificate\'s gateway', async () => {
    const b = await startEmbeddedBroker({ site: 'ward-m', port: 0, passwdFile: paths.passwdFile, tls: { port: 0, key: certs.serverKey, cert: certs.serverCert, ca: certs.ca } });
    try {
      const tls = `mqtts://127.0.0.1:${b.tlsPort}`;
      expect(await tryTls(tls, b.url, 'vigil-ward-m-gw-a', certs.client('gw-a'))).toEqual({ ok: true, received: true });
      expect(await tryTls(tls, b.url, 'vigil-ward-m-gw-b', certs.client('gw-b'))).toEqual({ ok: true, received: false });
      expect((await tryTls(tls, b.url, 'vigil-ward-m-gw-a', certs.client('gw-a', 'self'))).ok).toBe(false);
      expect((await tryTls(tls, b.url, 'vigil-ward-m-gw-a')).ok).toBe(false);
      expect((await tryTls(tls, b.url, 'vigil-ward-m-gw-b', certs.client('gw-a'))).ok).toBe(false);
    } finally {
      await b.close();
    }
  }, 30_000);
});
