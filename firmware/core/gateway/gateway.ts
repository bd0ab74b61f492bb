/**
 * The gateway core: `createGateway(config, ports)` returns `handle(event, now)`, which takes an event
 * (network, MQTT, a message, device bytes, a clock reading, a tick) and the monotonic time, and returns
 * effects for the adapter to carry out in order (connect, publish, subscribe, serial write, alarm
 * output, the next wake-up). Durable state goes through ports synchronously (flash log, key-value
 * store), so "persist, then forward" holds by construction.
 *
 * Clinical safety rule: the gateway never changes therapy on its own. It forwards a setting change only
 * when the command gate accepts a signed command, and on any loss it only blocks what it cannot verify;
 * the device keeps its last verified settings (docs/degraded-mode.md).
 */
import { decode, encode, type CborValue } from '../cbor/index.js';
import { acceptTrustList, createCommandGate, type CommandGate, type DeviceProfile, type SettingValue, type TrustList } from '../command/index.js';
import { DRIVERS, type DeviceDriver } from '../device/drivers.js';
import { createLink, type Link, type LinkEffect } from '../device/link.js';
import { decodeMessage, encodeMessage } from '../device/messages.js';
import { toHex } from '../hex.js';
import { openLog, type VitalsLog } from '../log/index.js';
import { encodeBatch, type Clock } from '../vitals/index.js';
import { createBatcher, type Batcher } from './batcher.js';
import { backoffMs, transition, type ConnState } from './connection.js';
import { checkPlausible } from './plausibility.js';
import type { GatewayConfig, GatewayPorts } from './ports.js';
import { hostStateTopic, topic, trustTopic, type Channel } from './topics.js';

export type GatewayEvent =
  | { readonly type: 'boot' }
  | { readonly type: 'network'; readonly up: boolean }
  | { readonly type: 'mqtt-connected' }
  | { readonly type: 'mqtt-lost' }
  | { readonly type: 'message'; readonly topic: string; readonly payload: Uint8Array }
  | { readonly type: 'device-bytes'; readonly bytes: Uint8Array }
  /** A trusted wall-clock reading (SNTP), Unix ms. */
  | { readonly type: 'clock'; readonly unixMs: number }
  | { readonly type: 'tick' };

