/**
 * The host's command service, alarms, audit and API, driven over HTTP and the WebSocket stream
 * against a real host (embedded aedes, SQLite) and Node-platform gateways with simulated devices.
 */
import { copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WebSocket } from 'ws';
import mqtt from 'mqtt';
import { randomBytes } from 'node:crypto';
import { dropRecord } from '../support/records.js';
import { topic } from '../../firmware/core/protocol/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../host/audit.js';
import type { Host, StreamMessage } from '../../host/service.js';
import type { SitePaths } from '../../host/site.js';
import { apiClient, runCli } from '../support/api.js';
import { makeSite, removeSite, PASSPHRASES, PASSWORD, provision, startGateway, startSiteHost, until, type TestGateway } from '../support/ward.js';

let dir: string;
let paths: SitePaths;
let host: Host;
let pump: TestGateway;
let monitor: TestGateway;
const tokens = new Map<string, string>();

const api = apiClient(() => host.httpUrl, tokens);

beforeAll(async () => {
  ({ dir, paths } = makeSite('ward-api'));
  host = await startSiteHost(dir, paths, { escalateAfterMs: { high: 60_000, medium: 1500, low: 1500 }, commandAnswerTimeoutMs: 3000 });
  pump = startGateway({ site: paths, id: 'gw-pump', kind: 'pump', brokerUrl: host.brokerUrl, secret: provision(paths, 'gw-pump'), seed: 3 });
  monitor = startGateway({ site: paths, id: 'gw-mon', kind: 'monitor', brokerUrl: host.brokerUrl, secret: provision(paths, 'gw-mon'), seed: 4 });
  for (const u of ['ana', 'ben', 'cleo', 'dan', 'eve']) {
    const r = await api(undefined, 'POST', '/api/login', { username: u, password: PASSWORD });
    expect(r.status).toBe(200);
    tokens.set(u, r.json.token);
  }
  await until('gateways online with devices', () => host.gateway('gw-pump')?.presence === 'online' && host.gateway('gw-mon')?.presence === 'online');
});

afterAll(async () => {
  for (const g of [pump, monitor]) {
    g?.device.stop();
    await g?.gw.stop();
  }
  await host?.close();
  removeSite(dir);
});

describe('sessions and roles', () => {
  it('refuses a wrong password and a missing session, and says why', async () => {
    expect((await api(undefined, 'POST', '/api/login', { username: 'ana', password: 'wrong password!' })).status).toBe(401);
    expect((await api(undefined, 'POST', '/api/login', { username: 'nobody', password: 'wrong password!' })).status).toBe(401);
    const r = await api(undefined, 'GET', '/api/gateways');
    expect(r.status).toBe(401);
    expect(r.json.error).toMatch(/sign in/);
    expect((await api('ana', 'GET', '/api/me')).json.role).toBe('nurse');
  });

  it('answers bad input with a clear error', async () => {
    expect((await api('ana', 'POST', '/api/commands', '{not json')).json.error).toMatch(/not JSON/);
    expect((await api('ana', 'POST', '/api/commands', { passphrase: PASSPHRASES.ana, gateway: 'gw-pump' })).status).toBe(400);
    expect((await api('ana', 'GET', '/api/nothing')).status).toBe(404);
    expect((await api('ana', 'DELETE', '/api/gateways')).status).toBe(405);
    expect((await api('eve', 'POST', '/api/users', { username: 'x', role: 'nurse', password: 'short' })).status).toBe(400);
  });

  it('lets only admins manage users, with scrypt-hashed passwords', async () => {
    expect((await api('ana', 'POST', '/api/users', { username: 'fay', role: 'nurse', password: 'a long enough password' })).status).toBe(403);
    const r = await api('eve', 'POST', '/api/users', { username: 'fay', role: 'pharmacist', password: 'a long enough password' });
    expect(r.status).toBe(201);
    const stored = host.db.prepare("SELECT password FROM users WHERE username = 'fay'").get() as { password: string };
    expect(stored.password).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(stored.password).not.toContain('a long enough password');
  });
});

