/**
 * The host under attack from its own users and from browsers (issue 12): a real host (embedded aedes,
 * SQLite, the HTTP API) and a Node-platform pump gateway. Each case is something an outside probe did
 * to the host: it must be answered with a clear refusal, and the host must go on serving.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import mqtt from 'mqtt';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { encodeVitals, topic } from '../../firmware/core/protocol/index.js';
import { encodeBatch } from '../../firmware/core/vitals/index.js';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../host/service.js';
import type { SitePaths } from '../../host/site.js';
import { apiClient, type Reply } from '../support/api.js';
import { makeSite, removeSite, PASSPHRASES, PASSWORD, provision, sleep, startGateway, startSiteHost, until, type TestGateway } from '../support/ward.js';

let dir: string;
let paths: SitePaths;
let host: Host;
let pump: TestGateway;
const tokens = new Map<string, string>();

const api = apiClient(() => host.httpUrl, tokens);

async function login(username: string, password = PASSWORD, headers: Record<string, string> = {}): Promise<Reply> {
  return api(undefined, 'POST', '/api/login', { username, password }, headers);
}

// an exception nothing catches would end a real host's process: none may happen
const uncaught: unknown[] = [];
process.on('uncaughtExceptionMonitor', (e) => uncaught.push(e));
afterEach(() => expect(uncaught.splice(0)).toEqual([]));

const alive = async () => (await api(undefined, 'GET', '/api/health')).status === 200;

beforeAll(async () => {
  ({ dir, paths } = makeSite('ward-attack'));
  host = await startSiteHost(dir, paths);
  pump = startGateway({ site: paths, id: 'gw-pump', kind: 'pump', brokerUrl: host.brokerUrl, secret: provision(paths, 'gw-pump'), seed: 3 });
  for (const u of ['ana', 'ben', 'cleo', 'eve']) {
    const r = await login(u);
    expect(r.status).toBe(200);
    tokens.set(u, r.json.token);
  }
  await until('pump online', () => host.gateway('gw-pump')?.presence === 'online' && host.gateway('gw-pump')?.device_serial !== null);
});

afterAll(async () => {
  pump?.device.stop();
  await pump?.gw.stop();
  await host?.close();
  removeSite(dir);
});

describe('crashes become refusals', () => {
  it('[1] a WebSocket message over 4 KB closes that socket (1009) and nothing else', async () => {
    const ws = new WebSocket(`${host.httpUrl.replace('http', 'ws')}/api/stream?token=${tokens.get('ana')}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(5000));
    expect(await closed).toBe(1009);
    expect(await alive()).toBe(true);
  });

  it('[3] a malformed percent-encoding in a path is a 400, not a 500', async () => {
    for (const path of ['/api/gateways/%', '/api/gateways/%E0%A4%A', '/fhir/Device/%zz']) {
      const r = await api('ana', 'GET', path);
      expect({ path, status: r.status }).toEqual({ path, status: 400 });
      expect(r.json.error).toMatch(/percent-encoding/);
    }
  });

  it('[11] an oversized body is answered 413 with a JSON error, not a reset connection', async () => {
    const r = await api('ana', 'POST', '/api/commands', JSON.stringify({ pad: 'x'.repeat(200_000) }));
    expect(r.status).toBe(413);
    expect(r.json.error).toMatch(/over 65536 bytes/);
    expect(await alive()).toBe(true);
  });
});

describe('authority', () => {
  it('[5] only the requester (or a charge nurse) may withdraw a command waiting for a co-signature', async () => {
    const r = await api('ana', 'POST', '/api/commands', { passphrase: PASSPHRASES.ana, gateway: 'gw-pump', orderId: 'ORD-W1', params: { vtbi: { value: 3200, unit: 'mL' } } });
    expect(r.status).toBe(202);
    const other = await api('ben', 'POST', `/api/commands/${r.json.id}/withdraw`);
    expect(other.status).toBe(403);
    expect(other.json.error).toMatch(/only ana or a charge-nurse/);
    expect(host.commands.get(r.json.id).status).toBe('awaiting-cosign');
    expect((await api('ana', 'POST', `/api/commands/${r.json.id}/withdraw`)).json.status).toBe('withdrawn');
    const r2 = await api('ana', 'POST', '/api/commands', { passphrase: PASSPHRASES.ana, gateway: 'gw-pump', orderId: 'ORD-W2', params: { vtbi: { value: 3200, unit: 'mL' } } });
    expect((await api('cleo', 'POST', `/api/commands/${r2.json.id}/withdraw`)).json.status).toBe('withdrawn');
  });

  it('[7] clinical limits name known metrics only; an unknown one is a 400 listing the valid names, and the bed keeps its limits', async () => {
    const before = host.limitsFor('gw-pump');
    for (const metric of ['HeartRate', '__proto__', 'constructor', '', 'hr ']) {
      const r = await api('cleo', 'PUT', '/api/gateways/gw-pump/limits', { limits: [{ metric, low: 1, priority: 'high' }] });
      expect({ metric, status: r.status }).toEqual({ metric, status: 400 });
      expect(r.json.error).toMatch(/hr, spo2/);
    }
    expect(host.limitsFor('gw-pump')).toEqual(before);
    expect((await api('cleo', 'PUT', '/api/gateways/gw-pump/limits', { limits: [{ metric: 'pumpRate', high: 500, priority: 'medium' }] })).status).toBe(200);
  });
});

describe('who can sign', () => {
  it('[4] an admin who binds a login of their own to a clinician cannot sign or co-sign as that clinician', async () => {
    const made = await api('eve', 'POST', '/api/users', { username: 'mallory', role: 'nurse', person: 'ana.nurse', password: 'mallory knows this one' });
    expect(made.status).toBe(201);
    const r = await login('mallory', 'mallory knows this one');
    expect(r.status).toBe(200);
    tokens.set('mallory', r.json.token);
    const rateBefore = pump.device.device.settings.get('rate');
    for (const passphrase of [undefined, 'mallory knows this one', '']) {
      const sent = await api('mallory', 'POST', '/api/commands', { gateway: 'gw-pump', orderId: 'ORD-M1', params: { rate: { value: 99, unit: 'mL/h' } }, ...(passphrase === undefined ? {} : { passphrase }) });
      expect({ passphrase, status: sent.status }).toEqual({ passphrase, status: passphrase === 'mallory knows this one' ? 403 : 400 });
    }
    // nor co-sign ana's... nor anyone's override as ana
    const waiting = await api('ben', 'POST', '/api/commands', { passphrase: PASSPHRASES.ben, gateway: 'gw-pump', orderId: 'ORD-M2', params: { vtbi: { value: 3200, unit: 'mL' } } });
    expect(waiting.status).toBe(202);
    expect((await api('mallory', 'POST', `/api/commands/${waiting.json.id}/cosign`, { passphrase: 'mallory knows this one' })).status).toBe(403);
    expect(host.commands.get(waiting.json.id).status).toBe('awaiting-cosign');
    expect(host.commands.list('gw-pump').filter((c) => c.requested_by === 'mallory')).toEqual([]);
    expect(pump.device.device.settings.get('rate')).toBe(rateBefore);
    expect(host.audit.recent(20).some((e) => e.action === 'signing-passphrase-wrong' && e.actor === 'mallory')).toBe(true);
    await api('ben', 'POST', `/api/commands/${waiting.json.id}/withdraw`);
  });

  it('[4] the host keeps no clinician key in the clear: the keyring files hold no PKCS#8 key anyone can load', () => {
    for (const f of readdirSync(paths.keyringDir)) {
      const text = readFileSync(join(paths.keyringDir, f), 'utf8');
      expect(f).toMatch(/\.key$/);
      expect(text).not.toMatch(/PRIVATE KEY/);
      expect(() => createPrivateKey(text)).toThrow();
    }
  });
});

describe('cross-origin requests', () => {
  const cookie = () => `vigil_session=${tokens.get('ana')}`;

  it('[6] refuses a state-changing request with a session cookie from another origin, or with no origin at all', async () => {
    const body = JSON.stringify({ gateway: 'gw-pump', orderId: 'ORD-X', params: { rate: { value: 61, unit: 'mL/h' } } });
    const headers = (extra: Record<string, string>) => ({ cookie: cookie(), 'content-type': 'application/json', ...extra });
    const evil = await fetch(`${host.httpUrl}/api/commands`, { method: 'POST', headers: headers({ origin: 'https://evil.example' }), body });
    expect(evil.status).toBe(403);
    expect(((await evil.json()) as { error: string }).error).toMatch(/origin/);
    const none = await fetch(`${host.httpUrl}/api/commands`, { method: 'POST', headers: headers({}), body });
    expect(none.status).toBe(403);
    // the host's own origin is accepted
    const own = await fetch(`${host.httpUrl}/api/alarms?active=1`, { headers: headers({ origin: host.httpUrl }) });
    expect(own.status).toBe(200);
  });

  it('[6] refuses a body that is not declared application/json (a form or text/plain post needs no preflight)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await api('ana', 'POST', '/api/commands', JSON.stringify({ gateway: 'gw-pump' }), { 'content-type': type });
      expect({ type, status: r.status }).toEqual({ type, status: 415 });
    }
  });

  it('[6] refuses a WebSocket upgrade from another origin', async () => {
    const ws = new WebSocket(`${host.httpUrl.replace('http', 'ws')}/api/stream`, { headers: { cookie: cookie(), origin: 'https://evil.example' } });
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(-1));
    });
    expect(status).toBe(403);
    ws.terminate();
  });
});

describe('logins', () => {
  it('[8] locks a user out after repeated failures, and audits each failure without storing attacker-sized names', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await login('cleo', `wrong password ${i}`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const locked = await login('cleo'); // even the right password, for the lockout
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    const huge = 'u'.repeat(60_000);
    expect((await login(huge, 'whatever it is')).status).toBe(401);
    const row = host.db.prepare("SELECT actor, subject, length(detail) AS n FROM audit WHERE action = 'login-failed' ORDER BY seq DESC LIMIT 1").get() as { actor: string; subject: string; n: number };
    expect(row.actor.length + row.subject.length + row.n).toBeLessThan(400);
  });

  it('[8] limits failed logins per address too', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await login(`someone${i}`, 'wrong password!')).status);
    // every failure from this address counts, the earlier tests' too: at most 20 in 15 minutes
    expect(statuses).toContain(429);
    expect(statuses.slice(statuses.indexOf(429))).toEqual(statuses.slice(statuses.indexOf(429)).map(() => 429));
  });
});

describe('the embedded broker', () => {
  it('[9] ends an unauthenticated connection whose CONNECT declares 200 MB, at once', async () => {
    const { port } = new URL(host.brokerUrl);
    const s = connect(Number(port), '127.0.0.1');
    await new Promise<void>((r) => s.once('connect', () => r()));
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.on('error', () => undefined);
    // CONNECT, remaining length 200,000,000 (varint 0x80 0xf1 0xaf 0x5f), then the start of a body
    s.write(Buffer.from([0x10, 0x80, 0xf1, 0xaf, 0x5f, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]));
    s.write(Buffer.alloc(64 * 1024));
    await until('the broker closes it', () => s.destroyed || s.closed, 5000);
    await closed;
    expect(host.broker!.stats.oversized).toBeGreaterThan(0);
  });

  it('[9] refuses a gateway\'s 100 MB publish before it is read, and a payload over its channel\'s bound', async () => {
    const refusedBefore = { ...host.counters.refused };
    const secret = provision(paths, 'gw-big');
    const big = await mqtt.connectAsync(host.brokerUrl, { clientId: 'vigil-ward-attack-gw-big', username: 'gw-big', password: secret, reconnectPeriod: 0 });
    big.on('error', () => undefined);
    const gone = new Promise<void>((r) => big.once('close', () => r()));
    big.publish(topic(paths.site, 'gw-big', 'vitals'), Buffer.alloc(100 * 1024 * 1024), { qos: 1 });
    await gone;
    const over = await mqtt.connectAsync(host.brokerUrl, { clientId: 'vigil-ward-attack-gw-big', username: 'gw-big', password: secret, reconnectPeriod: 0 });
    over.on('error', () => undefined);
    const overGone = new Promise<void>((r) => over.once('close', () => r()));
    over.publish(topic(paths.site, 'gw-big', 'state'), Buffer.alloc(5000), { qos: 1 }); // under the packet cap, over state's 1024
    await overGone;
    expect(host.broker!.stats.oversized).toBeGreaterThanOrEqual(2);
    expect(host.broker!.stats.oversizedPayloads).toBeGreaterThanOrEqual(1);
    await sleep(300);
    expect(host.counters.refused).toEqual(refusedBefore); // nothing of it reached the host
    big.end(true);
    over.end(true);
  }, 30_000);
});

describe('what a gateway can make the host keep', () => {
  it('[10] a gateway naming a new boot id in every record is cut off after a few, with a security alarm, and the host keeps no state for the rest', async () => {
    const c = await mqtt.connectAsync(host.brokerUrl, { clientId: 'vigil-ward-attack-gw-boots', username: 'gw-boots', password: provision(paths, 'gw-boots'), reconnectPeriod: 0 });
    const body = encodeBatch({ t0: 1_767_225_600_000, clock: 'utc', serial: 'X', columns: [{ mdc: 147842, unit: '/min', scale: 0, dt: 1000, values: [70] }] });
    for (let i = 0; i < 300; i++) c.publish(topic(paths.site, 'gw-boots', 'vitals'), Buffer.from(encodeVitals({ bootId: randomBytes(16), seq: 0, body })), { qos: 1 });
    await until('every record stored or refused', () => (host.db.prepare("SELECT count(*) FROM boots WHERE gateway = 'gw-boots'").pluck().get() as number) + host.ingest.stats.bootFlood >= 300);
    expect(host.db.prepare("SELECT count(*) FROM boots WHERE gateway = 'gw-boots'").pluck().get()).toBe(12);
    expect(host.db.prepare("SELECT count(*) FROM batches WHERE gateway = 'gw-boots'").pluck().get()).toBe(12);
    expect(host.alarms.list(true, 'gw-boots').map((a) => a.code)).toEqual(['boot-id-flood']);
    // the other gateways' data still flows
    const before = host.ingest.stats.stored;
    await until('the pump still stores', () => host.ingest.stats.stored > before);
    await c.endAsync(true);
  });
});
