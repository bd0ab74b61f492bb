/**
 * The gateway core: `createGateway(config, ports)` returns `handle(event, now)`, which takes an event
 * (network, MQTT, a message, device bytes, a clock reading, a tick) and the monotonic time, and returns
 * effects for the adapter to carry out in order (connect, publish, subscribe, serial write, alarm
 * output, the next wake-up). Durable state goes through ports synchronously (flash log, key-value
 * store), so "persist, then forward" holds by construction.
 *
 * This file assembles the parts and owns the session (mode.ts) and the Sparkplug birth and death:
 *   vitals.ts   batches, the flash log, live and history publishing, acks
 *   commands.ts the trust list, the command gate, results and read-backs
 *   device.ts   the serial link, device messages, boundary checks, silence
 *
 * Clinical safety rule: the gateway never changes therapy on its own. It forwards a setting change only
 * when the command gate accepts a signed command, and on any loss it only blocks what it cannot verify;
 * the device keeps its last verified settings (docs/degraded-mode.md).
 */
import { decode, encode } from '../cbor/index.js';
import { openLog, type VitalsLog } from '../log/index.js';
import { encodeBirth, encodeDeath, gatewaySubscriptions, hostStateTopic, parseHostState, topic, trustTopic, type Channel } from '../protocol/index.js';
import { createCommandPath } from './commands.js';
import { createDeviceSide } from './device.js';
import { createEventChannel, createTimeSource, type GatewayEffect, type GatewayEvent, type GatewayStats, type Publish } from './effects.js';
import { BOOTING, isLive, step, type Mode, type Session, type SessionEvent } from './mode.js';
import type { GatewayConfig, GatewayPorts } from './ports.js';
import { createVitalsPipeline } from './vitals.js';

export interface Gateway {
  handle(event: GatewayEvent, now: number): GatewayEffect[];
  readonly mode: Mode;
  readonly bootId: Uint8Array;
  readonly log: VitalsLog;
  readonly stats: GatewayStats;
}

const DRAIN_EVERY_MS = 50;
const DRAIN_BATCH = 8;