describe('the command service', () => {
  it('signs a nurse\'s rate change with her key and follows it: pending → accepted → applied (device read-back)', async () => {
    const r = await api('ana', 'POST', '/api/commands', { passphrase: PASSPHRASES.ana, gateway: 'gw-pump', orderId: 'ORD-1', params: { rate: { value: 120, unit: 'mL/h' } } });
    expect(r.status).toBe(201);
    expect(r.json.status).toBe('pending');
    await until('applied', () => host.commands.get(r.json.id).status === 'applied');
    expect(pump.device.device.settings.get('rate')).toBe(120);
    const trail = host.audit.recent(50, `command/${r.json.id}`).map((e) => e.action).reverse();
    expect(trail).toEqual(['command-requested', 'command-sent', 'command-accepted', 'command-applied']);
  });

  it('refuses what the trust list does not grant, what is past a hard limit, and roles that cannot sign', async () => {
    const bolus = await api('ana', 'POST', '/api/commands', { passphrase: PASSPHRASES.ana, gateway: 'gw-pump', orderId: 'ORD-2', params: { bolus: { value: 2, unit: 'mL' } } });
    expect(bolus.status).toBe(403);
    expect(bolus.json.error).toMatch(/may not change pump.bolus/);
    const hard = await api('ben', 'POST', '/api/commands', { passphrase: PASSPHRASES.ben, gateway: 'gw-pump', orderId: 'ORD-3', params: { rate: { value: 5000, unit: 'mL/h' } } });
    expect(hard.status).toBe(422);
    expect((await api('dan', 'POST', '/api/commands', { passphrase: PASSPHRASES.dan, gateway: 'gw-pump', orderId: 'ORD-4', params: { rate: { value: 60, unit: 'mL/h' } } })).status).toBe(403);
    expect((await api('ana', 'POST', '/api/commands', { passphrase: PASSPHRASES.ana, gateway: 'gw-none', orderId: 'ORD-5', params: { rate: { value: 60, unit: 'mL/h' } } })).status).toBe(404);
    expect((await api('ana', 'POST', '/api/commands', { passphrase: PASSPHRASES.ana, gateway: 'gw-pump', orderId: 'ORD-6', params: { rate: { value: 60, unit: 'L/h' } } })).status).toBe(400);
  });

  it('holds a soft-limit override for a second, different clinician, then sends it signed by both', async () => {
    const r = await api('ana', 'POST', '/api/commands', { passphrase: PASSPHRASES.ana, gateway: 'gw-pump', orderId: 'ORD-7', params: { vtbi: { value: 3200, unit: 'mL' } } });
    expect(r.status).toBe(202);
    expect(r.json.status).toBe('awaiting-cosign');
    const self = await api('ana', 'POST', `/api/commands/${r.json.id}/cosign`, { passphrase: PASSPHRASES.ana });
    expect(self.status).toBe(403);
    const co = await api('ben', 'POST', `/api/commands/${r.json.id}/cosign`, { passphrase: PASSPHRASES.ben });
    expect(co.status).toBe(200);
    expect(co.json.cosigned_by).toBe('ben');
    await until('applied', () => host.commands.get(r.json.id).status === 'applied');
    expect(pump.device.device.settings.get('vtbi')).toBe(3200);
  });

  it('records the gateway\'s rejection with its reason', async () => {
    // the gateway refuses a step larger than the profile allows (rate 120 → 300 is a step of 180 > 100)
    const r = await api('ben', 'POST', '/api/commands', { passphrase: PASSPHRASES.ben, gateway: 'gw-pump', orderId: 'ORD-8', params: { rate: { value: 300, unit: 'mL/h' } } });
    expect(r.status).toBe(201);
    await until('rejected', () => host.commands.get(r.json.id).status === 'rejected');
    expect(host.commands.get(r.json.id).reason).toBe('step-too-large');
    // and the gateway's security event becomes a security alarm
    await until('security alarm', () => host.alarms.list(true, 'gw-pump').some((a) => a.class === 'security' && a.code === 'cmd-rejected'));
  });

  it('times out a command the gateway never answers', async () => {
    // a gateway whose connection died silently (half-open TCP, its will not yet published): the host
    // still believes it online, signs for it, and must give up after the answer time-out
    host.db.prepare("INSERT INTO gateways (id, presence, device_kind, device_model, device_serial, nonce, mode, last_seen) VALUES ('gw-ghost', 'online', 'pump', 'generic-pump-v1', 'PUMP-ghost', randomblob(16), 'online', ?)").run(Date.now());
    const r = await api('ana', 'POST', '/api/commands', { passphrase: PASSPHRASES.ana, gateway: 'gw-ghost', orderId: 'ORD-9', params: { rate: { value: 100, unit: 'mL/h' } } });
    expect(r.status).toBe(201);
    expect(r.json.status).toBe('pending');
    await until('timed out', () => host.commands.get(r.json.id).status === 'timed-out', 10_000);
    expect(host.commands.get(r.json.id).reason).toBe('no answer from the gateway');
  }, 30_000);

  it('refuses to sign for a gateway it knows is offline', async () => {
    pump.gw.network(false);
    await until('host sees the pump go', () => host.gateway('gw-pump')?.presence === 'offline');
    const r = await api('ana', 'POST', '/api/commands', { passphrase: PASSPHRASES.ana, gateway: 'gw-pump', orderId: 'ORD-9b', params: { rate: { value: 100, unit: 'mL/h' } } });
    expect(r.status).toBe(409);
    expect(r.json.error).toMatch(/not online/);
    pump.gw.network(true);
    await until('back online', () => pump.gw.core.mode === 'online' && host.gateway('gw-pump')?.presence === 'online', 20_000);
  }, 30_000);
});

