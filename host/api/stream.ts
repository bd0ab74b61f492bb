/**
 * The WebSocket stream (/api/stream): a `hello` with the ward as it is, then every StreamMessage the
 * host emits, narrowed to the gateways the client names. A slow client is skipped past 4 MiB buffered.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Host, StreamMessage } from '../types.js';
import type { User } from '../users.js';
import { sameOrigin, tokenOf } from './router.js';
import { wardSnapshot, type Latest } from './ward.js';

const MAX_BUFFERED = 4 * 1024 * 1024;

/** Each message is made JSON once, however many nursing stations watch. */
const texts = new WeakMap<StreamMessage, string>();
function textOf(m: StreamMessage): string {
  let t = texts.get(m);
  if (t === undefined) {
    t = JSON.stringify(m);
    texts.set(m, t);
  }
  return t;
}

function gatewayOf(m: StreamMessage): string | undefined {
  if ('gateway' in m) return m.gateway;
  if (m.type === 'alarm') return m.alarm.gateway;
  if (m.type === 'command') return m.command.gateway;
  return undefined;
}

function attach(host: Host, ws: WebSocket, user: User, latest: Latest, now: () => number): void {
  const gateways = new Set<string>(); // empty: every gateway
  // a frame over maxPayload, bad UTF-8, a protocol error: ws has already closed this socket (1009,
  // 1007, 1002) and reports it here; without a listener it is an uncaught exception that ends the host
  ws.on('error', () => undefined);
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
    const g = gatewayOf(m);
    if (gateways.size > 0 && g !== undefined && !gateways.has(g)) return;
    if (ws.readyState === ws.OPEN && ws.bufferedAmount < MAX_BUFFERED) ws.send(textOf(m));
  });
  ws.on('close', off);
  ws.send(JSON.stringify({ type: 'hello', user: user.username, role: user.role, ...wardSnapshot(host, latest, now()) }));
}

/** The stream's WebSocket server and the `upgrade` handler that signs the client in first. */
export function createStream(host: Host, now: () => number, latest: Latest, allowedOrigins: readonly string[] = []): { wss: WebSocketServer; upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  return {
    wss,
    upgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const token = tokenOf(req, url);
      const user = token === undefined ? undefined : host.users.session(now(), token);
      // a browser always names the page's origin: another site's page gets nothing of the ward
      const refusal = url.pathname !== '/api/stream' ? '404 Not Found' : sameOrigin(req, allowedOrigins) === false ? '403 Forbidden' : user === undefined ? '401 Unauthorized' : undefined;
      if (refusal !== undefined) {
        socket.end(`HTTP/1.1 ${refusal}\r\nconnection: close\r\n\r\n`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => attach(host, ws, user!, latest, now));
    },
  };
}
