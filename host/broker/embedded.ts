/**
 * The embedded MQTT broker (aedes) with Vigil's identity and deny-by-default rules (acl.ts).
 * Identity: a username and the secret issued at provisioning (passwd.ts), or, on the TLS listener,
 * a client certificate signed by the site's CA whose CN is the gateway id. The MQTT client id must be
 * the identity's own (`vigil-<site>-<id>`), so one gateway cannot take over another's session.
 */
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { identityOf, mayPublish, maySubscribe, type Identity } from './acl.js';
import { maxPayloadBytes } from '../../firmware/core/protocol/index.js';
import { gatePackets } from './packet-gate.js';
import { cachedPasswd, verifySecret } from './passwd.js';

export interface EmbeddedBrokerOptions {
  readonly site: string;
  readonly port: number;
  readonly host?: string;
  /** Mosquitto-format password file of gateway secrets (and the host's own). */
  readonly passwdFile: string;
  /** An mqtts listener with client certificates: the CN names the gateway. */
  readonly tls?: { readonly port: number; readonly key: string; readonly cert: string; readonly ca: string };
  /** A logged-in client broke the ACL or a payload bound: who (a gateway id, or `host`) and what. */
  readonly onViolation?: (who: string, code: 'acl-denied-publish' | 'acl-denied-subscribe' | 'oversized-payload', what: string) => void;
}

export interface BrokerStats {
  connected: number;
  refusedLogins: number;
  deniedPublishes: number;
  deniedSubscribes: number;
  /** Connections ended for a packet over its size cap (packet-gate.ts), and publishes over their channel's bound. */
  oversized: number;
  oversizedPayloads: number;
}

export interface EmbeddedBroker {
  readonly port: number;
  readonly tlsPort: number | undefined;
  readonly url: string;
  readonly stats: BrokerStats;
  close(): Promise<void>;
}

export class BrokerPortTaken extends Error {
  override readonly name = 'BrokerPortTaken';
}

function refuse(message: string, code: 2 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

export function clientIdFor(site: string, who: Identity): string {
  return `vigil-${site}-${who.kind === 'host' ? 'host' : who.id}`;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new BrokerPortTaken(`port ${port} is taken (another broker, such as Mosquitto, may be listening there): choose another with --broker-port <port>, or use that broker with --broker mqtt://${host}:${port}`)
          : e,
      ),
    );
    server.listen(port, host, () => {
      const a = server.address();
      resolve(a !== null && typeof a === 'object' ? a.port : port);
    });
  });
}

const nameOf = (who: Identity): string => (who.kind === 'host' ? 'host' : who.id);

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const identities = new WeakMap<Client, Identity>();
  const passwd = cachedPasswd(opts.passwdFile);
  const stats: BrokerStats = { connected: 0, refusedLogins: 0, deniedPublishes: 0, deniedSubscribes: 0, oversized: 0, oversizedPayloads: 0 };
  const broker = await Aedes.createBroker({
    connectTimeout: 10_000, // a connection that has not sent its CONNECT by then is closed
    authenticate(client, username, password, done) {
      const cert = (client.conn as Partial<TLSSocket>).getPeerCertificate?.();
      let who: ReturnType<typeof identityOf>;
      if (cert !== undefined && (client.conn as TLSSocket).authorized && typeof cert.subject?.CN === 'string') {
        // the TLS layer has checked the chain against the site CA; the CN is the identity
        who = identityOf(cert.subject.CN);
      } else {
        if (username === undefined || password === undefined) {
          stats.refusedLogins++;
          return done(refuse('a username and secret (or a client certificate) are required', 4), null);
        }
        const stored = passwd().get(username);
        if (stored === undefined || !verifySecret(password.toString('utf8'), stored)) {
          stats.refusedLogins++;
          return done(refuse('unknown user or wrong secret', 4), null);
        }
        who = identityOf(username);
      }
      if ('refused' in who) {
        stats.refusedLogins++;
        return done(refuse(`not a valid identity: ${who.refused}`, 5), null);
      }
      if (client.id !== clientIdFor(opts.site, who)) {
        stats.refusedLogins++;
        return done(refuse(`client id must be ${clientIdFor(opts.site, who)}`, 2), null);
      }
      identities.set(client, who);
      done(null, true);
    },
    authorizePublish(client, packet, callback) {
      if (client === null) return callback(null); // the broker's own messages
      const who = identities.get(client);
      if (who === undefined || !mayPublish(who, opts.site, packet.topic)) {
        stats.deniedPublishes++;
        if (who !== undefined) opts.onViolation?.(nameOf(who), 'acl-denied-publish', `published on ${packet.topic.slice(0, 200)}, which it may not`);
        return callback(new Error(`publish to ${packet.topic} denied`));
      }
      const max = maxPayloadBytes(packet.topic);
      if (max === undefined || packet.payload.length > max) {
        stats.oversizedPayloads++;
        if (who.kind === 'gateway') opts.onViolation?.(who.id, 'oversized-payload', `a ${packet.payload.length}-byte payload on ${packet.topic.slice(0, 200)}; at most ${max ?? 0}`);
        return callback(new Error(`a ${packet.payload.length}-byte payload on ${packet.topic}; at most ${max ?? 0}`));
      }
      callback(null);
    },
    authorizeSubscribe(client, sub, callback) {
      const who = identities.get(client);
      if (who === undefined || !maySubscribe(who, opts.site, sub.topic)) {
        stats.deniedSubscribes++;
        if (who !== undefined) opts.onViolation?.(nameOf(who), 'acl-denied-subscribe', `subscribed to ${sub.topic.slice(0, 200)}, which it may not`);
        return callback(null, null); // SUBACK failure (0x80) for this filter
      }
      callback(null, sub);
    },
  });
  broker.on('client', () => stats.connected++);
  broker.on('clientDisconnect', () => stats.connected--);

  const host = opts.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    s.setNoDelay(true); // small command and ack packets go out at once, not after Nagle's wait
    gatePackets(s, stats);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    broker.handle(s);
  };
  const server = createServer(track);
  let port: number;
  try {
    port = await listen(server, opts.port, host);
  } catch (e) {
    await new Promise<void>((r) => broker.close(() => r()));
    throw e;
  }
  let tlsServer: Server | undefined;
  let tlsPort: number | undefined;
  if (opts.tls !== undefined) {
    tlsServer = createTlsServer(
      { key: readFileSync(opts.tls.key), cert: readFileSync(opts.tls.cert), ca: readFileSync(opts.tls.ca), requestCert: true, rejectUnauthorized: false },
      (s) => track(s),
    );
    tlsPort = await listen(tlsServer, opts.tls.port, host);
  }
  return {
    port,
    tlsPort,
    url: `mqtt://${host}:${port}`,
    stats,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => server.close(() => r())), tlsServer && new Promise<void>((r) => tlsServer!.close(() => r()))]);
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}
