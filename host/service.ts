/**
 * The host service, wired: configuration (config.ts), store, broker (embedded or external), the host's
 * MQTT link (mqtt.ts), what comes in from gateways (inbound.ts → ingest.ts, gateways.ts, events,
 * command results), alarms, the command service, the audit log, the HTTP/WebSocket API, and the timers.
 * Each part is its own module; this file connects them and owns the clock and the timers.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrustList } from '../firmware/core/command/index.js';
import { toHex } from '../firmware/core/hex.js';
import { metricByMdc } from '../firmware/core/vitals/index.js';
import { checkLimits } from './alarm-rules.js';
import { Alarms, type Priority } from './alarms.js';
import { startApi, type Api } from './api/http.js';
import { AuditLog, defaultAuditDir, openAnchor, type AuditProblem } from './audit.js';
import { HOST_USER } from './broker/acl.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded.js';
import { issueSecret } from './broker/passwd.js';
import { CommandService } from './commands.js';
import { HostConfigError, loadHostConfig, type HostConfig } from './config.js';
import { TrustKeeper } from './signing/trust-keeper.js';
import { Gateways } from './gateways.js';
import { createInbound, type Inbound } from './inbound.js';
import { Ingest, type DropReport, type IngestHooks, type StoredBatch } from './ingest.js';
import { connectHostLink, type HostLink } from './mqtt.js';
import { Refusals } from './refusals.js';
import { isStorageError, Storage } from './storage.js';
import { openDb, type Db } from './store/db.js';
import type { Host, HostCounters, StreamMessage } from './types.js';
import { Notices } from './notices.js';
import { Advisories } from './advisories/index.js';
import { Users } from './users.js';
import { commandView } from './views.js';

export { HostConfigError } from './config.js';
export type { GatewayRow, Host, HostCounters, StreamMessage } from './types.js';

export interface HostOptions {
  readonly site: string;
  readonly dataDir: string;
  readonly hostId?: string;
  /** Embedded aedes (default, port 1883), or an external broker's URL and the host's secret there. */
  readonly broker: { readonly embedded: { readonly port: number; readonly host?: string; readonly tls?: { port: number; key: string; cert: string; ca: string } } } | { readonly url: string; readonly secret: string; readonly ca?: string };
  /** allowedOrigins: origins besides the host's own whose pages may use the API with a session cookie (a reverse proxy's). */
  readonly http: { readonly port: number; readonly host?: string; readonly allowedOrigins?: readonly string[] };
  /** The root public key (32 bytes) that signs the trust list; the list itself, signed. */
  readonly rootKey?: Uint8Array;
  readonly trustFile?: string;
  /** A directory of clinicians' PKCS#8 signing keys (commands.ts says why). */
  readonly keyringDir?: string;
  readonly retentionDays?: number;
  /** The audit log's signing key and checkpoint file, kept apart from dataDir (default `<dataDir>-audit`). */
  readonly auditDir?: string;
  /** A gateway silent this long is offline (default: three missed 30 s heartbeats and a margin). */
  readonly offlineAfterMs?: number;
  readonly escalateAfterMs?: Readonly<Record<Priority, number>>;
  readonly commandAnswerTimeoutMs?: number;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

