/**
 * The host service: broker (embedded or external), MQTT ingest with end-to-end acks, presence,
 * alarms, the command service, the audit log and the HTTP/WebSocket API, wired together.
 * Every part is in its own module; this file only connects them and owns the clock and timers.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode, type CborMap, type CborValue } from '../firmware/core/cbor/index.js';
import { acceptTrustList, type DeviceProfile, type SigningKey, type TrustList } from '../firmware/core/command/index.js';
import { idProblem } from '../firmware/core/gateway/topics.js';
import { toHex } from '../firmware/core/hex.js';
import { metricByMdc } from '../firmware/core/vitals/index.js';
import { knownModels, loadProfile } from '../firmware/platform/node/profiles.js';
import { Alarms, DEFAULT_LIMITS, type Limit, type Priority } from './alarms.js';
import { alarmFromEvent, alarmsFromBirth, checkLimits } from './alarm-rules.js';
import { startApi, type Api } from './api/http.js';
import { AuditLog } from './audit.js';
import { clientIdFor, startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded.js';
import { HOST_USER } from './broker/acl.js';
import { issueSecret } from './broker/passwd.js';
import { CommandService, loadKeyring } from './commands.js';
import { createNodeEd25519Verify } from './crypto/ed25519.js';
import { Ingest, type StoredBatch } from './ingest.js';
import { parseState, presenceOf, type Presence } from './presence.js';
import { openDb, type Db } from './store/db.js';
import { Users } from './users.js';
import type { GatewayRow, HostCounters, StreamMessage } from './types.js';

export type { GatewayRow, HostCounters, StreamMessage } from './types.js';

export interface HostOptions {
  readonly site: string;
  readonly dataDir: string;
  readonly hostId?: string;
  /** Embedded aedes (default, port 1883), or an external broker's URL and the host's secret there. */
  readonly broker: { readonly embedded: { readonly port: number; readonly host?: string; readonly tls?: { port: number; key: string; cert: string; ca: string } } } | { readonly url: string; readonly secret: string; readonly ca?: string };
  readonly http: { readonly port: number; readonly host?: string };
  /** The root public key (32 bytes) that signs the trust list; the list itself, signed. */
  readonly rootKey?: Uint8Array;
  readonly trustFile?: string;
  /** A directory of clinicians' PKCS#8 signing keys (commands.ts says why). */
  readonly keyringDir?: string;
  readonly retentionDays?: number;
  /** A gateway silent this long is offline (default: three missed 30 s heartbeats and a margin). */
  readonly offlineAfterMs?: number;
  readonly escalateAfterMs?: Readonly<Record<Priority, number>>;
  readonly commandAnswerTimeoutMs?: number;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

