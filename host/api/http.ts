/**
 * The host's HTTP JSON API and WebSocket stream (docs/api.md describes every endpoint), and the
 * nursing-station web app on every other path (static.ts, docs/station.md).
 * Sessions: POST /api/login gives a token, sent back as `Authorization: Bearer <token>` or the
 * `vigil_session` cookie (HttpOnly, SameSite=Strict). Every request that changes something is
 * checked against the user's role and written to the audit log by the service it calls.
 */
import { createServer } from 'node:http';
import type { Host } from '../types.js';
import { createRouter } from './router.js';
import { alarmRoutes, commandRoutes, gatewayRoutes, interopRoutes, sessionRoutes } from './routes.js';
import { createStatic, isApiPath } from './static.js';
import { createStream } from './stream.js';
import { Latest, LinkQuality, wardRoutes } from './ward.js';
import { advisoryRoutes } from './advisories.js';
import { provisioningRoutes } from './provisioning.js';

export interface Api {
  readonly url: string;
  close(): Promise<void>;
}

export async function startApi(host: Host, opts: { port: number; host?: string; now: () => number; allowedOrigins?: readonly string[] }): Promise<Api> {
  const router = createRouter(host, opts.now, opts.allowedOrigins);
  const latest = new Latest(host, opts.now);
  const links = new LinkQuality(host, opts.now);
  for (const group of [sessionRoutes, gatewayRoutes, alarmRoutes, commandRoutes, interopRoutes, wardRoutes(latest, links), advisoryRoutes, provisioningRoutes]) group(router.on, host, opts.now);
  const stream = createStream(host, opts.now, latest, opts.allowedOrigins);
  const page = createStatic();
  const server = createServer((req, res) => {
    if (isApiPath(new URL(req.url ?? '/', 'http://localhost').pathname)) void router.handle(req, res);
    else page(req, res);
  });
  server.on('upgrade', stream.upgrade);

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new Error(`HTTP port ${opts.port} is taken: choose another with --http-port`) : e));
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address();
  const port = a !== null && typeof a === 'object' ? a.port : opts.port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    async close() {
      latest.close();
      links.close();
      for (const c of stream.wss.clients) c.terminate();
      stream.wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