export function createGateway(config: GatewayConfig, ports: GatewayPorts): Gateway {
  const heartbeatMs = config.heartbeatMs ?? 30_000;
  const bootId = ports.random(16);
  const log = openLog(ports.flash, bootId);
  const stats: GatewayStats = { published: 0, historySent: 0, eventsDropped: 0, deviceFrames: 0, deviceAnomalies: 0, commands: 0 };
  const t = (ch: Channel) => topic(config.site, config.gateway, ch);
  const time = createTimeSource();

  let session: Session = BOOTING;
  let heartbeatAt = 0;
  let bdSeq = readUint('bdSeq') ?? 0;

  function readUint(key: string): number | undefined {
    const b = ports.store.get(key);
    const r = b === undefined ? undefined : decode(b);
    return r !== undefined && r.ok && typeof r.value === 'number' ? r.value : undefined;
  }

  function publish(out: GatewayEffect[], p: Publish): boolean {
    if (!session.broker) return false;
    stats.published++;
    out.push({ type: 'publish', ...p });
    return true;
  }

  const events = createEventChannel({ topic: t('event'), bootId, time, stats, connected: () => session.broker });
  const vitals = createVitalsPipeline({
    log,
    options: { batchMs: config.batchMs ?? 5000, outageBatchMs: config.outageBatchMs ?? 60_000, drainEveryMs: config.drainEveryMs ?? DRAIN_EVERY_MS, drainBatch: config.drainBatch ?? DRAIN_BATCH },
    topics: { vitals: t('vitals'), history: t('history') },
    time,
    stats,
    events,
    publish,
  });
  const commands = createCommandPath({
    gateway: config.gateway,
    rootKey: config.rootKey,
    store: ports.store,
    verify: ports.verify,
    random: ports.random,
    resultTopic: t('cmd/result'),
    time,
    stats,
    events,
    publish,
    forward: (out, now, counter, values) => device.set(out, now, counter, values),
  });
  let birthDue = false; // set by whatever changes what the birth says; published once per handle()
  const device = createDeviceSide({
    random: ports.random,
    profiles: config.profiles,
    stats,
    events,
    identified(_out, _now, who) {
      vitals.device(who.serial, who.driver.mdcs, who.driver.sampleMs);
      commands.device(who.serial, who.profile);
      birthDue = true;
    },
    observed: (row, now) => vitals.add(row, now),
    settings: (out, now, id, values) => commands.settings(out, now, id, values),
  });

  function birth(now: number): Uint8Array {
    const s = log.stats();
    const who = device.identity;
    const { t: tt, clock } = time.time(now);
    return encodeBirth({
      online: true,
      bdSeq,
      bootId,
      firmware: config.firmware,
      device: who === undefined ? null : { kind: who.driver.kind, model: who.model, serial: who.serial },
      nonce: commands.nonce,
      mode: session.mode === 'online' || session.mode === 'recovering' ? session.mode : 'degraded',
      buffer: { used: s.used, capacity: s.capacity, dropped: s.dropped },
      t: tt,
      clock,
    });
  }

  /** Sparkplug B: bdSeq persisted and incremented per connection, the will rebuilt each time. */
  function connect(out: GatewayEffect[]): void {
    bdSeq++;
    ports.store.set('bdSeq', encode(bdSeq));
    const will: Publish = { topic: t('state'), payload: encodeDeath({ online: false, bdSeq }), qos: 1, retain: true };
    out.push({ type: 'mqtt-connect', clientId: `vigil-${config.site}-${config.gateway}`, will });
  }

  /** One step of the session; carries out its action and notes a mode change. */
  function apply(out: GatewayEffect[], now: number, e: SessionEvent): void {
    const before = session.mode;
    const r = step(session, e, now, ports.random(1)[0]! / 256);
    session = r.session;
    if (r.action === 'connect') connect(out);
    else if (r.action === 'disconnect') out.push({ type: 'mqtt-disconnect' });
    if (session.mode !== before) {
      if (isLive(session.mode) && !isLive(before)) vitals.goLive(out, now);
      birthDue = true; // the mode changed: the host sees it in the retained birth
    }
  }

  function onMessage(out: GatewayEffect[], now: number, name: string, payload: Uint8Array): void {
    if (name === hostStateTopic(config.site)) {
      const h = parseHostState(payload);
      apply(out, now, { type: 'backlog', has: vitals.hasBacklog() }); // decides recovering or online
      apply(out, now, { type: 'host', online: h.ok && h.value.online });
    } else if (name === trustTopic(config.site)) {
      commands.trustList(out, now, payload);
    } else if (name === t('cmd')) {
      if (commands.command(out, now, payload)) birthDue = true; // the new challenge nonce
    } else if (name === t('ack')) {
      vitals.ack(out, now, payload);
    }
  }

  function onTick(out: GatewayEffect[], now: number): void {
    if (session.retryAt !== undefined && now >= session.retryAt) apply(out, now, { type: 'retry' });
    device.tick(out, now);
    vitals.tick(out, now, isLive(session.mode));
    if (session.broker && now >= heartbeatAt) {
      birthDue = true;
      heartbeatAt = now + heartbeatMs;
    }
    commands.tick(out, now);
  }

  function handle(ev: GatewayEvent, now: number): GatewayEffect[] {
    const out: GatewayEffect[] = [];
    birthDue = false;
    switch (ev.type) {
      case 'boot':
        apply(out, now, { type: 'started' });
        vitals.start(now);
        break;
      case 'network':
        apply(out, now, { type: 'network', up: ev.up });
        break;
      case 'mqtt-connected':
        apply(out, now, { type: 'backlog', has: vitals.hasBacklog() });
        apply(out, now, { type: 'connected' });
        out.push({ type: 'subscribe', topics: gatewaySubscriptions(config.site, config.gateway) });
        events.flush(out);
        vitals.connected(now);
        heartbeatAt = now + heartbeatMs;
        birthDue = true;
        break;
      case 'mqtt-lost':
        apply(out, now, { type: 'lost' });
        break;
      case 'message':
        onMessage(out, now, ev.topic, ev.payload);
        break;
      case 'device-bytes':
        device.receive(out, now, ev.bytes);
        break;
      case 'clock':
        time.set(ev.unixMs, now);
        break;
      case 'tick':
        onTick(out, now);
        break;
    }
    // recovering ends when the backlog is acked (live records too: the log counts what is not committed)
    if (session.mode === 'recovering' && !vitals.hasBacklog()) apply(out, now, { type: 'backlog', has: false });
    if (birthDue) publish(out, { topic: t('state'), payload: birth(now), qos: 1, retain: true });
    const wakes = [vitals.wakeAt(isLive(session.mode)), device.wakeAt(), commands.wakeAt(), session.retryAt ?? Infinity, session.broker ? heartbeatAt : Infinity];
    out.push({ type: 'wake', at: Math.max(now + 1, Math.min(...wakes)) });
    return out;
  }

  return {
    handle,
    get mode() {
      return session.mode;
    },
    bootId,
    log,
    stats,
  };
}