export interface Host {
  readonly db: Db;
  readonly audit: AuditLog;
  readonly users: Users;
  readonly alarms: Alarms;
  readonly commands: CommandService;
  readonly ingest: Ingest;
  readonly counters: HostCounters;
  readonly broker: EmbeddedBroker | undefined;
  readonly brokerUrl: string;
  readonly httpUrl: string;
  readonly site: string;
  trust(): TrustList | undefined;
  gateway(id: string): GatewayRow | undefined;
  gateways(): GatewayRow[];
  limitsFor(id: string): readonly Limit[];
  /** A bed's own clinical alarm limits; null goes back to the device kind's defaults. */
  setLimits(id: string, limits: readonly Limit[] | null): void;
  subscribe(listener: (m: StreamMessage) => void): () => void;
  /** Deletes what is older than the retention period now (it also runs hourly), and audits it. */
  purge(): { batches: number; events: number };
  /** Resolves when the host's MQTT client is connected and subscribed. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const ERROR_EVENT_EVERY_MS = 10_000;
const CONTROL_WINDOW_MS = 10_000;
const CONTROL_PER_WINDOW = 100;

/** The host cannot start with this configuration; the message says what to fix. */
export class HostConfigError extends Error {
  override readonly name = 'HostConfigError';
}

export async function startHost(o: HostOptions): Promise<Host> {
  const now = o.now ?? Date.now;
  const log = o.log ?? ((line: string) => console.log(line));
  const siteProblem = idProblem(o.site, 'site');
  if (siteProblem !== undefined) throw new HostConfigError(siteProblem);
  const listeners = new Set<(m: StreamMessage) => void>();
  const emit = (m: StreamMessage) => {
    for (const l of listeners) l(m);
  };
  const counters: HostCounters = { refused: {}, staleDeaths: 0, errorEvents: 0 };
  const lastErrorEvent = new Map<string, number>();
  const root = `vigil/v1/${o.site}`;

  // ---- trust list and keyring ----
  let trust: TrustList | undefined;
  let trustBytes: Uint8Array | undefined;
  if (o.trustFile !== undefined) {
    if (o.rootKey === undefined) throw new HostConfigError('a trust list needs the root public key that signed it');
    if (!existsSync(o.trustFile)) throw new HostConfigError(`no trust list at ${o.trustFile}`);
    trustBytes = new Uint8Array(readFileSync(o.trustFile));
    const r = acceptTrustList(trustBytes, o.rootKey, undefined, createNodeEd25519Verify());
    if (!r.ok) throw new HostConfigError(`${o.trustFile}: trust list refused: ${r.error.type}: ${r.error.detail}`);
    if (r.value.site !== o.site) throw new HostConfigError(`${o.trustFile} is the trust list of site ${r.value.site}, not ${o.site}`);
    trust = r.value;
  }
  let keyring: Map<string, SigningKey> = new Map();
  try {
    if (o.keyringDir !== undefined && existsSync(o.keyringDir)) keyring = loadKeyring(o.keyringDir, trust);
  } catch (e) {
    throw new HostConfigError(`keyring ${o.keyringDir}: ${(e as Error).message}`);
  }
  const profiles = new Map<string, DeviceProfile>(knownModels().map((m) => [m, loadProfile(m)]));

  // ---- store (opened once the configuration is known to be good) ----
  mkdirSync(o.dataDir, { recursive: true });
  const db = openDb(join(o.dataDir, 'vigil.db'));
  const audit = new AuditLog(db, join(o.dataDir, 'audit.head'));
  const users = new Users(db, audit);

  // ---- gateways ----
  const getGw = db.prepare<[string], GatewayRow>('SELECT * FROM gateways WHERE id = ?');
  const ensureGw = db.prepare("INSERT INTO gateways (id, presence) VALUES (?, 'offline') ON CONFLICT (id) DO NOTHING");
  const touch = db.prepare('UPDATE gateways SET last_seen = ? WHERE id = ?');
  // per-message bookkeeping stays in memory: a write per message outside a transaction would cost an
  // fsync each. last_seen goes to the database once a second (the presence tick).
  const known = new Set<string>();
  const lastSeen = new Map<string, number>();
  const seen = (gateway: string) => {
    if (!known.has(gateway)) {
      ensureGw.run(gateway);
      known.add(gateway);
    }
    lastSeen.set(gateway, now());
  };
  const saveLastSeen = db.transaction(() => {
    for (const [g, t] of lastSeen) touch.run(t, g);
    lastSeen.clear();
  });

  // ---- alarms ----
  const alarms = new Alarms(db, audit, (alarm, change) => emit({ type: 'alarm', change, alarm }), { escalateAfterMs: o.escalateAfterMs });
  // per-bed limits, cached: every live batch is checked against them
  const limitsCache = new Map<string, readonly Limit[]>();
  const limitsFor = (id: string): readonly Limit[] => {
    let l = limitsCache.get(id);
    if (l === undefined) {
      const g = getGw.get(id);
      l = g?.limits ? (JSON.parse(g.limits) as Limit[]) : (DEFAULT_LIMITS[g?.device_kind ?? ''] ?? []);
      limitsCache.set(id, l);
    }
    return l;
  };
  const setLimits = (id: string, limits: readonly Limit[] | null) => {
    db.prepare('UPDATE gateways SET limits = ? WHERE id = ?').run(limits === null ? null : JSON.stringify(limits), id);
    limitsCache.delete(id);
  };

  // ---- MQTT ----
  let broker: EmbeddedBroker | undefined;
  let brokerUrl: string;
  let secret: string;
  if ('embedded' in o.broker) {
    const passwdFile = join(o.dataDir, 'passwd');
    secret = issueSecret(passwdFile, HOST_USER); // a fresh secret for the host's own connection each start
    try {
      broker = await startEmbeddedBroker({ site: o.site, port: o.broker.embedded.port, host: o.broker.embedded.host, passwdFile, tls: o.broker.embedded.tls });
    } catch (e) {
      db.close();
      throw e;
    }
    brokerUrl = broker.url;
  } else {
    brokerUrl = o.broker.url;
    secret = o.broker.secret;
  }
  const hostId = o.hostId ?? 'vigil-host';
  audit.append(now(), 'host', 'host-started', `site/${o.site}`, { hostId, broker: brokerUrl });
  const hostState = (online: boolean) => Buffer.from(encode(new Map<string, CborValue>([['online', online], ['hostId', hostId], ['t', now()]])));
  const client: MqttClient = mqtt.connect(brokerUrl, {
    clientId: clientIdFor(o.site, { kind: 'host' }),
    username: HOST_USER,
    password: secret,
    clean: true,
    reconnectPeriod: 1000,
    ca: 'ca' in o.broker && o.broker.ca !== undefined ? readFileSync(o.broker.ca) : undefined,
    will: { topic: `${root}/host/state`, payload: hostState(false), qos: 1, retain: true },
  });
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  const readyPromise = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  readyPromise.catch(() => undefined);
  client.on('connect', () => {
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true); // commands and acks are small: send at once
    void (async () => {
      await client.subscribeAsync([`${root}/+/state`, `${root}/+/vitals`, `${root}/+/history`, `${root}/+/event`, `${root}/+/cmd/result`], { qos: 1 });
      if (trustBytes !== undefined) await client.publishAsync(`${root}/trust`, Buffer.from(trustBytes), { qos: 1, retain: true });
      // announced after subscribing, so no gateway starts draining before the host listens
      await client.publishAsync(`${root}/host/state`, hostState(true), { qos: 1, retain: true });
      log(`host: connected to ${brokerUrl} as ${HOST_USER}, site ${o.site}`);
      readyResolve();
    })().catch((e: Error) => log(`host: subscribe failed: ${e.message}`));
  });
  client.on('error', (e) => {
    log(`host: MQTT: ${e.message}`);
    if ((e as { code?: number }).code === 4 || (e as { code?: number }).code === 5) readyReject(new Error(`the broker at ${brokerUrl} refused the host's login: ${e.message}`));
  });

