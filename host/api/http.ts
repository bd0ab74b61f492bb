/**
 * The host's HTTP JSON API and WebSocket stream (docs/api.md describes every endpoint).
 * Sessions: POST /api/login gives a token, sent back as `Authorization: Bearer <token>` or the
 * `vigil_session` cookie (HttpOnly, SameSite=Strict). Every request that changes something is
 * checked against the user's role and written to the audit log by the service it calls.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { toHex } from '../../firmware/core/hex.js';
import { decodeBatch } from '../../firmware/core/vitals/index.js';
import { AlarmError, parseLimits } from '../alarms.js';
import { verifyAudit } from '../audit.js';
import { CommandError, parseParams } from '../commands.js';
import type { GatewayRow, Host, StreamMessage } from '../types.js';
import { CLINICAL, UserError, type Role, type User } from '../users.js';
import { deviceResource, observationBundle } from './fhir.js';
import { oruR01 } from './hl7.js';

export interface Api {
  readonly url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface Ctx {
  readonly req: IncomingMessage;
  readonly url: URL;
  readonly params: string[];
  readonly user: User | undefined;
  readonly token: string | undefined;
  body(): Promise<Record<string, unknown>>;
}

type Handler = (c: Ctx) => unknown | Promise<unknown>;
interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  /** undefined: no session needed; []: any signed-in user; else these roles. */
  readonly roles: readonly Role[] | undefined;
  readonly handler: Handler;
}

const MAX_BODY = 64 * 1024;
const EVERYONE: readonly Role[] = [];