describe('alarms', () => {
  it('are acknowledged and silenced by a named user, escalate when left alone, and every step is audited', async () => {
    await api('cleo', 'PUT', '/api/gateways/gw-mon/limits', { limits: [{ metric: 'hr', low: 250, priority: 'low' }] });
    await until('hr alarm', () => host.alarms.list(true, 'gw-mon').some((a) => a.code === 'limit-hr'));
    const a = host.alarms.list(true, 'gw-mon').find((x) => x.code === 'limit-hr')!;
    expect(a.priority).toBe('low');
    await until('escalated', () => host.alarms.get(a.id).escalations >= 1, 10_000);
    expect(host.alarms.get(a.id).priority).toBe('medium');
    const s = await api('ana', 'POST', `/api/alarms/${a.id}/silence`, { seconds: 60 });
    expect(s.json.silenced_by).toBe('ana');
    expect((await api('ana', 'POST', `/api/alarms/${a.id}/silence`, { seconds: 600 })).status).toBe(400);
    expect((await api('dan', 'POST', `/api/alarms/${a.id}/ack`)).status).toBe(403); // biomed: technical alarms only
    const k = await api('cleo', 'POST', `/api/alarms/${a.id}/ack`);
    expect(k.json.acked_by).toBe('cleo');
    const actions = host.audit.recent(100, `alarm/${a.id}`).map((e) => `${e.actor}:${e.action}`).reverse();
    expect(actions).toEqual(['host:alarm-raised', 'host:alarm-escalated', 'ana:alarm-silenced', 'cleo:alarm-acknowledged']);
    await api('cleo', 'PUT', '/api/gateways/gw-mon/limits', { limits: null });
  }, 30_000);
});