  // ---- ingest ----
  const ingest = new Ingest(db, {
    ack(acks) {
      for (const a of acks) {
        client.publish(`${root}/${a.gateway}/ack`, Buffer.from(encode(new Map<string, CborValue>([['bootId', a.bootId], ['through', a.through]]))), { qos: 1 });
      }
    },
    stored(batches) {
      for (const b of batches) onStored(b);
    },
    dropped(report) {
      alarms.raise(now(), report.gateway, 'technical', 'data-dropped', 'medium', `${report.gateway}: ${report.dropped} records lost to a full buffer${report.more ? ' (more ranges than listed)' : ''}`, { dropped: report.dropped, ranges: report.ranges.map(([b, f, l]) => [toHex(b), f, l]) });
    },
    storeFailed(e, n) {
      log(`host: could not commit ${n} records (${e.message}); not acked, the gateways will send them again`);
    },
  }, { now });

  function onStored(b: StoredBatch): void {
    const keyOf = (mdc: number) => metricByMdc(mdc)?.key ?? String(mdc);
    if (listeners.size > 0) {
      const metrics = b.batch.columns.map((c) => ({ key: keyOf(c.mdc), mdc: c.mdc, unit: c.unit, dt: c.dt, values: [...c.values] }));
      emit({ type: 'vitals', gateway: b.gateway, seq: b.seq, historical: b.historical, t0: b.batch.t0, clock: b.batch.clock, metrics });
    }
    if (b.historical) return; // old data: shown and stored, but no live alarm from it
    checkLimits(alarms, now(), b.gateway, b.batch, limitsFor(b.gateway));
  }

