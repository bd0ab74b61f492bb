/**
 * Provisioning bundles (firmware/core/provision/bundle.ts, host/provisioning.ts, docs/provisioning.md):
 * every rule of the format refused with a message naming the field; a bundle altered, signed by
 * another site or made for another site refused at boot; and the whole path a technician takes —
 * `vigil provision --bundle --register`, then a gateway booting from nothing but its bundle — ends with
 * the gateway registered and online at the host.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex } from '../../firmware/core/hex.js';
import { BUNDLE_MAX_BYTES, openBundle, signBundle, signSiteKeyCert, type ProvisioningBundle } from '../../firmware/core/provision/bundle.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import type { Host } from '../../host/service.js';
import { newKeyPair, kidOf } from '../../host/signing/keys.js';
import { apiClient } from '../support/api.js';
import { makeSite, PASSWORD, removeSite, startSiteHost, until } from '../support/ward.js';
import { createPrivateKey, sign } from 'node:crypto';
import { MANIFEST } from '../../cli/firmware/plan.js';
import { ROOT } from '../../cli/firmware/toolchain.js';
import { partition, partitionImage, serialPorts } from '../../cli/firmware/flash.js';

function key() {
  const pair = newKeyPair();
  const priv = createPrivateKey(pair.pem);
  return { kid: kidOf(pair.publicKey), publicKey: pair.publicKey, sign: (m: Uint8Array) => new Uint8Array(sign(null, m, priv)) };
}
const root = key();
const siteKey = key();
const rootKey = root.publicKey;
const CERT = signSiteKeyCert({ site: 'ward-b', siteKey: siteKey.publicKey, epoch: 1, issued: 1_790_000_000 }, root);
const GOOD: ProvisioningBundle = { site: 'ward-b', gateway: 'gw-7', issued: 1_790_000_000, broker: { url: 'mqtt://10.0.0.5:1883', username: 'gw-7', password: 'p'.repeat(43) }, rootKey, profile: 'bd-alaris-8015', wifi: { ssid: 'ward-b-devices', password: 'wpa2 passphrase' } };
const signed = (b: ProvisioningBundle, k = siteKey, cert = CERT) => {
  const r = signBundle(b, k, cert);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('the bundle format', () => {
  it('opens what the site signed, field for field', () => {
    const r = openBundle(signed(GOOD), 'ward-b', rootKey, ed25519Verify);
    expect(r).toEqual({ ok: true, value: { bundle: GOOD, siteEpoch: 1 } });
  });

  it('refuses every broken rule before signing, naming the field', () => {
    const cases: Array<[Partial<ProvisioningBundle>, RegExp]> = [
      [{ site: 'Ward B' }, /^site: /],
      [{ gateway: 'host' }, /^gateway: .*reserved/],
      [{ broker: { ...GOOD.broker, url: 'http://10.0.0.5' } }, /^broker\.url: mqtt:\/\/host/],
      [{ broker: { ...GOOD.broker, url: 'mqtt://h:70000' } }, /^broker\.url: port 70000/],
      [{ broker: { ...GOOD.broker, username: 'gw-8' } }, /^broker\.username: .*"gw-7"/],
      [{ broker: { url: GOOD.broker.url, username: 'gw-7' } }, /^broker: a password, or a client key/],
      [{ broker: { ...GOOD.broker, password: 'short' } }, /^broker\.password: 16 to 256/],
      [{ broker: { ...GOOD.broker, clientKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', clientCert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } }, /^broker: a password or a client key and certificate, not both/],
      [{ broker: { url: 'mqtts://h:8883', username: 'gw-7', clientKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' } }, /^broker: a client key needs its certificate/],
      [{ broker: { url: 'mqtt://h:1883', username: 'gw-7', clientKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', clientCert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } }, /^broker\.url: .*mqtts/],
      [{ broker: { url: 'mqtts://h:8883', username: 'gw-7', clientKey: 'not pem', clientCert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } }, /^broker\.clientKey: an RSA private key in PEM/],
      [{ rootKey: new Uint8Array(31) }, /^rootKey: 32 bytes/],
      [{ rootKey: new Uint8Array(32) }, /^rootKey: unusable/],
      [{ profile: 'BD Alaris' }, /^profile: /],
      [{ wifi: { ssid: '', password: '' } }, /^wifi\.ssid: /],
      [{ wifi: { ssid: 'x', password: 'short' } }, /^wifi\.password: 8 to 63/],
      [{ issued: -1 }, /^issued: /],
    ];
    for (const [change, message] of cases) {
      const r = signBundle({ ...GOOD, ...change }, siteKey, CERT);
      expect(r.ok, JSON.stringify(change)).toBe(false);
      if (!r.ok) expect(r.error, JSON.stringify(change)).toMatch(message);
    }
    expect(signBundle({ ...GOOD, wifi: { ssid: 'open-net', password: '' } }, siteKey, CERT).ok).toBe(true); // an open network
  });

  it('refuses at boot a bundle altered anywhere, signed by a key its certificate does not name, certified by another root, made for another site, empty or oversized', () => {
    const bytes = signed(GOOD);
    for (let i = 0; i < bytes.length; i += 7) {
      const bad = bytes.slice();
      bad[i] = bad[i]! ^ 0x01;
      expect(openBundle(bad, 'ward-b', rootKey, ed25519Verify).ok, `byte ${i}`).toBe(false);
    }
    const open = (b: Uint8Array, min = 0) => openBundle(b, 'ward-b', rootKey, ed25519Verify, min);
    expect(open(signed(GOOD, key()))).toEqual({ ok: false, error: 'not signed by the site key its certificate names: altered' });
    const otherRoot = key();
    const foreignCert = signSiteKeyCert({ site: 'ward-b', siteKey: siteKey.publicKey, epoch: 1, issued: 1 }, otherRoot);
    expect(open(signed(GOOD, siteKey, foreignCert))).toEqual({ ok: false, error: 'its site key is not certified by the root key of ward-b: made for another site, or altered' });
    expect(open(signed({ ...GOOD, site: 'ward-c' }))).toEqual({ ok: false, error: 'made for site "ward-c", this gateway belongs to "ward-b"' });
    expect(open(signed({ ...GOOD, rootKey: otherRoot.publicKey }))).toEqual({ ok: false, error: "it names another root key than this gateway's" });
    expect(open(new Uint8Array(0))).toEqual({ ok: false, error: expect.stringMatching(/^no bundle/) });
    expect(open(new Uint8Array(BUNDLE_MAX_BYTES + 1))).toEqual({ ok: false, error: expect.stringMatching(/at most/) });
    expect(open(new Uint8Array(64).fill(0xff))).toEqual({ ok: false, error: expect.stringMatching(/^not a signed bundle/) }); // an erased partition
  });

  it('a rotated site key (epoch 2) is taken without a new image; once seen, bundles under the retired key are refused', () => {
    const next = key();
    const cert2 = signSiteKeyCert({ site: 'ward-b', siteKey: next.publicKey, epoch: 2, issued: 1_790_000_100 }, root);
    const fresh = openBundle(signed(GOOD, next, cert2), 'ward-b', rootKey, ed25519Verify, 1);
    expect(fresh.ok && fresh.value.siteEpoch).toBe(2);
    expect(openBundle(signed(GOOD), 'ward-b', rootKey, ed25519Verify, 2)).toEqual({ ok: false, error: 'signed under site key epoch 1; this gateway has seen epoch 2: a retired site key' });
    expect(openBundle(signed(GOOD, siteKey, cert2), 'ward-b', rootKey, ed25519Verify, 1).ok).toBe(false); // the old key cannot sign under the new certificate
  });
});

const BIN = join(import.meta.dirname, '../../bin/vigil.mjs');
const vigil = (args: string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } }, (e, out, err) => resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1, out, err }));
  });

let site: ReturnType<typeof makeSite>;
let host: Host;
let work: string;
const tokens = new Map<string, string>();
const api = apiClient(() => host.httpUrl, tokens);

beforeAll(async () => {
  site = makeSite('ward-b');
  host = await startSiteHost(site.dir, site.paths);
  work = mkdtempSync(join(tmpdir(), 'vigil-provision-'));
  const r = await fetch(`${host.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dan', password: PASSWORD }) });
  tokens.set('dan', ((await r.json()) as { token: string }).token);
}, 60_000);

afterAll(async () => {
  await host?.close();
  if (site) removeSite(site.dir);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a technician provisions a gateway', () => {
  it('vigil provision --bundle --register, then the gateway boots from its bundle alone: registered, then online at the host', async () => {
    const file = join(work, 'gw-9.bundle');
    const p = await vigil(['provision', 'gw-9', '--data-dir', site.dir, '--bundle', file, '--broker', host.brokerUrl, '--profile', 'bd-alaris-8015', '--wifi-ssid', 'ward-b-devices', '--register', host.httpUrl, '--user', 'dan'], { VIGIL_PASSWORD: PASSWORD, VIGIL_WIFI_PASSWORD: 'devices only 2026' });
    expect(p.err).toMatch(/gw-9: registered at .* \(expects a bd-alaris-8015\)/);
    expect(p.code).toBe(0);
    const g = (await api('dan', 'GET', '/api/gateways/gw-9')).json as { presence: string; expectedModel: string; provisionedAt: number };
    expect(g).toMatchObject({ presence: 'offline', expectedModel: 'bd-alaris-8015' });
    expect(Math.abs(g.provisionedAt - Date.now())).toBeLessThan(60_000);

    const siteJson = JSON.parse(readFileSync(join(site.dir, 'site.json'), 'utf8')) as { rootPublicKey: string };
    const gw = spawn(process.execPath, [BIN, 'gateway', '--bundle', file, '--site', 'ward-b', '--root', siteJson.rootPublicKey, '--device', 'pump', '--data-dir', join(work, 'gw-9')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    gw.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await until(`gw-9 online with its pump (${err})`, () => host.gateway('gw-9')?.presence === 'online' && host.gateway('gw-9')?.device_model === 'bd-alaris-8015', 30_000);
    } finally {
      gw.kill('SIGTERM');
    }
    const audit = host.db.prepare("SELECT actor, action FROM audit WHERE subject = 'gateway/gw-9' AND action = 'gateway-registered'").all();
    expect(audit).toEqual([{ actor: 'dan', action: 'gateway-registered' }]);
  }, 60_000);

  it('a rotated site key: a new bundle boots the same gateway without a new image, and then the retired key\'s bundle is refused', async () => {
    const oldFile = join(work, 'gw-9.bundle');
    const oldCopy = join(work, 'gw-9.epoch1.bundle');
    writeFileSync(oldCopy, readFileSync(oldFile));
    const rotated = await vigil(['site', 'rotate-key', '--data-dir', site.dir]);
    expect([rotated.code, rotated.out]).toEqual([0, expect.stringMatching(/site provisioning key rotated: epoch 2/)]);
    const file = join(work, 'gw-9.epoch2.bundle');
    expect((await vigil(['provision', 'gw-9', '--data-dir', site.dir, '--bundle', file, '--broker', host.brokerUrl, '--profile', 'bd-alaris-8015'])).code).toBe(0);
    const root = (JSON.parse(readFileSync(join(site.dir, 'site.json'), 'utf8')) as { rootPublicKey: string }).rootPublicKey;
    const dataDir = join(work, 'gw-9'); // the same gateway, its store as it was (epoch 1 seen)
    const gw = spawn(process.execPath, [BIN, 'gateway', '--bundle', file, '--site', 'ward-b', '--root', root, '--device', 'pump', '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    gw.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await until(`gw-9 online again on its epoch-2 bundle (${err})`, () => host.gateway('gw-9')?.presence === 'online', 30_000);
    } finally {
      gw.kill('SIGTERM');
    }
    expect(readFileSync(join(dataDir, 'site-key-epoch'), 'utf8')).toBe('2');
    const old = await vigil(['gateway', '--bundle', oldCopy, '--site', 'ward-b', '--root', root, '--device', 'pump', '--data-dir', dataDir]);
    expect([old.code, old.err]).toEqual([2, expect.stringMatching(/signed under site key epoch 1; this gateway has seen epoch 2: a retired site key/)]);
  }, 60_000);

  it('a bundle altered or from another site is refused by the gateway and by the host, each saying why', async () => {
    const file = join(work, 'gw-9.bundle');
    const bytes = readFileSync(file);
    const other = makeSite('ward-b'); // same id, another site's keys
    try {
      const foreign = join(work, 'foreign.bundle');
      expect((await vigil(['provision', 'gw-9', '--data-dir', other.dir, '--bundle', foreign, '--broker', host.brokerUrl])).code).toBe(0);
      const siteJson = JSON.parse(readFileSync(join(site.dir, 'site.json'), 'utf8')) as { rootPublicKey: string };
      const boot = await vigil(['gateway', '--bundle', foreign, '--site', 'ward-b', '--root', siteJson.rootPublicKey, '--device', 'pump', '--data-dir', join(work, 'x')]);
      expect([boot.code, boot.err]).toEqual([2, expect.stringMatching(/its site key is not certified by the root key of ward-b/)]);
      const r = await api('dan', 'POST', '/api/gateways/register', { bundle: readFileSync(foreign).toString('base64') });
      expect([r.status, r.json.error]).toEqual([400, expect.stringMatching(/^bundle refused: its site key is not certified by the root key of ward-b/)]);
    } finally {
      removeSite(other.dir);
    }
    const altered = Buffer.from(bytes);
    altered[altered.length - 70] = altered[altered.length - 70]! ^ 0x20;
    expect((await api('dan', 'POST', '/api/gateways/register', { bundle: altered.toString('base64') })).status).toBe(400);
    expect((await api('dan', 'POST', '/api/gateways/register', { bundle: 'not base64!' })).status).toBe(400);
  });

  it('--tls: an RSA key and a certificate from the site CA (OpenSSL), named for the gateway, in the bundle instead of a password', async () => {
    const file = join(work, 'gw-t.bundle');
    const passwd = readFileSync(join(site.dir, 'passwd'), 'utf8');
    const r = await vigil(['provision', 'gw-t', '--data-dir', site.dir, '--bundle', file, '--broker', 'mqtts://vigil-host.ward:8883', '--tls']);
    expect([r.code, r.err]).toEqual([0, expect.stringMatching(/RSA key and certificate \(site CA: .*ca\.pem\)/)]);
    expect(readFileSync(join(site.dir, 'passwd'), 'utf8')).toBe(passwd); // no password for a certificate login
    const root = (JSON.parse(readFileSync(join(site.dir, 'site.json'), 'utf8')) as { rootPublicKey: string }).rootPublicKey;
    const opened = openBundle(new Uint8Array(readFileSync(file)), 'ward-b', fromHex(root)!, ed25519Verify);
    if (!opened.ok) throw new Error(opened.error);
    const { broker } = opened.value.bundle;
    expect(broker.password).toBeUndefined();
    expect(broker.clientKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    writeFileSync(join(work, 'gw-t.pem'), broker.clientCert!);
    writeFileSync(join(work, 'gw-t.key'), broker.clientKey!);
    const openssl = (args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' });
    expect(openssl(['verify', '-CAfile', join(site.dir, 'ca', 'ca.pem'), join(work, 'gw-t.pem')]).stdout).toMatch(/: OK/);
    expect(openssl(['x509', '-in', join(work, 'gw-t.pem'), '-noout', '-subject']).stdout).toMatch(/CN ?= ?gw-t/);
    expect(openssl(['rsa', '-in', join(work, 'gw-t.key'), '-check', '-noout']).stdout).toMatch(/RSA key ok/);
    const bad = await vigil(['provision', 'gw-t', '--data-dir', site.dir, '--bundle', file, '--broker', host.brokerUrl, '--tls']);
    expect([bad.code, bad.err]).toEqual([2, expect.stringMatching(/--tls: .*mqtts:\/\//)]);
  }, 60_000);

  it('inconsistent input gets a clear message and changes nothing (no secret issued)', async () => {
    const passwd = readFileSync(join(site.dir, 'passwd'), 'utf8');
    const file = join(work, 'bad.bundle');
    const cases: Array<[string[], RegExp]> = [
      [['provision', 'gw-5', '--data-dir', site.dir, '--bundle', file], /--broker is required/],
      [['provision', 'gw-5', '--data-dir', site.dir, '--bundle', file, '--broker', 'http://h:1883'], /broker\.url: mqtt:\/\/host\[:port\] or mqtts/],
      [['provision', 'gw-5', '--data-dir', site.dir, '--bundle', file, '--broker', host.brokerUrl, '--profile', 'acme-pump'], /--profile: no device profile "acme-pump" \(known: /],
      [['provision', 'gw-5', '--data-dir', site.dir, '--broker', host.brokerUrl], /--broker belongs to a bundle: add --bundle/],
      [['provision', 'host', '--data-dir', site.dir, '--bundle', file, '--broker', host.brokerUrl], /a bundle is for a gateway/],
    ];
    for (const [args, message] of cases) {
      const r = await vigil(args, { VIGIL_WIFI_PASSWORD: '' });
      expect([r.code, r.err], args.join(' ')).toEqual([2, expect.stringMatching(message)]);
    }
    const wifi = await vigil(['provision', 'gw-5', '--data-dir', site.dir, '--bundle', file, '--broker', host.brokerUrl], { VIGIL_WIFI_PASSWORD: 'set by mistake' });
    expect(wifi.err).toMatch(/VIGIL_WIFI_PASSWORD is set but --wifi-ssid is not/);
    expect(readFileSync(join(site.dir, 'passwd'), 'utf8')).toBe(passwd);
    writeFileSync(file, ''); // an empty file, as a technician might copy one
    const siteJson = JSON.parse(readFileSync(join(site.dir, 'site.json'), 'utf8')) as { rootPublicKey: string; sitePublicKey: string; siteKeyEpoch: number };
    expect([fromHex(siteJson.sitePublicKey)?.length, siteJson.siteKeyEpoch]).toEqual([32, 2]); // rotated once above
    const empty = await vigil(['gateway', '--bundle', file, '--site', 'ward-b', '--root', siteJson.rootPublicKey, '--device', 'pump', '--data-dir', join(work, 'y')]);
    expect(empty.err).toMatch(/no bundle: the gateway has not been provisioned/);
  });

  it('vigil flash --dry-run prints the whole sequence: the site image by mcconfig over the port, then the bundle into its partition by esptool', async () => {
    const file = join(work, 'gw-9.bundle');
    const key = (JSON.parse(readFileSync(join(site.dir, 'site.json'), 'utf8')) as { rootPublicKey: string }).rootPublicKey;
    const out = join(work, 'esp32');
    const r = await vigil(['flash', '--bundle', file, '--data-dir', site.dir, '--port', '/dev/ttyUSB7', '--out', out, '--dry-run']);
    expect(r.code, r.err).toBe(0);
    const commands = r.out.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(commands).toEqual([
      `cd ${ROOT}`,
      `mkdir -p ${out}`,
      `UPLOAD_PORT=/dev/ttyUSB7 mcconfig -m -p esp32 -t deploy -o ${out} ${MANIFEST} site=ward-b rootKey=${key} siteImage=1`,
      `esptool.py --chip esp32 --port /dev/ttyUSB7 --baud 460800 write_flash 0x3f0000 ${join(out, 'vigilcfg.bin')}`,
    ]);
    expect(r.out).toMatch(/^# vigil flash --dry-run: gateway gw-9 of site ward-b \(broker mqtt:\/\/127\.0\.0\.1:\d+, expects a bd-alaris-8015\) on \/dev\/ttyUSB7$/m);
    expect(r.out).toMatch(/^# vigil writes .*vigilcfg\.bin: the bundle, \d+ bytes, after its 4-byte length, for the vigilcfg partition at 0x3f0000$/m);
    expect(r.out).toMatch(/#   - the serial port \/dev\/ttyUSB7 does not exist/);
    const only = await vigil(['flash', '--bundle', file, '--data-dir', site.dir, '--port', '/dev/ttyUSB7', '--out', out, '--bundle-only', '--dry-run']);
    expect(only.out.split('\n').filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('cd '))).toEqual([`esptool.py --chip esp32 --port /dev/ttyUSB7 --baud 460800 write_flash 0x3f0000 ${join(out, 'vigilcfg.bin')}`]);
  });

  it('vigil flash checks before it acts: a bundle the gateway would refuse, a missing port or tool, each named; nothing is written', async () => {
    const out = join(work, 'esp32-real');
    const real = await vigil(['flash', '--bundle', join(work, 'gw-9.bundle'), '--data-dir', site.dir, '--port', '/dev/ttyUSB7', '--out', out], { PATH: '/usr/bin:/bin', MODDABLE: '', IDF_PATH: '' });
    expect(real.code).toBe(1);
    expect(real.err).toMatch(/cannot flash gateway gw-9 .*; missing:/);
    expect(real.err).toMatch(/\$MODDABLE must point at a Moddable SDK/);
    expect(real.err).toMatch(/esptool\.py: Espressif's flasher/);
    expect(real.err).toMatch(/the serial port \/dev\/ttyUSB7 does not exist/);
    expect(existsSync(out)).toBe(false);
    const other = makeSite('ward-b');
    try {
      const foreign = join(work, 'foreign-flash.bundle');
      expect((await vigil(['provision', 'gw-4', '--data-dir', other.dir, '--bundle', foreign, '--broker', 'mqtt://10.0.0.5:1883'])).code).toBe(0);
      const r = await vigil(['flash', '--bundle', foreign, '--data-dir', site.dir, '--port', '/dev/ttyUSB7', '--dry-run']);
      expect([r.code, r.err]).toEqual([2, expect.stringMatching(/would be refused by the gateway: its site key is not certified by the root key of ward-b/)]);
    } finally {
      removeSite(other.dir);
    }
    expect((await vigil(['flash', '--bundle', join(work, 'nope.bundle'), '--data-dir', site.dir, '--dry-run'])).err).toMatch(/no bundle at .*nope\.bundle: make it with vigil provision/);
  });
});

describe('the ESP32 side of flashing', () => {
  it('the vigilcfg partition holds the bundle after its length, and fits the largest bundle', () => {
    const { offset, size } = partition('vigilcfg');
    expect([offset, size]).toEqual([0x3f0000, 0x4000]);
    expect(offset + size).toBeLessThanOrEqual(4 * 1024 * 1024);
    const bytes = signed(GOOD);
    const image = partitionImage(bytes, size);
    expect(new DataView(image.buffer).getUint32(0)).toBe(bytes.length);
    expect(openBundle(image.subarray(4, 4 + bytes.length), 'ward-b', rootKey, ed25519Verify).ok).toBe(true);
    expect(BUNDLE_MAX_BYTES + 4).toBeLessThanOrEqual(size);
    expect(() => partitionImage(new Uint8Array(size), size)).toThrow(/does not fit/);
  });

  it('offers the serial ports an ESP32 shows up on: by-id names first, then ttyUSB and ttyACM', () => {
    const dirs: Record<string, string[]> = { '/dev/serial/by-id': ['usb-Silicon_Labs_CP2102-if00-port0'], '/dev': ['ttyS0', 'ttyUSB0', 'ttyACM1', 'null', 'tty'] };
    expect(serialPorts((d) => dirs[d] ?? [], () => true)).toEqual(['/dev/serial/by-id/usb-Silicon_Labs_CP2102-if00-port0', '/dev/ttyACM1', '/dev/ttyUSB0']);
    expect(serialPorts(() => [], () => true)).toEqual([]);
  });
});
