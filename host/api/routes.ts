/** Every HTTP endpoint, grouped as docs/api.md groups them; each group registers its routes on the router. */
import { toHex } from '../../firmware/core/hex.js';
import { parseLimits } from '../alarms.js';
import { verifyAudit } from '../audit.js';
import { parseParams } from '../commands.js';
import type { Host } from '../types.js';
import { CLINICAL, type User } from '../users.js';
import { deviceResource, observationBundle } from './fhir.js';
import { oruR01 } from './hl7.js';
import { EVERYONE, HttpError, intParam, str, type On } from './router.js';
import { commandView, gatewayView } from '../views.js';
import { storedBatches } from './views.js';

type Now = () => number;

function knownGateway(host: Host, id: string) {
  const g = host.gateway(id);
  if (g === undefined) throw new HttpError(404, `no gateway ${id}`);
  return g;
}

export function sessionRoutes(on: On, host: Host, now: Now): void {
  on('POST', '/api/login', undefined, async (c) => {
    const b = await c.body();
    const s = await host.users.login(now(), str(b, 'username'), str(b, 'password'), c.req.socket.remoteAddress ?? 'unknown');
    return { status: 200, body: { token: s.token, expires: s.expires, user: s.user }, cookie: `vigil_session=${s.token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor((s.expires - now()) / 1000)}` };
  });
  on('POST', '/api/logout', EVERYONE, (c) => {
    host.users.logout(now(), c.token!);
    return { status: 200, body: { ok: true }, cookie: 'vigil_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0' };
  });
  on('GET', '/api/me', EVERYONE, (c) => c.user);
  on('GET', '/api/health', undefined, () => {
    const storage = host.storage();
    const body = {
      site: host.site,
      storage,
    ingest: host.ingest.stats,
    refused: host.counters.refused,
    errorEvents: host.counters.errorEvents,
    staleDeaths: host.counters.staleDeaths,
    broker: host.broker?.stats ?? null,
      gateways: storage.ok ? host.gateways().reduce<Record<string, number>>((acc, g) => ((acc[g.presence] = (acc[g.presence] ?? 0) + 1), acc), {}) : null,
    };
    // a monitoring probe sees a failing database as the host being unwell
    return { status: storage.ok ? 200 : 503, body };
  });
  on('GET', '/api/users', ['admin'], () => host.users.list());
  on('POST', '/api/users', ['admin'], async (c) => {
    const b = await c.body();
    const person = b.person === undefined ? undefined : str(b, 'person');
    return { status: 201, body: await host.users.add(now(), c.user!.username, { username: str(b, 'username'), display: typeof b.display === 'string' ? b.display : undefined, role: str(b, 'role'), person, password: str(b, 'password') }) };
  });
}

export function gatewayRoutes(on: On, host: Host, now: Now): void {
  on('GET', '/api/gateways', EVERYONE, () => host.gateways().map(gatewayView));
  on('GET', '/api/gateways/:id', EVERYONE, (c) => ({ ...gatewayView(knownGateway(host, c.params[0]!)), limits: host.limitsFor(c.params[0]!) }));
  on('GET', '/api/gateways/:id/vitals', EVERYONE, (c) => {
    knownGateway(host, c.params[0]!);
    return storedBatches(host, c.params[0]!, c.url).map((r) => ({
      bootId: r.bootHex, seq: r.seq, historical: r.historical, received: r.received, t0: r.batch.t0, clock: r.batch.clock, serial: r.batch.serial,
      columns: r.batch.columns.map((col) => ({ mdc: col.mdc, unit: col.unit, dt: col.dt, values: col.values })),
    }));
  });
  on('GET', '/api/gateways/:id/gaps', EVERYONE, (c) => {
    knownGateway(host, c.params[0]!);
    return host.db.prepare<[string], { boot_id: Uint8Array; first_seq: number; last_seq: number; reported: number }>('SELECT * FROM gaps WHERE gateway = ? ORDER BY reported').all(c.params[0]!)
      .map((g) => ({ bootId: toHex(g.boot_id), first: g.first_seq, last: g.last_seq, records: g.last_seq - g.first_seq + 1, reported: g.reported }));
  });
  on('PUT', '/api/gateways/:id/limits', ['physician', 'charge-nurse'], async (c) => {
    const id = c.params[0]!;
    knownGateway(host, id);
    const b = await c.body();
    const limits = b.limits === null ? null : parseLimits(b.limits);
    host.setLimits(id, limits);
    host.audit.append(now(), c.user!.username, 'limits-set', `gateway/${id}`, { limits });
    return host.limitsFor(id);
  });
  on('PUT', '/api/gateways/:id/bed', ['charge-nurse', 'biomed', 'admin'], async (c) => {
    const id = c.params[0]!;
    knownGateway(host, id);
    const bed = str(await c.body(), 'bed');
    if (bed.length > 64) throw new HttpError(400, 'bed: at most 64 characters');
    host.assignBed(id, bed, c.user!.username);
    return gatewayView(knownGateway(host, id));
  });
  on('GET', '/api/events', EVERYONE, (c) => {
    const g = c.url.searchParams.get('gateway');
    const cls = c.url.searchParams.get('class');
    if (cls !== null && !['clinical', 'technical', 'security'].includes(cls)) throw new HttpError(400, 'class must be clinical, technical or security');
    const limit = intParam(c.url, 'limit', 100, 1000);
    const rows = host.db
      .prepare(`SELECT id, gateway, t, clock, class, code, priority, detail, received FROM events WHERE (@g IS NULL OR gateway = @g) AND (@cls IS NULL OR class = @cls) ORDER BY id DESC LIMIT @limit`)
      .all({ g, cls, limit });
    return (rows as Array<{ detail: string }>).map((r) => ({ ...r, detail: JSON.parse(r.detail) as unknown }));
  });
}