  const rate = new Map<string, { start: number; count: number }>();
  function withinRate(gateway: string, channel: string): boolean {
    const key = `${gateway}/${channel}`;
    const t = now();
    const r = rate.get(key);
    if (r === undefined || t - r.start >= CONTROL_WINDOW_MS) {
      rate.set(key, { start: t, count: 1 });
      return true;
    }
    return ++r.count <= CONTROL_PER_WINDOW;
  }

  function refuse(gateway: string, channel: string, error: string): void {
    counters.refused[channel] = (counters.refused[channel] ?? 0) + 1;
    const key = `${gateway}/${channel}`;
    const t = now();
    emit({ type: 'error', gateway, channel, error });
    if ((lastErrorEvent.get(key) ?? -Infinity) + ERROR_EVENT_EVERY_MS > t) return; // counted; one stored event per 10 s is enough
    lastErrorEvent.set(key, t);
    counters.errorEvents++;
    db.prepare("INSERT INTO events (gateway, class, code, priority, detail, received) VALUES (?, 'technical', 'host-refused-payload', 'low', ?, ?)").run(gateway, JSON.stringify({ channel, error }), t);
  }

  // ---- commands ----
  const commands = new CommandService({
    db,
    audit,
    trust: () => trust,
    keyring,
    profile: (model) => profiles.get(model),
    gateway: (id) => {
      const g = getGw.get(id);
      return g === undefined ? undefined : { online: g.presence !== 'offline', kind: g.device_kind, model: g.device_model, serial: g.device_serial, nonce: g.nonce };
    },
    publish: (gateway, payload) => client.publish(`${root}/${gateway}/cmd`, Buffer.from(payload), { qos: 1 }),
    notify: (command) => emit({ type: 'command', command }),
    answerTimeoutMs: o.commandAnswerTimeoutMs,
  });

  // ---- presence ----
  function setPresence(gateway: string, presence: Presence, mode: string | null): void {
    const before = getGw.get(gateway);
    db.prepare('UPDATE gateways SET presence = ? WHERE id = ?').run(presence, gateway);
    if (before?.presence !== presence) {
      audit.append(now(), 'host', 'gateway-presence', `gateway/${gateway}`, { from: before?.presence ?? null, to: presence });
      if (presence === 'offline') alarms.raise(now(), gateway, 'technical', 'gateway-offline', 'medium', `${gateway} is offline: no data reaches the station (the gateway keeps recording)`);
      else alarms.clear(now(), gateway, 'gateway-offline');
    }
    emit({ type: 'presence', gateway, presence, mode });
  }

  /** A payload decoded strictly as a CBOR map, or undefined when refused (counted and reported). */
  function decodeMap(gateway: string, channel: string, payload: Uint8Array, maxDepth: number, maxLength: number): CborMap | undefined {
    const r = decode(payload, { maxDepth, maxLength });
    if (!r.ok) return void refuse(gateway, channel, `CBOR: ${r.error.type} at byte ${r.error.offset}`);
    if (!(r.value instanceof Map)) return void refuse(gateway, channel, `a ${channel} payload is a CBOR map`);
    return r.value;
  }

