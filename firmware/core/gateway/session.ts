/**
 * The gateway's MQTT session: the connection record and its transitions (mode.ts), what each
 * transition asks of the adapter (connect with a fresh will, disconnect), and the Sparkplug B birth
 * and death. bdSeq is persisted and incremented on every connect and the will rebuilt with it; the
 * birth goes out (once per handle() call) when the connection opens, when the mode changes, when the
 * device is identified, when the challenge nonce moves on, and as the heartbeat.
 */
import { decode, encode } from '../cbor/index.js';
import type { VitalsLog } from '../log/index.js';
import { encodeBirth, encodeDeath, gatewaySubscriptions, SETTINGS_BOUNDS, topic } from '../protocol/index.js';
import type { Identified } from './device.js';
import type { GatewayEffect, GatewayStats, Publish, TimeSource } from './effects.js';
import { BOOTING, isLive, step, type Mode, type Session, type SessionEvent } from './mode.js';
import type { GatewayConfig, GatewayPorts } from './ports.js';

export interface SessionPart {
  readonly session: Session;
  /** Publishes when connected to the broker; false when not. */
  publish(out: GatewayEffect[], p: Publish): boolean;
  /** One step of the session, carrying out its action; `onLive` runs when the mode becomes live. */
  apply(out: GatewayEffect[], now: number, e: SessionEvent): void;
  /** The connection opened: subscriptions, then a birth. */
  opened(out: GatewayEffect[], now: number): void;
  /** Something the birth says changed. */
  birthDue(): void;
  tick(now: number): void;
  /** Publishes the birth if due; call once at the end of handle(). */
  flushBirth(out: GatewayEffect[], now: number): void;
  wakeAt(): number;
}

export function createSessionPart(deps: {
  readonly config: GatewayConfig;
  readonly ports: GatewayPorts;
  readonly bootId: Uint8Array;
  readonly log: VitalsLog;
  readonly time: TimeSource;
  readonly stats: GatewayStats;
  readonly device: () => Identified | undefined;
  readonly nonce: () => Uint8Array;
  readonly settings: () => ReadonlyMap<string, number | string>;
  readonly onLive: (out: GatewayEffect[], now: number) => void;
}): SessionPart {
  const { config, ports } = deps;
  const heartbeatMs = config.heartbeatMs ?? 30_000;
  const stateTopic = topic(config.site, config.gateway, 'state');
  let session: Session = BOOTING;
  let heartbeatAt = 0;
  let due = false;
  let bdSeq = storedBdSeq();

  function storedBdSeq(): number {
    const b = ports.store.get('bdSeq');
    const r = b === undefined ? undefined : decode(b);
    return r !== undefined && r.ok && typeof r.value === 'number' ? r.value : 0;
  }

  function connect(out: GatewayEffect[]): void {
    bdSeq++;
    ports.store.set('bdSeq', encode(bdSeq));
    const will: Publish = { topic: stateTopic, payload: encodeDeath({ online: false, bdSeq }), qos: 1, retain: true };
    out.push({ type: 'mqtt-connect', clientId: `vigil-${config.site}-${config.gateway}`, will });
  }

  function birth(now: number): Uint8Array {
    const s = deps.log.stats();
    const who = deps.device();
    const { t, clock } = deps.time.time(now);
    const mode: Mode = session.mode;
    // what fits the birth's bounds (a device may report more, or longer, than a profile names)
    const settings = [...deps.settings()]
      .filter(([k, v]) => k.length > 0 && k.length <= SETTINGS_BOUNDS.name && (typeof v === 'number' ? Number.isFinite(v) : v.length > 0 && v.length <= SETTINGS_BOUNDS.text))
      .slice(0, SETTINGS_BOUNDS.count);
    return encodeBirth({
      online: true,
      bdSeq,
      bootId: deps.bootId,
      firmware: config.firmware,
      device: who === undefined ? null : { kind: who.driver.kind, model: who.model, serial: who.serial, ...(who.firmware === undefined ? {} : { firmware: who.firmware }) },
      nonce: deps.nonce(),
      mode: mode === 'online' || mode === 'recovering' ? mode : 'degraded',
      buffer: { used: s.used, capacity: s.capacity, dropped: s.dropped },
      t,
      clock,
      ...(settings.length === 0 ? {} : { settings: Object.fromEntries(settings) }),
    });
  }

  const part: SessionPart = {
    get session() {
      return session;
    },
    publish(out, p) {
      if (!session.broker) return false;
      deps.stats.published++;
      out.push({ type: 'publish', ...p });
      return true;
    },
    apply(out, now, e) {
      const before = session.mode;
      const r = step(session, e, now, ports.random(1)[0]! / 256);
      session = r.session;
      if (r.action === 'connect') connect(out);
      else if (r.action === 'disconnect') out.push({ type: 'mqtt-disconnect' });
      if (session.mode === before) return;
      if (isLive(session.mode) && !isLive(before)) deps.onLive(out, now);
      due = true; // the mode changed: the host sees it in the retained birth
    },
    opened(out, now) {
      out.push({ type: 'subscribe', topics: gatewaySubscriptions(config.site, config.gateway) });
      heartbeatAt = now + heartbeatMs;
      due = true;
    },
    birthDue() {
      due = true;
    },
    tick(now) {
      if (session.broker && now >= heartbeatAt) {
        due = true;
        heartbeatAt = now + heartbeatMs;
      }
    },
    flushBirth(out, now) {
      if (due) part.publish(out, { topic: stateTopic, payload: birth(now), qos: 1, retain: true });
      due = false;
    },
    wakeAt: () => Math.min(session.retryAt ?? Infinity, session.broker ? heartbeatAt : Infinity),
  };
  return part;
}