export function alarmRoutes(on: On, host: Host, now: Now): void {
  on('GET', '/api/alarms', EVERYONE, (c) => host.alarms.list(c.url.searchParams.get('active') !== '0', c.url.searchParams.get('gateway') ?? undefined));
  const mayHandle = (u: User, alarmId: number) => {
    const a = host.alarms.get(alarmId);
    const ok = CLINICAL.includes(u.role) || (u.role === 'biomed' && a.class !== 'clinical');
    if (!ok) throw new HttpError(403, `${u.role} may not acknowledge or silence a ${a.class} alarm`);
  };
  on('POST', '/api/alarms/:id/ack', EVERYONE, (c) => {
    const id = Number(c.params[0]);
    mayHandle(c.user!, id);
    return host.alarms.acknowledge(now(), id, c.user!.username);
  });
  on('POST', '/api/alarms/:id/silence', EVERYONE, async (c) => {
    const id = Number(c.params[0]);
    mayHandle(c.user!, id);
    const b = await c.body();
    const seconds = b.seconds === undefined ? 120 : Number(b.seconds);
    return host.alarms.silence(now(), id, c.user!.username, seconds * 1000);
  });
}

export function commandRoutes(on: On, host: Host, now: Now): void {
  on('GET', '/api/commands', EVERYONE, (c) => host.commands.list(c.url.searchParams.get('gateway') ?? undefined).map(commandView));
  on('GET', '/api/commands/:id', EVERYONE, (c) => commandView(host.commands.get(Number(c.params[0]))));
  on('POST', '/api/commands', CLINICAL, async (c) => {
    const b = await c.body();
    const x = await host.commands.request(now(), c.user!, str(b, 'gateway'), str(b, 'orderId'), parseParams(b.params), b.passphrase);
    return { status: x.status === 'awaiting-cosign' ? 202 : 201, body: commandView(x) };
  });
  on('POST', '/api/commands/:id/cosign', CLINICAL, async (c) => {
    return commandView(await host.commands.cosign(now(), c.user!, Number(c.params[0]), (await c.body()).passphrase));
  });
  on('POST', '/api/commands/:id/withdraw', CLINICAL, (c) => commandView(host.commands.withdraw(now(), c.user!, Number(c.params[0]))));
  on('GET', '/api/audit', ['admin', 'biomed', 'charge-nurse'], (c) => host.audit.recent(intParam(c.url, 'limit', 100, 1000), c.url.searchParams.get('subject') ?? undefined));
  on('GET', '/api/audit/verify', ['admin', 'biomed'], () => verifyAudit(host.db, host.audit.anchorForVerify));
}

/** FHIR R4 resources and HL7 v2 ORU^R01 messages built from the same stored batches. */
export function interopRoutes(on: On, host: Host, now: Now): void {
  on('GET', '/fhir/Device/:id', EVERYONE, (c) => ({ fhir: deviceResource(knownGateway(host, c.params[0]!)) }));
  on('GET', '/fhir/Device', EVERYONE, () => ({ fhir: { resourceType: 'Bundle', type: 'searchset', total: host.gateways().length, entry: host.gateways().map((g) => ({ resource: deviceResource(g) })) } }));
  on('GET', '/fhir/Observation', EVERYONE, (c) => {
    const device = (c.url.searchParams.get('device') ?? '').replace(/^Device\//, '');
    if (device === '') throw new HttpError(400, 'give ?device=<gateway id>');
    knownGateway(host, device);
    const url = new URL(c.url);
    url.searchParams.set('limit', String(intParam(c.url, '_count', 10, 500)));
    return { fhir: observationBundle(device, storedBatches(host, device, url)) };
  });
  on('GET', '/hl7/oru/:id', EVERYONE, (c) => {
    const g = knownGateway(host, c.params[0]!);
    const url = new URL(c.url);
    url.searchParams.set('limit', String(intParam(c.url, 'count', 1, 100)));
    const text = storedBatches(host, g.id, url).map((r) => oruR01({ gateway: g.id, bed: g.bed, batch: r.batch, controlId: `${g.id}-${r.bootHex.slice(0, 8)}-${r.seq}`, nowMs: now(), site: host.site })).join('\n');
    return { hl7: text };
  });
}