export interface Publish {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

export type GatewayEffect =
  | { readonly type: 'mqtt-connect'; readonly clientId: string; readonly will: Publish }
  | { readonly type: 'mqtt-disconnect' }
  | { readonly type: 'subscribe'; readonly topics: readonly string[] }
  | ({ readonly type: 'publish' } & Publish)
  | { readonly type: 'serial-write'; readonly bytes: Uint8Array }
  | { readonly type: 'alarm-output'; readonly on: boolean }
  /** Call handle({ type: 'tick' }) at this monotonic time. */
  | { readonly type: 'wake'; readonly at: number };

export interface Gateway {
  handle(event: GatewayEvent, now: number): GatewayEffect[];
  readonly state: ConnState;
  readonly bootId: Uint8Array;
  readonly log: VitalsLog;
  readonly stats: GatewayStats;
}

export interface GatewayStats {
  published: number;
  historySent: number;
  eventsDropped: number;
  deviceFrames: number;
  deviceAnomalies: number;
  commands: number;
}

const SILENCE_MIN_MS = 5000;
const DRAIN_EVERY_MS = 50;
const DRAIN_BATCH = 8;
const READBACK_TIMEOUT_MS = 10_000;
const ACK_STALL_MS = 30_000;
const EVENT_QUEUE = 32;
const FLOOD_PER_MINUTE = 20;
/** NVS values are at most 4000 bytes: a trust list of about 45 signers. */
const TRUST_MAX_BYTES = 4000;

type EventClass = 'clinical' | 'technical' | 'security';
type Priority = 'high' | 'medium' | 'low' | 'info';

export function createGateway(config: GatewayConfig, ports: GatewayPorts): Gateway {
  const batchMs = config.batchMs ?? 5000;
  const outageBatchMs = config.outageBatchMs ?? 60_000;
  const heartbeatMs = config.heartbeatMs ?? 30_000;
  const drainEveryMs = config.drainEveryMs ?? DRAIN_EVERY_MS;
  const drainBatch = config.drainBatch ?? DRAIN_BATCH;
  const bootId = ports.random(16);
  const log = openLog(ports.flash, bootId);
  const stats: GatewayStats = { published: 0, historySent: 0, eventsDropped: 0, deviceFrames: 0, deviceAnomalies: 0, commands: 0 };
  const t = (ch: Channel) => topic(config.site, config.gateway, ch);

  let state: ConnState = 'booting';
  let broker = false;
  let network = false;
  let host: boolean | undefined;
  let attempt = 0;
  let reconnectAt: number | undefined;
  let heartbeatAt = 0;
  let batchAt = 0;
  let drainAt = 0;
  let lastAckProgress = 0;
  let clockOffset: number | undefined; // unix ms - monotonic ms, once SNTP says so
  let bdSeq = readUint('bdSeq') ?? 0;
  const link: Link = createLink({ session: ports.random(1)[0]! });
  let driver: DeviceDriver | undefined;
  let profile: DeviceProfile | undefined;
  let serial: string | undefined;
  let batcher: Batcher | undefined;
  let gate: CommandGate | undefined;
  let trust: TrustList | undefined = loadTrust();
  const current = new Map<string, SettingValue>(); // the device's read-back values
  let pending: { counter: number; orderId: string; values: ReadonlyMap<string, SettingValue>; since: number } | undefined;
  let lastFrameAt: number | undefined;
  let silent = false;
  const lastValue = new Map<number, number>();
  const implausibleAt = new Map<number, number>();
  const cmdTimes: number[] = [];
  let floodReportedAt = -Infinity;
  const events: Publish[] = [];
  let nonce = ports.random(16);

  function readUint(key: string): number | undefined {
    const b = ports.store.get(key);
    if (b === undefined) return undefined;
    const r = decode(b);
    return r.ok && typeof r.value === 'number' ? r.value : undefined;
  }

  function loadTrust(): TrustList | undefined {
    const b = ports.store.get('trust');
    if (b === undefined) return undefined;
    const r = acceptTrustList(b, config.rootKey, undefined, ports.verify);
    return r.ok ? r.value : undefined;
  }

  const time = (now: number): { t: number; clock: Clock } =>
    clockOffset === undefined ? { t: Math.max(0, Math.round(now)), clock: 'boot' } : { t: Math.round(now + clockOffset), clock: 'utc' };

  function setConnState(out: GatewayEffect[], now: number): void {
    const next = transition(state, { type: 'changed', conditions: { broker, host, backlog: hasBacklog() } });
    if (next !== state) {
      if (next === 'recovering' || next === 'online') log.rewind();
      state = next;
      publishState(out, now); // mode changed: the host sees it in the retained birth
    }
  }

  function hasBacklog(): boolean {
    return log.stats().used > 0;
  }

  function pub(out: GatewayEffect[], p: Publish): void {
    if (!broker) return;
    stats.published++;
    out.push({ type: 'publish', ...p });
  }

  function statePayload(now: number): Uint8Array {
    const s = log.stats();
    const { t: tt, clock } = time(now);
    return encode(
      new Map<string, CborValue>([
        ['online', true],
        ['bdSeq', bdSeq],
        ['bootId', bootId],
        ['fw', config.firmware],
        ['device', serial === undefined ? null : new Map([['kind', driver!.kind], ['model', profile?.model ?? 'unknown'], ['serial', serial]])],
        ['nonce', nonce],
        ['mode', state === 'booting' || state === 'connecting' ? 'degraded' : state],
        ['fill', new Map([['used', s.used], ['capacity', s.capacity], ['dropped', s.dropped]])],
        ['t', tt],
        ['clock', clock],
      ]),
    );
  }

  function publishState(out: GatewayEffect[], now: number): void {
    pub(out, { topic: t('state'), payload: statePayload(now), qos: 1, retain: true });
  }

  function event(out: GatewayEffect[], now: number, cls: EventClass, code: string, priority: Priority, detail: Map<string, CborValue>): void {
    const { t: tt, clock } = time(now);
    const p: Publish = {
      topic: t('event'),
      payload: encode(new Map<string, CborValue>([['bootId', bootId], ['t', tt], ['clock', clock], ['class', cls], ['code', code], ['priority', priority], ['detail', detail]])),
      qos: 1,
      retain: false,
    };
    if (broker) pub(out, p);
    else if (events.length < EVENT_QUEUE) events.push(p);
    else stats.eventsDropped++; // counted, reported in the next heartbeat's fill
  }

  function connect(out: GatewayEffect[]): void {
    bdSeq++;
    ports.store.set('bdSeq', encode(bdSeq)); // Sparkplug B: bdSeq persisted and incremented per connection
    const will: Publish = { topic: t('state'), payload: encode(new Map<string, CborValue>([['online', false], ['bdSeq', bdSeq]])), qos: 1, retain: true };
    out.push({ type: 'mqtt-connect', clientId: `vigil-${config.site}-${config.gateway}`, will });
    reconnectAt = undefined;
  }

  function scheduleReconnect(now: number): void {
    reconnectAt = now + backoffMs(attempt++, ports.random(1)[0]! / 256);
  }

  // ---- vitals ----
  function flushBatch(out: GatewayEffect[], now: number): void {
    if (batcher === undefined || serial === undefined) return;
    const b = batcher.flush(time, serial);
    if (b === undefined) return;
    const live = state === 'online' || state === 'recovering';
    const body = encodeBatch(b);
    const r = log.append(body, live && broker);
    if (!r.ok) {
      event(out, now, 'technical', 'batch-too-large', 'medium', new Map<string, CborValue>([['bytes', body.length]]));
      return;
    }
    if (live && broker) pub(out, { topic: t('vitals'), payload: withIdentity(body, r.seq, undefined), qos: 1, retain: false });
  }

  /** The stored batch with its identity (and on history, the low-water mark) merged in. */
  function withIdentity(body: Uint8Array, seq: number, history: { bootId: Uint8Array; lowWater: readonly [Uint8Array, number] } | undefined): Uint8Array {
    const r = decode(body, { maxDepth: 6, maxLength: 4096 });
    const m = new Map<string, CborValue>(r.ok && r.value instanceof Map ? (r.value as Map<string, CborValue>) : []);
    m.set('bootId', history?.bootId ?? bootId);
    m.set('seq', seq);
    if (history !== undefined) {
      m.set('historical', true);
      m.set('lowWater', [history.lowWater[0], history.lowWater[1]]);
    }
    return encode(m);
  }

  function drain(out: GatewayEffect[], now: number): void {
    for (let i = 0; i < drainBatch; i++) {
      const rec = log.next();
      if (rec === undefined) {
        if (state === 'recovering' && log.stats().used === 0) setConnState(out, now);
        return;
      }
      const low = rec.lowWater ?? { bootId: rec.bootId, seq: rec.seq };
      let payload: Uint8Array;
      if (rec.kind === 'data') payload = withIdentity(rec.payload, rec.seq, { bootId: rec.bootId, lowWater: [low.bootId, low.seq] });
      else {
        const report = decode(rec.payload);
        payload = encode(new Map<string, CborValue>([['bootId', rec.bootId], ['seq', rec.seq], ['historical', true], ['lowWater', [low.bootId, low.seq]], ['dropped', report.ok ? report.value : null]]));
      }
      stats.historySent++;
      pub(out, { topic: t('history'), payload, qos: 1, retain: false });
    }
  }

  // ---- device ----
  function onDeviceMessage(out: GatewayEffect[], now: number, payload: Uint8Array): void {
    stats.deviceFrames++;
    lastFrameAt = now;
    if (silent) {
      silent = false;
      out.push({ type: 'alarm-output', on: false });
      event(out, now, 'technical', 'device-back', 'info', new Map());
    }
    const m = decodeMessage(payload);
    if (m === undefined) {
      stats.deviceAnomalies++;
      event(out, now, 'security', 'device-traffic-anomaly', 'low', new Map<string, CborValue>([['bytes', toHex(payload.subarray(0, 32))]]));
      return;
    }
    if (m.k === 'hello') {
      if (serial !== undefined && serial !== m.serial) {
        event(out, now, 'security', 'device-changed', 'high', new Map<string, CborValue>([['was', serial], ['now', m.serial]]));
      }
      serial = m.serial;
      driver = DRIVERS[m.kind];
      profile = config.profiles.get(m.model);
      batcher = createBatcher(driver.mdcs, driver.sampleMs, 3600);
      gate = profile === undefined ? undefined : createCommandGate({ gateway: config.gateway, serial, profile, verify: ports.verify }, { lastCounter: readUint('counter') ?? 0, nonce }, trust);
      if (profile === undefined) event(out, now, 'technical', 'unknown-device-model', 'medium', new Map<string, CborValue>([['model', m.model]]));
      publishState(out, now);
    } else if (m.k === 'obs' && driver !== undefined && batcher !== undefined) {
      const row = new Map<number, number | null>();
      let i = 0;
      for (const name of driver.observations.keys()) {
        const mdc = driver.mdcs[i++]!;
        const v = m.values.get(name);
        row.set(mdc, v ?? null);
        if (typeof v === 'number') {
          const bad = checkPlausible(mdc, v, lastValue.get(mdc));
          if (bad !== undefined && now - (implausibleAt.get(mdc) ?? -Infinity) > 60_000) {
            implausibleAt.set(mdc, now);
            event(out, now, 'security', 'implausible-value', 'low', new Map<string, CborValue>([['mdc', mdc], ['value', v], ['previous', bad.previous ?? null], ['why', bad.why]]));
          }
          lastValue.set(mdc, v);
        }
      }
      batcher.add(row, now);
    } else if (m.k === 'settings') {
      const before = new Map(current);
      for (const [k, v] of m.values) current.set(k, v);
      if (pending !== undefined && m.id === pending.counter) {
        const mismatch = [...pending.values].filter(([k, v]) => m.values.get(k) !== v).map(([k]) => k);
        resultPublish(out, now, pending.counter, pending.orderId, mismatch.length === 0 ? 'applied' : 'failed', mismatch.length === 0 ? undefined : `device read back other values for ${mismatch.join(', ')}`);
        pending = undefined;
      } else if (before.size > 0) {
        const changed = [...m.values].filter(([k, v]) => before.has(k) && before.get(k) !== v);
        if (changed.length > 0) {
          // legitimate (a nurse at the pump) but it must be visible and audited
          event(out, now, 'security', 'local-setting-change', 'medium', new Map<string, CborValue>(changed.map(([k, v]) => [k, [before.get(k)!, v]])));
        }
      }
    } else {
      stats.deviceAnomalies++;
      event(out, now, 'security', 'device-traffic-anomaly', 'low', new Map<string, CborValue>([['kind', m.k]]));
    }
  }

  function linkEffects(out: GatewayEffect[], now: number, effects: LinkEffect[]): void {
    for (const e of effects) {
      if (e.type === 'write') out.push({ type: 'serial-write', bytes: e.bytes });
      else if (e.type === 'deliver') onDeviceMessage(out, now, e.payload);
    }
  }

  function resultPublish(out: GatewayEffect[], now: number, counter: number | undefined, orderId: string | undefined, status: string, reason: string | undefined): void {
    const { t: tt, clock } = time(now);
    const m = new Map<string, CborValue>([['counter', counter ?? 0], ['orderId', orderId ?? ''], ['status', status], ['t', tt], ['clock', clock], ['nonce', nonce]]);
    if (reason !== undefined) m.set('reason', reason);
    pub(out, { topic: t('cmd/result'), payload: encode(m), qos: 1, retain: false });
  }

  // ---- commands, trust, acks, host ----
  function onCommand(out: GatewayEffect[], now: number, bytes: Uint8Array): void {
    stats.commands++;
    cmdTimes.push(now);
    while (cmdTimes.length > 0 && now - cmdTimes[0]! > 60_000) cmdTimes.shift();
    if (cmdTimes.length > FLOOD_PER_MINUTE && now - floodReportedAt > 60_000) {
      floodReportedAt = now;
      event(out, now, 'security', 'command-flood', 'high', new Map<string, CborValue>([['perMinute', cmdTimes.length]]));
    }
    if (gate === undefined) {
      resultPublish(out, now, undefined, undefined, 'rejected', 'wrong-device');
      event(out, now, 'security', 'cmd-rejected', 'medium', new Map<string, CborValue>([['reason', 'wrong-device'], ['detail', 'no device identified on the link yet']]));
      return;
    }
    const d = gate.submit({ bytes, nowUnix: clockOffset === undefined ? undefined : Math.floor((now + clockOffset) / 1000), nowMs: now, current, freshNonce: ports.random(16) });
    for (const e of d.effects) {
      if (e.type === 'persist-state') {
        ports.store.set('counter', encode(e.state.lastCounter)); // durable before the forward below
        nonce = e.state.nonce;
      } else if (e.type === 'forward') {
        pending = { counter: e.counter, orderId: e.orderId, values: e.settings, since: now };
        linkEffects(out, now, link.send(encodeMessage({ k: 'set', id: e.counter, values: e.settings }), now));
      } else if (e.type === 'result') {
        resultPublish(out, now, e.result.counter, e.result.orderId, e.result.status, e.result.reason);
      } else {
        event(out, now, 'security', 'cmd-rejected', 'medium', new Map<string, CborValue>([['reason', e.reason], ['detail', e.detail], ['signer', e.signer ?? null]]));
      }
    }
    if (d.accepted) publishState(out, now); // the new challenge nonce
  }

  function onMessage(out: GatewayEffect[], now: number, tp: string, payload: Uint8Array): void {
    if (tp === hostStateTopic(config.site)) {
      const r = decode(payload);
      host = r.ok && r.value instanceof Map ? r.value.get('online') === true : false;
      setConnState(out, now);
    } else if (tp === trustTopic(config.site)) {
      if (payload.length > TRUST_MAX_BYTES) {
        event(out, now, 'security', 'trust-rejected', 'high', new Map<string, CborValue>([['reason', 'too-large'], ['detail', `${payload.length} bytes; the store holds ${TRUST_MAX_BYTES}`]]));
        return;
      }
      const r = acceptTrustList(payload, config.rootKey, trust, ports.verify);
      if (r.ok) {
        if (trust === undefined || toHex(r.value.bytes) !== toHex(trust.bytes)) {
          ports.store.set('trust', payload);
          trust = r.value;
          gate?.setTrust(r.value);
        }
      } else {
        event(out, now, 'security', 'trust-rejected', 'high', new Map<string, CborValue>([['reason', r.error.type], ['detail', r.error.detail]]));
      }
    } else if (tp === t('cmd')) {
      onCommand(out, now, payload);
    } else if (tp === t('ack')) {
      const r = decode(payload);
      const m = r.ok && r.value instanceof Map ? r.value : undefined;
      const b = m?.get('bootId');
      const through = m?.get('through');
      if (b instanceof Uint8Array && b.length === 16 && typeof through === 'number' && Number.isSafeInteger(through) && through >= 0) {
        const before = log.stats().used;
        const r = log.ack(b, through);
        // an ack beyond what this boot appended is not the host's to give: clamped by the log, and reported
        if (!r.ok || r.clamped) event(out, now, 'security', 'ack-refused', 'medium', new Map<string, CborValue>([['through', through], ['detail', r.ok ? 'beyond the last record appended; clamped' : r.detail]]));
        if (log.stats().used !== before) lastAckProgress = now;
        if (state === 'recovering' && log.stats().used === 0) setConnState(out, now);
      }
    }
  }

  function onTick(out: GatewayEffect[], now: number): void {
    if (reconnectAt !== undefined && now >= reconnectAt && network && !broker) connect(out);
    linkEffects(out, now, link.tick(now));
    if (now >= batchAt) {
      flushBatch(out, now);
      batchAt = now + (state === 'online' || state === 'recovering' ? batchMs : outageBatchMs);
    }
    if (broker && (state === 'recovering' || state === 'online') && now >= drainAt) {
      drain(out, now);
      drainAt = now + drainEveryMs;
      if (log.stats().used > 0 && now - lastAckProgress > ACK_STALL_MS) {
        log.rewind(); // acks stopped: send the unacknowledged records again (the host drops duplicates)
        lastAckProgress = now;
      }
    }
    if (broker && now >= heartbeatAt) {
      publishState(out, now);
      heartbeatAt = now + heartbeatMs;
    }
    const silenceAfter = Math.max(SILENCE_MIN_MS, 3 * (driver?.sampleMs ?? 1000));
    if (!silent && lastFrameAt !== undefined && now - lastFrameAt > silenceAfter) {
      silent = true;
      out.push({ type: 'alarm-output', on: true });
      event(out, now, 'technical', 'device-silent', 'high', new Map<string, CborValue>([['silentMs', now - lastFrameAt]]));
    }
    if (pending !== undefined && now - pending.since > READBACK_TIMEOUT_MS) {
      resultPublish(out, now, pending.counter, pending.orderId, 'failed', 'device-no-readback');
      event(out, now, 'technical', 'device-no-readback', 'high', new Map<string, CborValue>([['counter', pending.counter]]));
      pending = undefined;
    }
  }

  function handle(ev: GatewayEvent, now: number): GatewayEffect[] {
    const out: GatewayEffect[] = [];
    switch (ev.type) {
      case 'boot':
        state = transition(state, { type: 'started' });
        batchAt = now + batchMs;
        break;
      case 'network':
        network = ev.up;
        if (network && !broker && reconnectAt === undefined) {
          if (attempt === 0) connect(out);
          else scheduleReconnect(now);
        }
        if (!network && broker) {
          broker = false;
          out.push({ type: 'mqtt-disconnect' });
          scheduleReconnect(now);
          setConnState(out, now);
        }
        break;
      case 'mqtt-connected': {
        broker = true;
        attempt = 0;
        out.push({ type: 'subscribe', topics: [t('cmd'), t('ack'), hostStateTopic(config.site), trustTopic(config.site)] });
        publishState(out, now);
        heartbeatAt = now + heartbeatMs;
        for (const p of events.splice(0)) pub(out, p);
        lastAckProgress = now;
        setConnState(out, now);
        break;
      }
      case 'mqtt-lost':
        broker = false;
        host = undefined;
        setConnState(out, now);
        if (network) scheduleReconnect(now);
        break;
      case 'message':
        onMessage(out, now, ev.topic, ev.payload);
        break;
      case 'device-bytes':
        linkEffects(out, now, link.receive(ev.bytes, now));
        break;
      case 'clock':
        clockOffset = ev.unixMs - now;
        break;
      case 'tick':
        onTick(out, now);
        break;
    }
    const wakes = [batchAt, link.wakeAt ?? Infinity, reconnectAt ?? Infinity, broker ? heartbeatAt : Infinity, broker && (state === 'recovering' || state === 'online') && log.stats().used > 0 ? drainAt : Infinity, lastFrameAt === undefined || silent ? Infinity : lastFrameAt + Math.max(SILENCE_MIN_MS, 3 * (driver?.sampleMs ?? 1000)) + 1, pending === undefined ? Infinity : pending.since + READBACK_TIMEOUT_MS];
    out.push({ type: 'wake', at: Math.max(now + 1, Math.min(...wakes)) });
    return out;
  }

  return {
    handle,
    get state() {
      return state;
    },
    bootId,
    log,
    stats,
  };
}
