/**
 * The API's request plumbing: routes with their roles, sessions from the bearer token or cookie, JSON
 * bodies with a size bound, and errors turned into `{error}` with the status they carry.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AlarmError } from '../alarms.js';
import { CommandError } from '../commands.js';
import { NoticeError } from '../notices.js';
import { AdvisoryError } from '../advisories/index.js';
import { RegistrationError } from '../provisioning.js';
import { TrustPublishError } from '../signing/trust-keeper.js';
import { isStorageError } from '../storage.js';
import type { Host } from '../types.js';
import { UserError, type Role, type User } from '../users.js';

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly retryAfter?: number) {
    super(message);
  }
}

export interface Ctx {
  readonly req: IncomingMessage;
  readonly url: URL;
  readonly params: string[];
  readonly user: User | undefined;
  readonly token: string | undefined;
  /** The JSON body; `max` raises the 64 KiB limit for the one route that takes documents (advisories), up to 4 MiB. */
  body(max?: number): Promise<Record<string, unknown>>;
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
/** A body past the limit is read and dropped up to this size (so the client can read its 413), then the connection is cut. */
const DRAIN_MAX = 4 * 1024 * 1024;
const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

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

function readBody(req: IncomingMessage, max = MAX_BODY): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = () => new HttpError(413, `request body over ${max} bytes`);
    if (declared > DRAIN_MAX) {
      // answer at once, unread; the connection closes after the answer (handle() says so)
      reject(tooLarge());
      return;
    }
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
      else if (size > DRAIN_MAX) req.destroy(); // not a client that will read an answer
    });
    req.on('end', () => {
      if (size > max) return reject(tooLarge()); // read to the end, so the client gets its 413
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

/** Whether an Origin (or Referer) header names this host, as the client reached it (its Host header). */
export function sameOrigin(req: IncomingMessage, allowed: readonly string[]): boolean | undefined {
  const claimed = req.headers.origin ?? req.headers.referer;
  if (claimed === undefined || claimed === 'null') return claimed === undefined ? undefined : false;
  let u: URL;
  try {
    u = new URL(claimed);
  } catch {
    return false;
  }
  if (allowed.includes(u.origin)) return true;
  return (u.protocol === 'http:' || u.protocol === 'https:') && u.host === req.headers.host;
}

/**
 * Cross-site request forgery: a browser sends the session cookie with any site's request. A request
 * that changes something must come from this host's own pages (Origin or Referer naming it) when it is
 * signed in by cookie, and must declare a JSON body (a form or text/plain post needs no preflight).
 * A bearer token is never sent by a browser on its own, so it needs no origin; a wrong one is refused.
 */
function checkForgery(req: IncomingMessage, byCookie: boolean, allowed: readonly string[]): void {
  if (SAFE_METHODS.includes(req.method ?? 'GET')) return;
  const same = sameOrigin(req, allowed);
  if (same === false || (same === undefined && byCookie)) throw new HttpError(403, `cross-origin request refused: origin ${req.headers.origin ?? req.headers.referer ?? '(none)'} is not this host`);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if ((hasBody || type !== '') && type !== 'application/json') throw new HttpError(415, `send the body as application/json, not ${type || 'without a type'}`);
}

function pathParams(route: Route, pathname: string): string[] {
  try {
    return route.pattern.exec(pathname)!.slice(1).map(decodeURIComponent);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in the path ${JSON.stringify(pathname.slice(0, 200))}`);
  }
}

function statusOf(e: unknown): number {
  if (e instanceof HttpError) return e.status;
  if (isStorageError(e)) return 503;
  if (e instanceof UserError || e instanceof CommandError || e instanceof AlarmError || e instanceof NoticeError || e instanceof AdvisoryError || e instanceof RegistrationError || e instanceof TrustPublishError) return e.status;
  return 500;
}

export function createRouter(host: Host, now: () => number, allowedOrigins: readonly string[] = []): { on: On; handle(req: IncomingMessage, res: ServerResponse): Promise<void> } {
  const routes: Route[] = [];

  function route(req: IncomingMessage, url: URL): { route: Route; user: User | undefined; token: string | undefined } {
    const candidates = routes.filter((r) => r.pattern.test(url.pathname));
    if (candidates.length === 0) throw new HttpError(404, `no such endpoint: ${url.pathname}`);
    const found = candidates.find((r) => r.method === req.method);
    if (found === undefined) throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
    const token = tokenOf(req, url);
    checkForgery(req, token !== undefined && !req.headers.authorization?.startsWith('Bearer '), allowedOrigins);
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
      let retryAfter: number | undefined;
      const send = (status: number, body: unknown, type = 'application/json', cookie?: string) => {
        const text = type === 'application/json' ? JSON.stringify(body) : String(body);
        const headers: Record<string, string> = { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
        if (cookie !== undefined) headers['set-cookie'] = cookie;
        if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
        if (!req.complete) headers.connection = 'close'; // a body left unread (413): this connection ends here
        res.writeHead(status, headers).end(text);
      };
      try {
        const { route: r, user, token } = route(req, url);
        const params = pathParams(r, url.pathname);
        const out = (await r.handler({ req, url, params, user, token, body: (max?: number) => readBody(req, Math.min(max ?? MAX_BODY, DRAIN_MAX)) })) as { status?: number; body?: unknown; cookie?: string; fhir?: unknown; hl7?: string } | unknown;
        if (out !== null && typeof out === 'object' && 'fhir' in out) return send(200, JSON.stringify(out.fhir), 'application/fhir+json');
        if (out !== null && typeof out === 'object' && 'hl7' in out) return send(200, out.hl7, 'x-application/hl7-v2+er7');
        if (out !== null && typeof out === 'object' && 'status' in out && 'body' in out) return send(out.status as number, out.body, 'application/json', (out as { cookie?: string }).cookie);
        send(200, out ?? null);
      } catch (e) {
        const status = statusOf(e);
        if (e instanceof HttpError || e instanceof UserError) retryAfter = e.retryAfter;
        const message = status === 500 ? `internal error: ${(e as Error).message}` : status === 503 && isStorageError(e) ? `storage unavailable, try again: ${(e as Error).message}` : (e as Error).message;
        send(status, { error: message });
      }
    },
  };
}