describe('gaps and retention', () => {
  it('stores the gaps a gateway reports from its drop counter, shows them, and raises a technical alarm', async () => {
    const c = await mqtt.connectAsync(host.brokerUrl, { clientId: `vigil-${paths.site}-gw-drop`, username: 'gw-drop', password: provision(paths, 'gw-drop'), reconnectPeriod: 0 });
    const b = new Uint8Array(randomBytes(16));
    await c.publishAsync(topic(paths.site, 'gw-drop', 'history'), Buffer.from(dropRecord({ bootId: b, seq: 30, lowWater: [b, 0], dropped: 30, ranges: [[b, 0, 29]] })), { qos: 1 });
    await until('gap stored', () => host.db.prepare("SELECT count(*) AS n FROM gaps WHERE gateway = 'gw-drop'").pluck().get() === 1);
    const gaps = await api('ana', 'GET', '/api/gateways/gw-drop/gaps');
    expect(gaps.json).toEqual([expect.objectContaining({ first: 0, last: 29, records: 30 })]);
    await until('data-dropped alarm', () => host.alarms.list(true, 'gw-drop').some((a) => a.code === 'data-dropped' && a.class === 'technical'));
    await c.endAsync(true);
  });

  it('deletes data older than the retention period, and audits it', () => {
    host.db.prepare("INSERT INTO batches (gateway, boot_id, seq, t0, clock, serial, historical, received, body) VALUES ('gw-old', randomblob(16), 0, 0, 'utc', 'X', 0, 1000, x'a0')").run();
    const r = host.purge();
    expect(r.batches).toBe(1);
    expect(host.audit.recent(5).map((e) => e.action)).toContain('retention-purge');
    expect(host.db.prepare("SELECT count(*) FROM batches WHERE gateway = 'gw-old'").pluck().get()).toBe(0);
    expect(host.db.prepare("SELECT count(*) FROM batches WHERE gateway = 'gw-mon'").pluck().get()).toBeGreaterThan(0);
  });
});

