/**
 * The gateway core: `createGateway(config, ports)` returns `handle(event, now)`, which takes an event
 * (network, MQTT, a message, device bytes, a clock reading, a tick) and the monotonic time, and returns
 * effects for the adapter to carry out in order (connect, publish, subscribe, serial write, alarm
 * output, the next wake-up). Durable state goes through ports synchronously (flash log, key-value
 * store), so "persist, then forward" holds by construction.
 *
 * This file assembles the parts and routes events and messages to them:
 *   session.ts  the mode (mode.ts), connects, the Sparkplug birth, death and heartbeat, subscriptions
 *   vitals.ts   batches, the flash log, live and history publishing, acks
 *   commands.ts the trust list, the command gate, results and read-backs
 *   device.ts   the serial link, device messages, boundary checks, silence
 *
 * Clinical safety rule: the gateway never changes therapy on its own. It forwards a setting change only
 * when the command gate accepts a signed command, and on any loss it only blocks what it cannot verify;
 * the device keeps its last verified settings (docs/degraded-mode.md).
 */
import { openLog, type VitalsLog } from '../log/index.js';
import { hostStateTopic, parseHostState, topic, trustTopic, type Channel } from '../protocol/index.js';
import { createCommandPath } from './commands.js';
import { createDeviceSide } from './device.js';
import { createEventChannel, createTimeSource, type GatewayEffect, type GatewayEvent, type GatewayStats } from './effects.js';
import { isLive, type Mode } from './mode.js';
import type { GatewayConfig, GatewayPorts } from './ports.js';
import { createSessionPart } from './session.js';
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
  const bootId = ports.random(16);
  const log = openLog(ports.flash, bootId);
  const stats: GatewayStats = { published: 0, historySent: 0, eventsDropped: 0, deviceFrames: 0, deviceAnomalies: 0, commands: 0, samplesTaken: 0, samplesLogged: 0 };
  const t = (ch: Channel) => topic(config.site, config.gateway, ch);
  const time = createTimeSource();
  const publish: Parameters<typeof createVitalsPipeline>[0]['publish'] = (out, p) => session.publish(out, p);

  const events = createEventChannel({ topic: t('event'), bootId, time, stats, connected: () => session.session.broker, nextSeq: () => log.nextSeq });
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
  const device = createDeviceSide({
    random: ports.random,
    profiles: config.profiles,
    stats,
    events,
    identified(out, now, who) {
      vitals.device(out, now, isLive(session.session.mode), who.serial, who.driver.mdcs, who.driver.sampleMs);
      commands.device(who.serial, who.profile);
      session.birthDue();
    },
    observed: (row, now) => vitals.add(row, now),
    settings: (out, now, id, values) => void (commands.settings(out, now, id, values) && session.birthDue()), // a change: the birth reports it
  });
  const session = createSessionPart({ config, ports, bootId, log, time, stats, device: () => device.identity, nonce: () => commands.nonce, settings: () => commands.current, onLive: (out, now) => vitals.goLive(out, now) });

  function onMessage(out: GatewayEffect[], now: number, name: string, payload: Uint8Array): void {
    if (name === hostStateTopic(config.site)) {
      const h = parseHostState(payload);
      session.apply(out, now, { type: 'backlog', has: vitals.hasBacklog() }); // decides recovering or online
      session.apply(out, now, { type: 'host', online: h.ok && h.value.online });
    } else if (name === trustTopic(config.site)) {
      commands.trustList(out, now, payload);
    } else if (name === t('cmd')) {
      if (commands.command(out, now, payload)) session.birthDue(); // the new challenge nonce
    } else if (name === t('ack')) {
      vitals.ack(out, now, payload);
    }
  }

  function onTick(out: GatewayEffect[], now: number): void {
    const retryAt = session.session.retryAt;
    if (retryAt !== undefined && now >= retryAt) session.apply(out, now, { type: 'retry' });
    device.tick(out, now);
    vitals.tick(out, now, isLive(session.session.mode));
    session.tick(now);
    commands.tick(out, now);
  }

  function handle(ev: GatewayEvent, now: number): GatewayEffect[] {
    const out: GatewayEffect[] = [];
    switch (ev.type) {
      case 'boot':
        session.apply(out, now, { type: 'started' });
        vitals.start(now);
        break;
      case 'network':
        session.apply(out, now, { type: 'network', up: ev.up });
        break;
      case 'mqtt-connected':
        session.apply(out, now, { type: 'backlog', has: vitals.hasBacklog() });
        session.apply(out, now, { type: 'connected' });
        session.opened(out, now);
        events.flush(out);
        vitals.connected(now);
        break;
      case 'mqtt-lost':
        session.apply(out, now, { type: 'lost' });
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
    if (session.session.mode === 'recovering' && !vitals.hasBacklog()) session.apply(out, now, { type: 'backlog', has: false });
    session.flushBirth(out, now);
    const wakes = [vitals.wakeAt(isLive(session.session.mode)), device.wakeAt(), commands.wakeAt(), session.wakeAt()];
    out.push({ type: 'wake', at: Math.max(now + 1, Math.min(...wakes)) });
    return out;
  }

  return {
    handle,
    get mode() {
      return session.session.mode;
    },
    bootId,
    log,
    stats,
  };
}
