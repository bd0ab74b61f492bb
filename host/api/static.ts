/**
 * Serves the nursing-station web app (web/dist, built by web/build.ts): /assets/<name>-<hash>.* with a
 * year's immutable cache, and index.html (uncached) for every page path, so /bed/gw-1 reloads in place.
 * Every answer carries a strict Content-Security-Policy: scripts and styles from this host only, no
 * inline script, connections back to this host only, never framed.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ensureWebBuilt, type WebBuild } from '../../web/build.js';

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every page and asset carries. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};

const TYPES: Readonly<Record<string, string>> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', woff2: 'font/woff2', svg: 'image/svg+xml', png: 'image/png' };

/** Paths the API owns; everything else that is a GET is the web app. */
export function isApiPath(pathname: string): boolean {
  return pathname.startsWith('/api/') || pathname === '/api' || pathname.startsWith('/fhir/') || pathname.startsWith('/hl7/');
}

export function createStatic(): (req: IncomingMessage, res: ServerResponse) => void {
  const build: WebBuild = ensureWebBuilt();
  const index = readFileSync(join(build.dir, 'index.html'));
  const assets = new Map<string, Buffer>();
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...PAGE_HEADERS, allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: `${req.method} is not allowed on ${url.pathname}` }));
      return;
    }
    if (url.pathname.startsWith('/assets/')) {
      const name = /^\/assets\/([A-Za-z0-9_.-]+)$/.exec(url.pathname)?.[1] ?? '.';
      const type = TYPES[name.split('.').pop() ?? ''];
      let body = assets.get(name);
      if (body === undefined && type !== undefined && !name.startsWith('.')) {
        try {
          body = readFileSync(join(build.dir, 'assets', name));
          assets.set(name, body);
        } catch {
          body = undefined;
        }
      }
      if (body === undefined || type === undefined) {
        res.writeHead(404, { ...PAGE_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(`no such file: ${url.pathname}`);
        return;
      }
      res.writeHead(200, { ...PAGE_HEADERS, 'content-type': type, 'cache-control': 'public, max-age=31536000, immutable', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(200, { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-length': index.length });
    res.end(req.method === 'HEAD' ? undefined : index);
  };
}