export async function startHost(o: HostOptions): Promise<Host> {
  const now = o.now ?? Date.now;
  const log = o.log ?? ((line: string) => console.log(line));
  const config = loadHostConfig(o); // throws HostConfigError before anything is opened
  const listeners = new Set<(m: StreamMessage) => void>();
  const emit = (m: StreamMessage) => listeners.forEach((l) => l(m));
  const counters: HostCounters = { refused: {}, staleDeaths: 0, errorEvents: 0 };

  mkdirSync(o.dataDir, { recursive: true });
  const db = openDb(join(o.dataDir, 'vigil.db'));
  const audit = new AuditLog(db, join(o.dataDir, 'audit.head'), openAnchor(o.auditDir ?? defaultAuditDir(o.dataDir)));
  const tampered = audit.checkAgainstAnchor();
  const users = new Users(db, audit);
  const alarms = new Alarms(db, audit, (alarm, change) => emit({ type: 'alarm', change, alarm }), { escalateAfterMs: o.escalateAfterMs });
  const gateways = new Gateways(db, audit, alarms, counters, emit, now);
  const storage = new Storage(now, log, emit, (from, to, error) => raiseStorageFailed(alarms, now(), from, to, error));
  const watch = securityAlarms(alarms, storage, now);
  const refusals = new Refusals(db, counters, emit, now, storage, watch.refused);

  let started: Awaited<ReturnType<typeof brokerFor>>;
  try {
    started = await brokerFor(o, watch.violation);
  } catch (e) {
    db.close();
    throw e;
  }
  const { broker, url: brokerUrl, secret } = started;
  const hostId = o.hostId ?? 'vigil-host';
  audit.append(now(), 'host', 'host-started', `site/${o.site}`, { hostId, broker: brokerUrl });
  reportTampering(tampered, audit, alarms, log, o.site, now());
  audit.checkpoint(now());

  // ---- parts ----
  let onMessage: (topic: string, payload: Uint8Array) => void = () => undefined;
  const trust = new TrustKeeper(config, o, audit, (bytes) => link.publishTrust(bytes));
  const link = connectHostLink({ site: o.site, hostId, url: brokerUrl, secret, ca: 'ca' in o.broker ? o.broker.ca : undefined, trustBytes: () => trust.bytes, now, log, onMessage: (t, p) => onMessage(t, p) });
  const onStored = storedHook(() => listeners.size > 0, emit, alarms, gateways, now);
  const ingest = new Ingest(db, {
    ack: (acks) => acks.forEach((a) => link.ack(a.gateway, a.bootId, a.through)),
    stored: (batches) => batches.forEach(onStored),
    ...ingestAlarms(alarms, storage, log, now),
    ...controlHooks(() => inbound, audit, storage),
  }, { now });
  const commands = commandService(db, audit, config, trust, gateways, link, emit, o.commandAnswerTimeoutMs);
  const inbound = createInbound({ site: o.site, db, gateways, ingest, alarms, commands, refusals, storage, audit, emit, now });
  onMessage = inbound.handle;


  const retentionDays = o.retentionDays ?? 30;
  const purge = () => {
    const r = ingest.purge(now() - retentionDays * 86_400_000);
    if (r.batches + r.events > 0) audit.append(now(), 'host', 'retention-purge', `site/${o.site}`, { ...r, retentionDays });
    return r;
  };
  const stopTimers = startTimers(
    () => {
      inbound.retry();
      audit.checkpoint(now());
      guarded(storage, 'timers', () => {
        gateways.saveLastSeen();
        gateways.sweep(o.offlineAfterMs ?? 95_000);
        alarms.tick(now());
        commands.tick(now());
      });
    },
    () => guarded(storage, 'retention purge', purge),
    log,
  );

  const host: Host = {
    db,
    audit,
    users,
    alarms,
    commands,
    notices: new Notices(db, audit, emit),
    advisories: new Advisories(db, audit, alarms, () => config.profiles),
    ingest,
    counters,
    storage: () => storage.health,
    broker,
    brokerUrl,
    site: o.site,
    dataDir: o.dataDir,
    httpUrl: '',
    trust: () => trust.trust,
    trustKeeper: trust,
    profiles: () => config.profiles,
    gateway: (id) => gateways.get(id),
    gateways: () => gateways.all(),
    limitsFor: (id) => gateways.limitsFor(id),
    assignBed: (id, bed, by) => gateways.assignBed(id, bed, by),
    setLimits: (id, limits) => gateways.setLimits(id, limits),
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    ready: () => link.ready(),
    purge,
    async close() {
      stopTimers();
      await api?.close();
      ingest.close();
      await link.close();
      await broker?.close();
      audit.append(now(), 'host', 'host-stopped', `site/${o.site}`);
      audit.checkpoint(now());
      db.close();
    },
  };
  let api: Api | undefined;
  try {
    api = await startApi(host, { port: o.http.port, host: o.http.host, now, allowedOrigins: o.http.allowedOrigins });
  } catch (e) {
    await host.close(); // a taken HTTP port leaves no broker, timer or open database behind
    throw e;
  }
  (host as { httpUrl: string }).httpUrl = api.url;
  return host;
}