  function onState(gateway: string, payload: Uint8Array): void {
    const m = decodeMap(gateway, 'state', payload, 4, 256);
    if (m === undefined) return;
    const s = parseState(m);
    if (typeof s === 'string') return refuse(gateway, 'state', s);
    const g = getGw.get(gateway);
    if (!s.online) {
      if (g?.bd_seq !== s.bdSeq) {
        counters.staleDeaths++; // the death of a connection already replaced by a newer birth
        return;
      }
      setPresence(gateway, 'offline', null);
      return;
    }
    const t = now();
    db.prepare(
      'UPDATE gateways SET bd_seq = ?, boot_id = ?, fw = ?, device_kind = ?, device_model = ?, device_serial = ?, nonce = ?, mode = ?, fill_used = ?, fill_capacity = ?, dropped = ?, birth_at = coalesce(CASE WHEN bd_seq = ? THEN birth_at END, ?) WHERE id = ?',
    ).run(s.bdSeq, s.bootId, s.fw, s.device?.kind ?? null, s.device?.model ?? null, s.device?.serial ?? null, s.nonce, s.mode, s.fill.used, s.fill.capacity, s.fill.dropped, s.bdSeq, t, gateway);
    if (g?.device_kind !== (s.device?.kind ?? null)) limitsCache.delete(gateway);
    setPresence(gateway, presenceOf(s), s.mode);
    alarmsFromBirth(alarms, t, gateway, s.fill, g?.dropped ?? null);
  }