describe('the WebSocket stream', () => {
  it('needs a session and carries live vitals, presence, alarms and command results', async () => {
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${host.httpUrl.replace('http', 'ws')}/api/stream`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(refused).toBe(401);
    const ws = new WebSocket(`${host.httpUrl.replace('http', 'ws')}/api/stream?token=${tokens.get('ana')}`);
    const got: StreamMessage[] = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d))));
    await until('hello', () => got.some((m) => (m as { type: string }).type === 'hello'));
    await until('vitals', () => got.some((m) => m.type === 'vitals' && m.gateway === 'gw-mon' && m.columns.some((x) => x.key === 'hr')));
    const r = await api('ana', 'POST', '/api/commands', { passphrase: PASSPHRASES.ana, gateway: 'gw-pump', orderId: 'ORD-10', params: { rate: { value: 110, unit: 'mL/h' } } });
    await until('command result on the stream', () => got.some((m) => m.type === 'command' && m.command.id === r.json.id && m.command.status === 'applied'));
    await until('presence', () => got.some((m) => m.type === 'presence'));
    ws.close();
  });
});

describe('FHIR R4 and HL7 v2', () => {
  beforeAll(async () => {
    await until('monitor batches stored', () => (host.db.prepare("SELECT count(*) FROM batches WHERE gateway = 'gw-mon'").pluck().get() as number) >= 2);
  });

  it('gives stored vitals as columns, oldest first, the way the gateway recorded them', async () => {
    const r = await api('ana', 'GET', '/api/gateways/gw-mon/vitals?limit=2');
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(2);
    expect(r.json[0].t0).toBeLessThanOrEqual(r.json[1].t0);
    const hr = r.json[0].columns.find((c: any) => c.mdc === 147842);
    expect(hr.unit).toBe('/min');
    expect(hr.values.length).toBeGreaterThan(0);
    expect(r.json[0].bootId).toMatch(/^[0-9a-f]{32}$/);
    expect((await api('ana', 'GET', '/api/gateways/gw-none/vitals')).status).toBe(404);
    expect((await api('ana', 'GET', '/api/gateways/gw-mon/vitals?limit=-1')).status).toBe(400);
  });

  it('gives a bed\'s device as a FHIR Device and its vitals as Observations with MDC and LOINC codes', async () => {
    const d = await api('ana', 'GET', '/fhir/Device/gw-mon');
    expect(d.json.resourceType).toBe('Device');
    expect(d.json.serialNumber).toBe('MONITOR-gw-mon');
    const o = await api('ana', 'GET', '/fhir/Observation?device=gw-mon&_count=2');
    expect(o.json.resourceType).toBe('Bundle');
    const hr = o.json.entry.map((e: any) => e.resource).find((r: any) => r.code.coding.some((c: any) => c.code === '147842'));
    expect(hr.code.coding).toContainEqual({ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' });
    expect(hr.valueQuantity.unit).toBe('/min');
    expect(hr.valueQuantity.system).toBe('http://unitsofmeasure.org');
    expect(hr.device.reference).toBe('Device/gw-mon');
    expect(hr.component[0].valueSampledData.period).toBeGreaterThan(0);
  });

  it('gives ORU^R01 messages in the IHE PCD-01 form', async () => {
    const r = await api('ana', 'GET', '/hl7/oru/gw-mon?count=1');
    const segs = r.text.split('\r').filter((x) => x.length > 0);
    expect(segs[0]).toMatch(/^MSH\|\^~\\&\|VIGIL.*\|ORU\^R01\^ORU_R01\|.*\|P\|2\.6\|.*IHE_PCD_001/);
    expect(segs.map((s) => s.slice(0, 3))).toEqual(['MSH', 'PID', 'PV1', 'OBR', ...segs.slice(4).map(() => 'OBX')]);
    const obx = segs.find((s) => s.includes('147842^MDC_ECG_HEART_RATE^MDC'))!;
    const f = obx.split('|');
    expect(f[2]).toBe('NM');
    expect(Number(f[5])).toBeGreaterThan(20);
    expect(f[6]).toBe('/min^/min^UCUM');
  });
});

describe('the audit log', () => {
  it('`vigil audit verify` passes an intact log and finds an edit, a deletion and a reordering', async () => {
    expect(verifyAudit(host.db, host.audit.anchorForVerify).problems).toEqual([]);
    const tamper = (name: string, sql: string) => {
      const d = mkdtempSync(join(tmpdir(), `vigil-audit-${name}-`));
      host.audit.checkpoint(Date.now());
      host.db.pragma('wal_checkpoint(FULL)');
      copyFileSync(join(dir, 'vigil.db'), join(d, 'vigil.db'));
      copyFileSync(join(dir, 'audit.head'), join(d, 'audit.head'));
      cpSync(`${dir}-audit`, `${d}-audit`, { recursive: true });
      const db = new Database(join(d, 'vigil.db'));
      db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
      if (sql) db.exec(sql);
      db.close();
      return d;
    };
    const run = (d: string) => runCli(['audit', 'verify', '--data-dir', d]);
    expect((await run(tamper('intact', ''))).code).toBe(0);
    const edited = await run(tamper('edit', "UPDATE audit SET actor = 'mallory' WHERE seq = 3"));
    expect(edited.code).toBe(1);
    expect(edited.out).toMatch(/entry 3: its contents do not match its hash/);
    const deleted = await run(tamper('delete', 'DELETE FROM audit WHERE seq = 4'));
    expect(deleted.code).toBe(1);
    expect(deleted.out).toMatch(/entries 4\.\.4 are missing/);
    const swapped = await run(tamper('swap', 'UPDATE audit SET seq = -1 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = 6; UPDATE audit SET seq = 6 WHERE seq = -1;'));
    expect(swapped.code).toBe(1);
    expect(swapped.out).toMatch(/does not link/);
    const cut = await run(tamper('cut', 'DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)'));
    expect(cut.code).toBe(1);
    expect(cut.out).toMatch(/were cut off/);
  });

  it('refuses UPDATE and DELETE through SQLite', () => {
    expect(() => host.db.prepare("UPDATE audit SET actor = 'x' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => host.db.prepare('DELETE FROM audit WHERE seq = 1').run()).toThrow(/append-only/);
  });
});