/** The embedded broker with a fresh secret for the host's own connection, or the external one given. */
async function brokerFor(o: HostOptions, onViolation: (who: string, code: 'acl-denied-publish' | 'acl-denied-subscribe' | 'oversized-payload', what: string) => void): Promise<{ broker: EmbeddedBroker | undefined; url: string; secret: string }> {
  if (!('embedded' in o.broker)) return { broker: undefined, url: o.broker.url, secret: o.broker.secret };
  const passwdFile = join(o.dataDir, 'passwd');
  const secret = issueSecret(passwdFile, HOST_USER);
  const broker = await startEmbeddedBroker({ site: o.site, port: o.broker.embedded.port, host: o.broker.embedded.host, passwdFile, tls: o.broker.embedded.tls, onViolation });
  return { broker, url: broker.url, secret };
}

/** Every second: presence, escalation, command time-outs; at start and every hour: retention. */
function startTimers(everySecond: () => void, purge: () => void, log: (line: string) => void): () => void {
  const tick = setInterval(() => {
    try {
      everySecond();
    } catch (e) {
      log(`host: tick failed: ${(e as Error).message}`);
    }
  }, 1000);
  purge();
  const purgeTimer = setInterval(purge, 3600_000);
  return () => {
    clearInterval(tick);
    clearInterval(purgeTimer);
  };
}

/** What follows a stored batch: its stream message (when anyone watches) and, for live data, the bed's alarm limits. */
function storedHook(watched: () => boolean, emit: (m: StreamMessage) => void, alarms: Alarms, gateways: Gateways, now: () => number): (b: StoredBatch) => void {
  return (b) => {
    if (watched()) emit(vitalsMessage(b));
    if (!b.historical) checkLimits(alarms, now(), b.gateway, b.batch, gateways.limitsFor(b.gateway)); // old data: stored and shown, no live alarm
  };
}

function vitalsMessage(b: StoredBatch): StreamMessage {
  const columns = b.batch.columns.map((c) => ({ key: metricByMdc(c.mdc)?.key ?? String(c.mdc), mdc: c.mdc, unit: c.unit, dt: c.dt, values: [...c.values] }));
  return { type: 'vitals', gateway: b.gateway, bootId: toHex(b.bootId), seq: b.seq, historical: b.historical, t0: b.batch.t0, clock: b.batch.clock, columns };
}

/** A gateway reported records its full buffer dropped: a technical alarm naming the lost ranges. */
function raiseDropped(alarms: Alarms, t: number, r: DropReport): void {
  const detail = `${r.gateway}: ${r.dropped} records lost to a full buffer${r.more ? ' (more ranges than listed)' : ''}`;
  alarms.raise(t, r.gateway, 'technical', 'data-dropped', 'medium', detail, { dropped: r.dropped, ranges: r.ranges.map(([b, f, l]) => [toHex(b), f, l]) });
}

/** The log does not match its newest signed checkpoint: the log says so itself, and a security alarm is raised. */
function reportTampering(problems: readonly AuditProblem[], audit: AuditLog, alarms: Alarms, log: (line: string) => void, site: string, t: number): void {
  if (problems.length === 0) return;
  // the evidence stays: the checkpoint file is only ever appended to
  audit.append(t, 'host', 'audit-tamper-detected', `site/${site}`, { problems });
  alarms.raise(t, 'host', 'security', 'audit-tampered', 'high', `the audit log does not match its signed checkpoint: ${problems[0]!.problem}`, { problems });
  log(`host: AUDIT LOG TAMPERED: ${problems.map((p) => p.problem).join('; ')}`);
}