  function onEvent(gateway: string, payload: Uint8Array): void {
    const m = decodeMap(gateway, 'event', payload, 6, 1024);
    if (m === undefined) return;
    const cls = m.get('class');
    const code = m.get('code');
    const priority = m.get('priority');
    const t = m.get('t');
    const clock = m.get('clock');
    const detail = m.get('detail');
    if (cls !== 'clinical' && cls !== 'technical' && cls !== 'security') return refuse(gateway, 'event', 'class must be clinical, technical or security');
    if (typeof code !== 'string' || !/^[a-z0-9-]{1,40}$/.test(code)) return refuse(gateway, 'event', 'code must be a short kebab-case text');
    if (priority !== 'high' && priority !== 'medium' && priority !== 'low' && priority !== 'info') return refuse(gateway, 'event', 'priority must be high, medium, low or info');
    if (typeof t !== 'number' || (clock !== 'utc' && clock !== 'boot') || !(detail instanceof Map)) return refuse(gateway, 'event', 't, clock and detail are required');
    const bootId = m.get('bootId');
    const json = JSON.stringify(cborToJson(detail));
    db.prepare('INSERT INTO events (gateway, boot_id, t, clock, class, code, priority, detail, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(gateway, bootId instanceof Uint8Array ? bootId : null, t, clock, cls, code, priority, json, now());
    emit({ type: 'event', gateway, class: cls, code, priority, detail: JSON.parse(json) });
    alarmFromEvent(alarms, now(), gateway, cls, code, priority, JSON.parse(json) as Record<string, unknown>);
  }

  function onResult(gateway: string, payload: Uint8Array): void {
    const m = decodeMap(gateway, 'cmd/result', payload, 4, 256);
    if (m === undefined) return;
    const status = m.get('status');
    const counter = m.get('counter');
    const nonce = m.get('nonce');
    const reason = m.get('reason');
    if (typeof status !== 'string' || !(nonce instanceof Uint8Array) || nonce.length !== 16) return refuse(gateway, 'cmd/result', 'status and a 16-byte nonce are required');
    // the gateway's challenge nonce moves on with every command: the next one must carry the new one
    db.prepare('UPDATE gateways SET nonce = ? WHERE id = ?').run(nonce, gateway);
    commands.result(now(), gateway, typeof counter === 'number' ? counter : undefined, status, typeof reason === 'string' ? reason : undefined);
  }

  client.on('message', (topicName, buf) => {
    const payload = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const parts = topicName.split('/');
    const gateway = parts[3] ?? '';
    const channel = parts.slice(4).join('/');
    try {
      if (gateway === 'host' && channel === 'state') return; // the host's own retained state, echoed by the `+/state` subscription
      if (parts.length < 5 || (!known.has(gateway) && idProblem(gateway, 'gateway') !== undefined)) return refuse(gateway || '?', channel || '?', `topic ${topicName} names no valid gateway`);
      seen(gateway);
      switch (channel) {
        case 'vitals':
        case 'history': {
          const bad = ingest.receive(gateway, channel, payload);
          if (bad !== undefined) refuse(gateway, channel, bad.error);
          return;
        }
        case 'state':
        case 'event':
        case 'cmd/result':
          // a gateway sends a few of these a minute; a flood (a compromised gateway) must not cost a disk write each
          if (!withinRate(gateway, channel)) return refuse(gateway, channel, `more than ${CONTROL_PER_WINDOW} ${channel} messages in ${CONTROL_WINDOW_MS / 1000} s: dropped`);
          return channel === 'state' ? onState(gateway, payload) : channel === 'event' ? onEvent(gateway, payload) : onResult(gateway, payload);
        default:
          return refuse(gateway, channel, `unknown channel ${channel}`);
      }
    } catch (e) {
      // a bug here must not take the ward's host down: count it as a refusal and keep going
      refuse(gateway || '?', channel || '?', `internal error: ${(e as Error).message}`);
    }
  });

  // ---- timers: presence, escalation, command time-outs, retention ----
  const offlineAfter = o.offlineAfterMs ?? 95_000;
  const tick = setInterval(() => {
    const t = now();
    try {
      saveLastSeen();
      for (const g of db.prepare<[number], { id: string }>("SELECT id FROM gateways WHERE presence != 'offline' AND (last_seen IS NULL OR last_seen < ?)").all(t - offlineAfter)) setPresence(g.id, 'offline', null);
      alarms.tick(t);
      commands.tick(t);
    } catch (e) {
      log(`host: tick failed: ${(e as Error).message}`);
    }
  }, 1000);
  const retentionMs = (o.retentionDays ?? 30) * 86_400_000;
  const purge = () => {
    const r = ingest.purge(now() - retentionMs);
    if (r.batches + r.events > 0) audit.append(now(), 'host', 'retention-purge', `site/${o.site}`, { ...r, retentionDays: o.retentionDays ?? 30 });
    return r;
  };
  purge();
  const purgeTimer = setInterval(purge, 3600_000);

  const host: Host = {
    db,
    audit,
    users,
    alarms,
    commands,
    ingest,
    counters,
    broker,
    brokerUrl,
    site: o.site,
    httpUrl: '',
    trust: () => trust,
    gateway: (id) => getGw.get(id),
    gateways: () => db.prepare<[], GatewayRow>('SELECT * FROM gateways ORDER BY id').all(),
    limitsFor,
    setLimits,
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    ready: () => readyPromise,
    purge,
    async close() {
      clearInterval(tick);
      clearInterval(purgeTimer);
      await api.close();
      ingest.close();
      if (client.connected) await client.publishAsync(`${root}/host/state`, hostState(false), { qos: 1, retain: true }).catch(() => undefined);
      await client.endAsync(true);
      await broker?.close();
      audit.append(now(), 'host', 'host-stopped', `site/${o.site}`);
      db.close();
    },
  };
  const api: Api = await startApi(host, { port: o.http.port, host: o.http.host, now });
  (host as { httpUrl: string }).httpUrl = api.url;
  return host;
}

/** CBOR detail maps as JSON (byte strings as hex) for storage and the API. */
export function cborToJson(v: CborValue): unknown {
  if (v instanceof Uint8Array) return toHex(v);
  if (Array.isArray(v)) return v.map(cborToJson);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), cborToJson(x)]));
  if (typeof v === 'bigint') return v.toString();
  return v;
}
