/**
 * The API's request plumbing: routes with their roles, sessions from the bearer token or cookie, JSON
 * bodies with a size bound, and errors turned into `{error}` with the status they carry.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AlarmError } from '../alarms.js';
import { CommandError } from '../commands.js';
import type { Host } from '../types.js';
import { UserError, type Role, type User } from '../users.js';

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface Ctx {
  readonly req: IncomingMessage;
  readonly url: URL;
  readonly params: string[];
  readonly user: User | undefined;
  readonly token: string | undefined;
  body(): Promise<Record<string, unknown>>;
}

/**
 * What a handler returns: a value sent as JSON with 200, `{status, body, cookie?}`, `{fhir}` sent as
 * application/fhir+json, or `{hl7}` sent as ER7 text.
 */
export type Handler = (c: Ctx) => unknown | Promise<unknown>;

/** Registers a route. roles undefined: no session needed; EVERYONE: any signed-in user; else these roles. */
export type On = (method: string, path: string, roles: readonly Role[] | undefined, handler: Handler) => void;

export const EVERYONE: readonly Role[] = [];
const MAX_BODY = 64 * 1024;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly roles: readonly Role[] | undefined;
  readonly handler: Handler;
}

export function tokenOf(req: IncomingMessage, url: URL): string | undefined {
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

/** A required text field of a JSON body. */
export function str(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v.length === 0) throw new HttpError(400, `"${key}" is required (text)`);
  return v;
}

/** A whole-number query parameter, capped at max. */
export function intParam(url: URL, key: string, dflt: number, max: number): number {
  const v = url.searchParams.get(key);
  if (v === null) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new HttpError(400, `${key} must be a whole number`);
  return Math.min(n, max);
}

function statusOf(e: unknown): number {
  if (e instanceof HttpError) return e.status;
  if (e instanceof UserError || e instanceof CommandError || e instanceof AlarmError) return e.status;
  return 500;
}

export function createRouter(host: Host, now: () => number): { on: On; handle(req: IncomingMessage, res: ServerResponse): Promise<void> } {
  const routes: Route[] = [];

  function route(req: IncomingMessage, url: URL): { route: Route; user: User | undefined; token: string | undefined } {
    const candidates = routes.filter((r) => r.pattern.test(url.pathname));
    if (candidates.length === 0) throw new HttpError(404, `no such endpoint: ${url.pathname}`);
    const found = candidates.find((r) => r.method === req.method);
    if (found === undefined) throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
    const token = tokenOf(req, url);
    const user = token === undefined ? undefined : host.users.session(now(), token);
    if (found.roles !== undefined) {
      if (user === undefined) throw new HttpError(401, 'sign in first (POST /api/login)');
      if (found.roles.length > 0 && !found.roles.includes(user.role)) throw new HttpError(403, `${user.role} may not do this (needs ${found.roles.join(' or ')})`);
    }
    return { route: found, user, token };
  }

  return {
    on(method, path, roles, handler) {
      routes.push({ method, pattern: new RegExp(`^${path.replace(/:[a-z]+/g, '([^/]+)')}$`), roles, handler });
    },
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const send = (status: number, body: unknown, type = 'application/json', cookie?: string) => {
        const text = type === 'application/json' ? JSON.stringify(body) : String(body);
        const headers: Record<string, string> = { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
        if (cookie !== undefined) headers['set-cookie'] = cookie;
        res.writeHead(status, headers).end(text);
      };
      try {
        const { route: r, user, token } = route(req, url);
        const params = r.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
        const out = (await r.handler({ req, url, params, user, token, body: () => readBody(req) })) as { status?: number; body?: unknown; cookie?: string; fhir?: unknown; hl7?: string } | unknown;
        if (out !== null && typeof out === 'object' && 'fhir' in out) return send(200, JSON.stringify(out.fhir), 'application/fhir+json');
        if (out !== null && typeof out === 'object' && 'hl7' in out) return send(200, out.hl7, 'x-application/hl7-v2+er7');
        if (out !== null && typeof out === 'object' && 'status' in out && 'body' in out) return send(out.status as number, out.body, 'application/json', (out as { cookie?: string }).cookie);
        send(200, out ?? null);
      } catch (e) {
        const status = statusOf(e);
        send(status, { error: status === 500 ? `internal error: ${(e as Error).message}` : (e as Error).message });
      }
    },
  };
}