/** What ingest reports besides acks and stored batches: drops and boot-id floods as alarms, storage health. */
function ingestAlarms(alarms: Alarms, storage: Storage, log: (line: string) => void, now: () => number): Omit<IngestHooks, 'ack' | 'stored'> {
  return {
    dropped: (r) => raiseDropped(alarms, now(), r),
    storeFailed: (e, n) => {
      if (isStorageError(e)) storage.failed(`commit of ${n} records`, e);
      else log(`host: could not commit ${n} records (${e.message}); not acked, the gateways will send them again`);
    },
    committed: () => storage.succeeded(),
    mayTry: () => storage.mayTry(),
    bootFlood: (gateway, n) => alarms.raise(now(), gateway, 'security', 'boot-id-flood', 'high', `${gateway} named ${n} new boot ids within an hour: its records are refused (a gateway boots a few times a day)`, { perHour: n }),
  };
}

/** Runs `fn` unless storage is failing and not due a try; a storage error degrades the host, anything else is a bug. */
function guarded(storage: Storage, what: string, fn: () => void): void {
  if (!storage.mayTry()) return;
  try {
    fn();
    storage.succeeded();
  } catch (e) {
    if (!isStorageError(e)) throw e;
    storage.failed(what, e);
  }
}

/**
 * Alarms for what a gateway's identity did wrong: a payload the host refused, and (embedded broker) a
 * logged-in client breaking the ACL or a payload bound, the sign of a compromised or cloned box.
 */
function securityAlarms(alarms: Alarms, storage: Storage, now: () => number) {
  return {
    refused: (gateway: string, channel: string, error: string) =>
      guarded(storage, 'alarm', () => alarms.raise(now(), gateway, 'security', 'payload-refused', 'medium', `${gateway}: the host refused its ${channel} message`, { channel, error: error.slice(0, 200) })),
    violation: (who: string, code: string, what: string) => guarded(storage, 'alarm', () => alarms.raise(now(), who, 'security', code, 'high', `${who}: ${what}`, { what })),
  };
}

/** Storage works again: one technical alarm for the outage, the newest. */
function raiseStorageFailed(alarms: Alarms, t: number, from: number, to: number, error: string): void {
  alarms.clear(t, 'host', 'storage-failed');
  alarms.raise(t, 'host', 'technical', 'storage-failed', 'medium', `the host's database failed for ${Math.round((to - from) / 1000)} s (${error}); no data was acked meanwhile`, { from, to, error });
}

/** The command service over the host's trust list, keyring, profiles, gateway registry and MQTT link. */
function commandService(db: Db, audit: AuditLog, config: HostConfig, trust: TrustKeeper, gateways: Gateways, link: HostLink, emit: (m: StreamMessage) => void, answerTimeoutMs: number | undefined): CommandService {
  return new CommandService({
    db,
    audit,
    trust: (): TrustList | undefined => trust.trust,
    keyring: config.keyring,
    profile: (model) => config.profiles.get(model),
    gateway: (id) => {
      const g = gateways.get(id);
      return g === undefined ? undefined : { online: g.presence !== 'offline', kind: g.device_kind, model: g.device_model, serial: g.device_serial, nonce: g.nonce, settings: g.settings === null ? null : (JSON.parse(g.settings) as Record<string, number | string>) };
    },
    publish: (gateway, payload) => link.command(gateway, payload),
    notify: (command) => emit({ type: 'command', command: commandView(command) }),
    answerTimeoutMs,
  });
}

/** Control messages commit inside ingest's transaction; when it fails they wait for storage (storage.ts). */
function controlHooks(inbound: () => Inbound, audit: AuditLog, storage: Storage): Pick<IngestHooks, 'control' | 'controlFailed'> {
  return {
    control: (topic, payload) => inbound().commitControl(topic, payload),
    controlFailed: (items) => {
      audit.resync(); // entries appended inside the rolled-back commit are gone
      for (const [topic, payload] of items) storage.defer(topic, payload);
    },
  };
}