function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  const cookie = /(?:^|;\s*)vigil_session=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '');
  if (cookie) return cookie[1];
  // browsers cannot set headers on a WebSocket: the stream also takes ?token=
  if (url.pathname === '/api/stream') return url.searchParams.get('token') ?? undefined;
  return undefined;
}

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, `request body over ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        const v = JSON.parse(text) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return reject(new HttpError(400, 'the body must be a JSON object'));
        resolve(v as Record<string, unknown>);
      } catch (e) {
        reject(new HttpError(400, `the body is not JSON: ${(e as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

function str(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v.length === 0) throw new HttpError(400, `"${key}" is required (text)`);
  return v;
}

function intParam(url: URL, key: string, dflt: number, max: number): number {
  const v = url.searchParams.get(key);
  if (v === null) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new HttpError(400, `${key} must be a whole number`);
  return Math.min(n, max);
}

function gatewayView(g: GatewayRow) {
  return {
    id: g.id,
    bed: g.bed,
    presence: g.presence,
    mode: g.mode,
    bdSeq: g.bd_seq,
    bootId: g.boot_id ? toHex(g.boot_id) : null,
    firmware: g.firmware,
    device: g.device_kind ? { kind: g.device_kind, model: g.device_model, serial: g.device_serial } : null,
    buffer: g.buffer_capacity === null ? null : { used: g.buffer_used, capacity: g.buffer_capacity, dropped: g.buffer_dropped },
    lastSeen: g.last_seen,
  };
}

export async function startApi(host: Host, opts: { port: number; host?: string; now: () => number }): Promise<Api> {
  const now = opts.now;
  const routes: Route[] = [];
  const on = (method: string, path: string, roles: readonly Role[] | undefined, handler: Handler) =>
    routes.push({ method, pattern: new RegExp(`^${path.replace(/:[a-z]+/g, '([^/]+)')}$`), roles, handler });
  const gw = (id: string) => {
    const g = host.gateway(id);
    if (g === undefined) throw new HttpError(404, `no gateway ${id}`);
    return g;
  };
  const batches = (id: string, url: URL) => {
    const from = intParam(url, 'from', 0, Number.MAX_SAFE_INTEGER);
    const to = intParam(url, 'to', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const limit = intParam(url, 'limit', 100, 2000);
    const rows = host.db
      .prepare<[string, number, number, number], { boot_id: Uint8Array; seq: number; historical: number; received: number; body: Uint8Array }>(
        'SELECT boot_id, seq, historical, received, body FROM batches WHERE gateway = ? AND t0 >= ? AND t0 <= ? ORDER BY t0 DESC, seq DESC LIMIT ?',
      )
      .all(id, from, to, limit)
      .reverse();
    return rows.flatMap((r) => {
      const b = decodeBatch(r.body);
      return b.ok ? [{ bootHex: toHex(r.boot_id), seq: r.seq, historical: r.historical === 1, received: r.received, batch: b.value }] : [];
    });
  };

  // ---- sessions ----
  on('POST', '/api/login', undefined, async (c) => {
    const b = await c.body();
    const s = host.users.login(now(), str(b, 'username'), str(b, 'password'));
    return { status: 200, body: { token: s.token, expires: s.expires, user: s.user }, cookie: `vigil_session=${s.token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor((s.expires - now()) / 1000)}` };
  });
  on('POST', '/api/logout', EVERYONE, (c) => {
    host.users.logout(now(), c.token!);
    return { status: 200, body: { ok: true }, cookie: 'vigil_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0' };
  });
  on('GET', '/api/me', EVERYONE, (c) => c.user);
  on('GET', '/api/health', undefined, () => ({
    site: host.site,
    ingest: host.ingest.stats,
    refused: host.counters.refused,
    errorEvents: host.counters.errorEvents,
    staleDeaths: host.counters.staleDeaths,
    broker: host.broker?.stats ?? null,
    gateways: host.gateways().reduce<Record<string, number>>((acc, g) => ((acc[g.presence] = (acc[g.presence] ?? 0) + 1), acc), {}),
  }));

  // ---- users (admin) ----
  on('GET', '/api/users', ['admin'], () => host.users.list());
  on('POST', '/api/users', ['admin'], async (c) => {
    const b = await c.body();
    const person = b.person === undefined ? undefined : str(b, 'person');
    return { status: 201, body: host.users.add(now(), c.user!.username, { username: str(b, 'username'), display: typeof b.display === 'string' ? b.display : undefined, role: str(b, 'role'), person, password: str(b, 'password') }) };
  });

  // ---- gateways, vitals, gaps, events ----
  on('GET', '/api/gateways', EVERYONE, () => host.gateways().map(gatewayView));
  on('GET', '/api/gateways/:id', EVERYONE, (c) => ({ ...gatewayView(gw(c.params[0]!)), limits: host.limitsFor(c.params[0]!) }));
  on('GET', '/api/gateways/:id/vitals', EVERYONE, (c) => {
    gw(c.params[0]!);
    return batches(c.params[0]!, c.url).map((r) => ({
      bootId: r.bootHex, seq: r.seq, historical: r.historical, received: r.received, t0: r.batch.t0, clock: r.batch.clock, serial: r.batch.serial,
      metrics: r.batch.columns.map((col) => ({ mdc: col.mdc, unit: col.unit, dt: col.dt, values: col.values })),
    }));
  });
  on('GET', '/api/gateways/:id/gaps', EVERYONE, (c) => {
    gw(c.params[0]!);
    return host.db.prepare<[string], { boot_id: Uint8Array; first_seq: number; last_seq: number; reported: number }>('SELECT * FROM gaps WHERE gateway = ? ORDER BY reported').all(c.params[0]!)
      .map((g) => ({ bootId: toHex(g.boot_id), first: g.first_seq, last: g.last_seq, records: g.last_seq - g.first_seq + 1, reported: g.reported }));
  });
  on('PUT', '/api/gateways/:id/limits', ['physician', 'charge-nurse'], async (c) => {
    const id = c.params[0]!;
    gw(id);
    const b = await c.body();
    const limits = b.limits === null ? null : parseLimits(b.limits);
    host.setLimits(id, limits);
    host.audit.append(now(), c.user!.username, 'limits-set', `gateway/${id}`, { limits });
    return host.limitsFor(id);
  });
  on('PUT', '/api/gateways/:id/bed', ['charge-nurse', 'biomed', 'admin'], async (c) => {
    const id = c.params[0]!;
    gw(id);
    const bed = str(await c.body(), 'bed');
    host.db.prepare('UPDATE gateways SET bed = ? WHERE id = ?').run(bed, id);
    host.audit.append(now(), c.user!.username, 'bed-assigned', `gateway/${id}`, { bed });
    return gatewayView(gw(id));
  });
  on('GET', '/api/events', EVERYONE, (c) => {
    const g = c.url.searchParams.get('gateway');
    const limit = intParam(c.url, 'limit', 100, 1000);
    const rows = g === null
      ? host.db.prepare('SELECT id, gateway, t, clock, class, code, priority, detail, received FROM events ORDER BY id DESC LIMIT ?').all(limit)
      : host.db.prepare('SELECT id, gateway, t, clock, class, code, priority, detail, received FROM events WHERE gateway = ? ORDER BY id DESC LIMIT ?').all(g, limit);
    return (rows as Array<{ detail: string }>).map((r) => ({ ...r, detail: JSON.parse(r.detail) as unknown }));
  });

  // ---- alarms ----
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

  // ---- commands ----
  on('GET', '/api/commands', EVERYONE, (c) => host.commands.list(c.url.searchParams.get('gateway') ?? undefined).map((x) => ({ ...x, params: JSON.parse(x.params) as unknown })));
  on('GET', '/api/commands/:id', EVERYONE, (c) => {
    const x = host.commands.get(Number(c.params[0]));
    return { ...x, params: JSON.parse(x.params) as unknown };
  });
  on('POST', '/api/commands', CLINICAL, async (c) => {
    const b = await c.body();
    const x = host.commands.request(now(), c.user!, str(b, 'gateway'), str(b, 'orderId'), parseParams(b.params));
    return { status: x.status === 'awaiting-cosign' ? 202 : 201, body: { ...x, params: JSON.parse(x.params) as unknown } };
  });
  on('POST', '/api/commands/:id/cosign', CLINICAL, (c) => {
    const x = host.commands.cosign(now(), c.user!, Number(c.params[0]));
    return { ...x, params: JSON.parse(x.params) as unknown };
  });
  on('POST', '/api/commands/:id/withdraw', CLINICAL, (c) => host.commands.withdraw(now(), c.user!, Number(c.params[0])));

  // ---- audit ----
  on('GET', '/api/audit', ['admin', 'biomed', 'charge-nurse'], (c) => host.audit.recent(intParam(c.url, 'limit', 100, 1000), c.url.searchParams.get('subject') ?? undefined));
  on('GET', '/api/audit/verify', ['admin', 'biomed'], () => verifyAudit(host.db));

  // ---- FHIR R4 and HL7 v2 ----
  on('GET', '/fhir/Device/:id', EVERYONE, (c) => ({ fhir: deviceResource(gw(c.params[0]!)) }));
  on('GET', '/fhir/Device', EVERYONE, () => ({ fhir: { resourceType: 'Bundle', type: 'searchset', total: host.gateways().length, entry: host.gateways().map((g) => ({ resource: deviceResource(g) })) } }));
  on('GET', '/fhir/Observation', EVERYONE, (c) => {
    const device = (c.url.searchParams.get('device') ?? '').replace(/^Device\//, '');
    if (device === '') throw new HttpError(400, 'give ?device=<gateway id>');
    gw(device);
    const url = new URL(c.url);
    url.searchParams.set('limit', String(intParam(c.url, '_count', 10, 500)));
    return { fhir: observationBundle(device, batches(device, url)) };
  });
  on('GET', '/hl7/oru/:id', EVERYONE, (c) => {
    const g = gw(c.params[0]!);
    const url = new URL(c.url);
    url.searchParams.set('limit', String(intParam(c.url, 'count', 1, 100)));
    const text = batches(g.id, url).map((r) => oruR01({ gateway: g.id, bed: g.bed, batch: r.batch, controlId: `${g.id}-${r.bootHex.slice(0, 8)}-${r.seq}`, nowMs: now(), site: host.site })).join('\n');
    return { hl7: text };
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown, type = 'application/json', cookie?: string) => {
      const text = type === 'application/json' ? JSON.stringify(body) : String(body);
      const headers: Record<string, string> = { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
      if (cookie !== undefined) headers['set-cookie'] = cookie;
      res.writeHead(status, headers).end(text);
    };
    try {
      const candidates = routes.filter((r) => r.pattern.test(url.pathname));
      if (candidates.length === 0) throw new HttpError(404, `no such endpoint: ${url.pathname}`);
      const route = candidates.find((r) => r.method === req.method);
      if (route === undefined) throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
      const token = tokenOf(req, url);
      const user = token === undefined ? undefined : host.users.session(now(), token);
      if (route.roles !== undefined) {
        if (user === undefined) throw new HttpError(401, 'sign in first (POST /api/login)');
        if (route.roles.length > 0 && !route.roles.includes(user.role)) throw new HttpError(403, `${user.role} may not do this (needs ${route.roles.join(' or ')})`);
      }
      const params = route.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
      const out = (await route.handler({ req, url, params, user, token, body: () => readBody(req) })) as { status?: number; body?: unknown; cookie?: string; fhir?: unknown; hl7?: string } | unknown;
      if (out !== null && typeof out === 'object' && 'fhir' in out) return send(200, JSON.stringify(out.fhir), 'application/fhir+json');
      if (out !== null && typeof out === 'object' && 'hl7' in out) return send(200, out.hl7, 'x-application/hl7-v2+er7');
      if (out !== null && typeof out === 'object' && 'status' in out && 'body' in out) return send(out.status as number, out.body, 'application/json', (out as { cookie?: string }).cookie);
      send(200, out ?? null);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : e instanceof UserError || e instanceof CommandError || e instanceof AlarmError ? e.status : 500;
      send(status, { error: status === 500 ? `internal error: ${(e as Error).message}` : (e as Error).message });
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const token = tokenOf(req, url);
    const user = token === undefined ? undefined : host.users.session(now(), token);
    if (url.pathname !== '/api/stream' || user === undefined) {
      socket.end(`HTTP/1.1 ${url.pathname !== '/api/stream' ? '404 Not Found' : '401 Unauthorized'}\r\nconnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws, user));
  });

  function attach(ws: WebSocket, user: User): void {
    const gateways = new Set<string>(); // empty: every gateway
    ws.on('message', (data) => {
      // the client may narrow the stream: {"gateways": ["gw-1", ...]}
      try {
        const m = JSON.parse(String(data)) as { gateways?: unknown };
        gateways.clear();
        if (Array.isArray(m.gateways)) for (const g of m.gateways) if (typeof g === 'string') gateways.add(g);
      } catch {
        ws.send(JSON.stringify({ type: 'error', error: 'send {"gateways": [ids]} or {"gateways": []} for all' }));
      }
    });
    const off = host.subscribe((m: StreamMessage) => {
      const g = 'gateway' in m ? m.gateway : m.type === 'alarm' ? m.alarm.gateway : m.type === 'command' ? m.command.gateway : undefined;
      if (gateways.size > 0 && g !== undefined && !gateways.has(g)) return;
      if (ws.readyState === ws.OPEN && ws.bufferedAmount < 4 * 1024 * 1024) ws.send(JSON.stringify(m));
    });
    ws.on('close', off);
    ws.send(JSON.stringify({ type: 'hello', user: user.username, role: user.role, gateways: host.gateways().map(gatewayView), alarms: host.alarms.list(true) }));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new Error(`HTTP port ${opts.port} is taken: choose another with --http-port`) : e));
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address();
  const port = a !== null && typeof a === 'object' ? a.port : opts.port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

