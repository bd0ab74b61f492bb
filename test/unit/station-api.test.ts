/**
 * What the nursing station's pages read and do through the host (docs/api.md, "Nursing station"):
 * device settings from the birth, the ward in one answer, trends with back-fill marked, profiles,
 * the trust list, fleet link quality, ward notices (who may declare, audited, streamed, persisted),
 * a command's old values, the security events filter, and the web app's static serving (CSP, caching,
 * paths that belong to the API never answered with the page).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Host } from '../../host/service.js';
import { openDb, SCHEMA_VERSION } from '../../host/store/db.js';
import { apiClient } from '../support/api.js';
import { makeSite, PASSPHRASES, PASSWORD, provision, removeSite, startGateway, startSiteHost, until, type TestGateway } from '../support/ward.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let site: ReturnType<typeof makeSite>;
let host: Host;
const gws: TestGateway[] = [];
const tokens = new Map<string, string>();
const api = apiClient(() => host.httpUrl, tokens);

beforeAll(async () => {
  site = makeSite('ward-api');
  host = await startSiteHost(site.dir, site.paths);
  gws.push(startGateway({ site: site.paths, id: 'gw-p', kind: 'pump', brokerUrl: host.brokerUrl, secret: provision(site.paths, 'gw-p') }));
  gws.push(startGateway({ site: site.paths, id: 'gw-m', kind: 'monitor', brokerUrl: host.brokerUrl, secret: provision(site.paths, 'gw-m'), seed: 11 }));
  for (const u of ['ana', 'ben', 'cleo', 'dan']) {
    const r = await fetch(`${host.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u, password: PASSWORD }) });
    tokens.set(u, ((await r.json()) as { token: string }).token);
  }
  await until('both gateways online with settings', () => ['gw-p', 'gw-m'].every((id) => host.gateway(id)?.presence === 'online' && host.gateway(id)?.settings !== null), 30_000);
}, 60_000);

afterAll(async () => {
  for (const g of gws) g.gw.stop();
  await host?.close();
  if (site) removeSite(site.dir);
});

describe('the station API', () => {
  it("shows each gateway's device settings as its birth reports them, and a change made at the device", async () => {
    const g = await api('ana', 'GET', '/api/gateways/gw-p');
    expect(g.json.settings).toEqual({ rate: 50, vtbi: 500, bolus: 1 });
    expect(Date.now() - g.json.presenceSince).toBeLessThan(60_000); // online since it came up
    gws[0]!.device.act((d, now) => d.localChange('vtbi', 750, now));
    await until('the change at the device in the birth', async () => (await api('ana', 'GET', '/api/gateways/gw-p')).json.settings?.vtbi === 750, 10_000);
  });

  it('records the old values with a command, and serves the ward, profiles, trust list and fleet in one answer each', async () => {
    const c = await api('ana', 'POST', '/api/commands', { gateway: 'gw-p', orderId: 'ORD-A1', params: { rate: { value: 60, unit: 'mL/h' } }, passphrase: PASSPHRASES.ana });
    expect(c.status).toBe(201);
    expect(c.json.previous).toEqual({ rate: 50 });
    await until('applied', async () => (await api('ana', 'GET', `/api/commands/${c.json.id}`)).json.status === 'applied');
    await until('the new rate in the birth', async () => (await api('ana', 'GET', '/api/gateways/gw-p')).json.settings.rate === 60);

    const w = await api('ana', 'GET', '/api/ward');
    expect(w.json.gateways.map((g: { id: string }) => g.id).sort()).toEqual(['gw-m', 'gw-p']);
    await until('latest heart rate', async () => typeof (await api('ana', 'GET', '/api/ward')).json.latest['gw-m']?.hr?.v === 'number');
    const latest = (await api('ana', 'GET', '/api/ward')).json.latest['gw-m'].hr;
    expect(latest.unit).toBe('/min');
    expect(Math.abs(latest.t - Date.now())).toBeLessThan(30_000);
    expect(w.json.notices).toEqual([]);

    const profiles = await api('ana', 'GET', '/api/profiles');
    expect(profiles.json.find((p: { model: string }) => p.model === 'generic-pump-v1').settings.rate).toMatchObject({ unit: 'mL/h', hard: [0.1, 999], soft: [0.5, 500] });
    const trust = await api('ana', 'GET', '/api/trust');
    expect(trust.json.epoch).toBe(1);
    expect(trust.json.signers.map((s: { person: string }) => s.person).sort()).toEqual(['ana.nurse', 'ben.md', 'cleo.charge']);
    expect(trust.json.grants.nurse).toContain('pump.rate');
    const fleet = await api('dan', 'GET', '/api/fleet');
    expect(fleet.json[0]).toMatchObject({ linkDrops1h: 0 });
    expect((await api(undefined, 'GET', '/api/ward')).status).toBe(401);
  });

  it('gives a trend of at most the points asked for on one time axis, and refuses a bad window', async () => {
    await until('ten seconds of the monitor stored', () => (host.db.prepare("SELECT max(t0) - min(t0) AS span FROM batches WHERE gateway = 'gw-m'").get() as { span: number | null }).span! > 10_000, 20_000);
    const to = Date.now();
    const r = await api('ana', 'GET', `/api/gateways/gw-m/trend?from=${to - 60_000}&to=${to}&points=30`);
    expect(r.status).toBe(200);
    expect(r.json.t.length).toBeLessThanOrEqual(60);
    expect(r.json.bucketMs).toBe(2000);
    const hr = r.json.metrics.hr;
    expect(hr.v).toHaveLength(r.json.t.length);
    expect(hr.v.filter((x: number | null) => x !== null).length).toBeGreaterThan(3);
    expect(hr.historical.filter((x: boolean | null) => x === true)).toEqual([]);
    expect((await api('ana', 'GET', `/api/gateways/gw-m/trend?from=${to}&to=${to - 1}`)).status).toBe(400);
    expect((await api('ana', 'GET', `/api/gateways/gw-m/trend?from=0&to=${to}`)).json.error).toMatch(/at most 168 h/);
    expect((await api('ana', 'GET', '/api/gateways/nope/trend')).status).toBe(404);
    expect((await api('ana', 'GET', '/api/gateways/gw-m/trend?from=abc')).status).toBe(400);
  });

  it('ward notices: only the charge nurse, biomed or admin declare one; bad input is refused; it is audited, streamed, and ends once', async () => {
    const ws = new WebSocket(`${host.httpUrl.replace('http', 'ws')}/api/stream?token=${tokens.get('ana')}`);
    const got: Array<{ type: string; notice?: { id: number; ended: number | null } }> = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d))));
    await until('hello', () => got.some((m) => m.type === 'hello'));
    expect((await api('ana', 'POST', '/api/notices', { kind: 'drill', message: 'drill' })).status).toBe(403);
    expect((await api('cleo', 'POST', '/api/notices', { kind: 'party', message: 'x' })).json.error).toMatch(/kind.*drill, outage, maintenance/);
    expect((await api('cleo', 'POST', '/api/notices', { kind: 'drill', message: '   ' })).status).toBe(400);
    expect((await api('cleo', 'POST', '/api/notices', { kind: 'drill', message: 'x'.repeat(201) })).status).toBe(400);
    const n = await api('cleo', 'POST', '/api/notices', { kind: 'outage', message: 'Network down on level 3: use the downtime sheets' });
    expect(n.status).toBe(201);
    await until('the notice on the stream', () => got.some((m) => m.type === 'notice' && m.notice?.id === n.json.id));
    expect((await api('ana', 'GET', '/api/notices')).json.map((x: { id: number }) => x.id)).toEqual([n.json.id]);
    const hello = await new Promise<{ notices: Array<{ id: number }> }>((resolve) => {
      const ws2 = new WebSocket(`${host.httpUrl.replace('http', 'ws')}/api/stream?token=${tokens.get('ben')}`);
      ws2.on('message', (d) => {
        resolve(JSON.parse(String(d)));
        ws2.close();
      });
    });
    expect(hello.notices.map((x) => x.id)).toEqual([n.json.id]);
    expect((await api('dan', 'POST', `/api/notices/${n.json.id}/end`)).json.ended_by).toBe('dan');
    expect((await api('cleo', 'POST', `/api/notices/${n.json.id}/end`)).status).toBe(409);
    expect((await api('cleo', 'POST', '/api/notices/999/end')).status).toBe(404);
    expect((await api('ana', 'GET', '/api/notices')).json).toEqual([]);
    const audit = (await api('cleo', 'GET', `/api/audit?subject=notice/${n.json.id}`)).json.map((e: { action: string; actor: string }) => `${e.action} ${e.actor}`);
    expect(audit.sort()).toEqual(['notice-ended dan', 'notice-started cleo']);
    ws.close();
  });

  it('a bed label reaches every station at once, and a label past 64 characters is refused', async () => {
    const ws = new WebSocket(`${host.httpUrl.replace('http', 'ws')}/api/stream?token=${tokens.get('ana')}`);
    const got: Array<{ type: string; state?: { id: string; bed: string | null } }> = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d))));
    await until('hello', () => got.some((m) => m.type === 'hello'));
    expect((await api('cleo', 'PUT', '/api/gateways/gw-m/bed', { bed: 'Bed 7' })).json.bed).toBe('Bed 7');
    await until('the new label on the stream', () => got.some((m) => m.type === 'presence' && m.state?.id === 'gw-m' && m.state.bed === 'Bed 7'), 2_000);
    expect((await api('cleo', 'PUT', '/api/gateways/gw-m/bed', { bed: 'x'.repeat(65) })).status).toBe(400);
    expect((await api('ana', 'PUT', '/api/gateways/gw-m/bed', { bed: 'Bed 9' })).status).toBe(403);
    expect(host.gateway('gw-m')!.bed).toBe('Bed 7');
    ws.close();
  });

  it('filters events by class and refuses an unknown class', async () => {
    expect((await api('ana', 'GET', '/api/events?class=security')).status).toBe(200);
    for (const e of (await api('ana', 'GET', '/api/events?class=technical')).json) expect(e.class).toBe('technical');
    expect((await api('ana', 'GET', '/api/events?class=evil')).status).toBe(400);
  });

  it('serves the app: CSP on every page, index uncached, hashed assets immutable; API paths never get the page', async () => {
    for (const path of ['/', '/bed/gw-m', '/alarms', '/downtime/gw-p']) {
      const r = await fetch(`${host.httpUrl}${path}`);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'; style-src 'self';.*frame-ancestors 'none'/);
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(await r.text()).toMatch(/<script type="module" src="\/assets\/main-[A-Z0-9]+\.js"><\/script>/);
    }
    expect((await fetch(`${host.httpUrl}/api/nope`)).headers.get('content-type')).toMatch(/application\/json/);
    expect((await fetch(`${host.httpUrl}/api/nope`)).status).toBe(404);
    expect((await fetch(`${host.httpUrl}/fhir/Nope`)).status).toBe(404);
    expect((await fetch(`${host.httpUrl}/`, { method: 'POST', body: '{}' })).status).toBe(405);
    // nothing but the built assets: no build metadata, no path out of the folder, no other file type
    for (const bad of ['/assets/%2e%2e%2fbuild.json', '/assets/..%2fbuild.json', '/assets/.hidden.js', '/assets/index.html', '/assets/main.exe', '/assets/']) expect((await fetch(`${host.httpUrl}${bad}`)).status, bad).toBe(404);
    for (const odd of ['/build.json', '/assets/../build.json', '/web/dist/build.json']) expect(await (await fetch(`${host.httpUrl}${odd}`)).text(), odd).not.toMatch(/"hash"/);
    const head = await fetch(`${host.httpUrl}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });
});

describe('the schema migration for the station', () => {
  it(`brings a version-2 database to ${SCHEMA_VERSION}: device settings, command old values, notices`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-mig3-'));
    try {
      const file = join(dir, 'v.db');
      const db = openDb(file);
      // the version-2 tables as that host made them
      db.exec(`DROP INDEX batches_time; DROP TABLE notices; DROP TABLE gateways; DROP TABLE commands;
        CREATE TABLE gateways (id TEXT PRIMARY KEY, bed TEXT, presence TEXT NOT NULL DEFAULT 'offline', bd_seq INTEGER, boot_id BLOB, firmware TEXT,
          device_kind TEXT, device_model TEXT, device_serial TEXT, nonce BLOB, mode TEXT, buffer_used INTEGER, buffer_capacity INTEGER, buffer_dropped INTEGER,
          last_seen INTEGER, birth_at INTEGER, limits TEXT) STRICT;
        CREATE TABLE commands (id INTEGER PRIMARY KEY, gateway TEXT NOT NULL, counter INTEGER, order_id TEXT NOT NULL, params TEXT NOT NULL, requested_by TEXT NOT NULL,
          cosigned_by TEXT, status TEXT NOT NULL, reason TEXT, created INTEGER NOT NULL, updated INTEGER NOT NULL) STRICT;`);
      db.prepare("INSERT INTO gateways (id) VALUES ('gw-old')").run();
      db.pragma('user_version = 2');
      db.close();
      const again = openDb(file);
      expect(again.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(again.prepare("SELECT settings FROM gateways WHERE id = 'gw-old'").get()).toEqual({ settings: null });
      expect(again.prepare("SELECT name FROM pragma_table_info('commands') WHERE name = 'previous'").get()).toEqual({ name: 'previous' });
      expect(again.prepare("SELECT count(*) AS n FROM notices").get()).toEqual({ n: 0 });
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
