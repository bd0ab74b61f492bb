/**
 * An hour (or more) in the life of a gateway, simulated end to end in pure TypeScript so that it runs
 * unchanged in Node and in XS: the gateway core, a simulated patient monitor on a faulty serial line,
 * emulated flash, a key-value store, and a stand-in broker and host that commit and ack. Scripted:
 * an outage of the broker, reconnect and drain, signed commands (one accepted, one replayed), a change
 * at the device, and a device that falls silent for a while.
 *
 * The outcome is a digest of every effect the core produced, in order, plus counts, so the two engines
 * can be compared exactly.
 */
import { encode } from '../../firmware/core/cbor/index.js';
import { parseProfile, signCommand, type DeviceProfile } from '../../firmware/core/command/index.js';
import { createGateway, type GatewayEffect, type KeyValueStore } from '../../firmware/core/gateway/index.js';
import { encodeAck, encodeHostState, hostStateTopic, parseCommandResult, parseEvent, parseHistory, parseState, parseTopic, parseVitals, topic, trustTopic } from '../../firmware/core/protocol/index.js';
import { crc32 } from '../../firmware/core/log/crc32.js';
import { toHex } from '../../firmware/core/hex.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { NorFlash } from '../../firmware/platform/node/nor-flash.js';
import monitorProfile from '../../firmware/profiles/generic-monitor-v1.json' with { type: 'json' };
import { createLine, mulberry32 } from '../../simulator/line.js';
import { createSimulatedDevice } from '../../simulator/devices/device.js';
import { keys, trustList } from './command-cases.js';

class PureStore implements KeyValueStore {
  readonly values = new Map<string, Uint8Array>();
  get(key: string) {
    return this.values.get(key)?.slice();
  }
  set(key: string, value: Uint8Array) {
    this.values.set(key, value.slice());
  }
}

export interface ScenarioReport {
  readonly simulatedMs: number;
  readonly effects: number;
  /** CRC-32 chained over every effect's type and bytes, in order. */
  readonly digest: string;
  readonly published: Record<string, number>;
  readonly committed: number;
  readonly highestSeq: number;
  readonly missing: number;
  readonly results: string[];
  readonly events: string[];
  readonly finalState: string;
  readonly logUsed: number;
  /** The device settings the gateway's last birth reported (JSON), or "null". */
  readonly settings: string;
}

export interface Scenario {
  /** Runs the simulation up to `ms` of simulated time. */
  advanceTo(ms: number): void;
  report(): ScenarioReport;
  readonly endMs: number;
  /** The gateway under test, to measure what it alone keeps on the heap. */
  readonly gateway: unknown;
}

export interface ScenarioOptions {
  /** The signed trust list; built here (with noble's signer) when absent. */
  readonly trustBytes?: Uint8Array;
  /** Whether the script sends signed commands (they are signed here, with noble). Default true. */
  readonly commands?: boolean;
}

export function runGatewayScenario(minutes: number, options: ScenarioOptions = {}): ScenarioReport {
  const s = createGatewayScenario(minutes, options);
  s.advanceTo(s.endMs);
  return s.report();
}

export function createGatewayScenario(minutes: number, options: ScenarioOptions = {}): Scenario {
  const profile = parseProfile(monitorProfile);
  if (!profile.ok) throw new Error('profile');
  const random = mulberry32(99);
  const ports = {
    flash: new NorFlash({ sectors: 32 }),
    store: new PureStore(),
    verify: ed25519Verify,
    random: (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256)),
  };
  const site = 'ward-7';
  const gwId = 'gw-bed-3';
  const gw = createGateway({ site, gateway: gwId, firmware: '0.1.0', rootKey: keys.root.publicKey, profiles: new Map<string, DeviceProfile>([['generic-monitor-v1', profile.value]]) }, ports);
  const device = createSimulatedDevice({ kind: 'monitor', serial: 'MON-0003', seed: 5 });
  const toDevice = createLine({ loss: 0.002, corrupt: 0.001, duplicate: 0 }, 7);
  const toGateway = createLine({ loss: 0.002, corrupt: 0.001, duplicate: 0 }, 8);

  let now = 0;
  let digest = 0;
  let effects = 0;
  let brokerUp = true;
  let connected = false;
  let subscribed: readonly string[] = [];
  const published: Record<string, number> = {};
  const committed = new Map<string, Set<number>>();
  const through = new Map<string, number>();
  const results: string[] = [];
  const events: string[] = [];
  let nonce: Uint8Array | undefined;
  let settings = 'null';
  const retained = new Map<string, Uint8Array>([[hostStateTopic(site), encodeHostState({ online: true, hostId: 'sim', t: 0 })], [trustTopic(site), options.trustBytes ?? trustList().bytes]]);
  const inbox: Array<{ topic: string; payload: Uint8Array }> = [];
  const toDev: Uint8Array[] = [];
  let wake = 0;

  function note(e: GatewayEffect): void {
    effects++;
    const bytes = 'payload' in e ? e.payload : 'bytes' in e ? e.bytes : encode(e.type === 'wake' ? e.at : e.type === 'alarm-output' ? e.on : e.type);
    digest = crc32(Uint8Array.of(...encode(e.type), ...bytes, digest & 0xff, (digest >>> 8) & 0xff, (digest >>> 16) & 0xff, digest >>> 24));
  }

  function host(name: string, payload: Uint8Array): void {
    const tp = parseTopic(name);
    if (tp === undefined || tp.kind !== 'gateway') return;
    const channel = tp.channel;
    published[channel] = (published[channel] ?? 0) + 1;
    if (channel === 'state') {
      const s = parseState(payload);
      if (s.ok && s.value.online) {
        nonce = s.value.nonce;
        settings = JSON.stringify(s.value.settings ?? null);
      }
      return;
    }
    if (channel === 'cmd/result') {
      const r = parseCommandResult(payload);
      if (r.ok) results.push(`${r.value.status}${r.value.reason ? `:${r.value.reason}` : ''}`);
      return;
    }
    if (channel === 'event') {
      const e = parseEvent(payload);
      if (e.ok) events.push(e.value.code);
      return;
    }
    if (channel !== 'vitals' && channel !== 'history') return;
    const rec = channel === 'vitals' ? parseVitals(payload) : parseHistory(payload);
    if (!rec.ok) throw new Error(`the stand-in host refused a ${channel} record: ${rec.error}`);
    const { bootId, seq } = rec.value;
    const boot = toHex(bootId);
    let set = committed.get(boot);
    if (set === undefined) committed.set(boot, (set = new Set()));
    set.add(seq);
    let t = through.get(boot) ?? -1;
    const low = 'lowWater' in rec.value ? rec.value.lowWater : undefined;
    const lowSeq = typeof low === 'number' ? low : 0; // a low-water mark of this same boot
    while (set.has(t + 1) || t + 1 < lowSeq) t++;
    through.set(boot, t);
    if (t >= 0) inbox.push({ topic: topic(site, gwId, 'ack'), payload: encodeAck({ bootId, through: t }) });
  }

  function run(list: GatewayEffect[]): void {
    for (const e of list) {
      note(e);
      if (e.type === 'mqtt-connect') {
        if (brokerUp) {
          connected = true;
          inbox.push({ topic: '$connected', payload: new Uint8Array(0) });
        } else inbox.push({ topic: '$failed', payload: new Uint8Array(0) });
      } else if (e.type === 'subscribe') {
        subscribed = e.topics;
        for (const [tp, p] of retained) if (subscribed.includes(tp)) inbox.push({ topic: tp, payload: p });
      } else if (e.type === 'publish' && connected) host(e.topic, e.payload);
      else if (e.type === 'serial-write') toDev.push(toDevice.pass(e.bytes));
      else if (e.type === 'wake') wake = e.at;
    }
  }

  function step(): void {
    // messages in flight to the gateway
    while (inbox.length > 0) {
      const m = inbox.shift()!;
      if (m.topic === '$connected') run(gw.handle({ type: 'mqtt-connected' }, now));
      else if (m.topic === '$failed') run(gw.handle({ type: 'mqtt-lost' }, now));
      else if (connected) run(gw.handle({ type: 'message', topic: m.topic, payload: m.payload }, now));
    }
    while (toDev.length > 0) for (const b of device.receive(toDev.shift()!, now)) run(gw.handle({ type: 'device-bytes', bytes: toGateway.pass(b) }, now));
  }

  run(gw.handle({ type: 'boot' }, now));
  run(gw.handle({ type: 'clock', unixMs: 1_790_000_000_000 }, now));
  run(gw.handle({ type: 'network', up: true }, now));
  for (const b of device.start(now)) run(gw.handle({ type: 'device-bytes', bytes: toGateway.pass(b) }, now));

  const end = minutes * 60_000;
  const at = (min: number) => min * 60_000;
  let commandSent = false;
  let replaySent = false;
  let signed: Uint8Array | undefined;
  function advanceTo(limit: number): void {
  while (now < Math.min(end, limit)) {
    step();
    const next = Math.min(wake, device.wakeAt, now + 1000);
    now = Math.max(now + 1, next);
    for (const b of device.tick(now)) run(gw.handle({ type: 'device-bytes', bytes: toGateway.pass(b) }, now));
    if (now >= wake) run(gw.handle({ type: 'tick' }, now));
    // the script
    if (brokerUp && now >= at(minutes * 0.2) && now < at(minutes * 0.45)) {
      brokerUp = false;
      connected = false;
      run(gw.handle({ type: 'mqtt-lost' }, now));
    }
    if (!brokerUp && now >= at(minutes * 0.45)) brokerUp = true;
    if (options.commands !== false && !commandSent && connected && nonce !== undefined && now >= at(minutes * 0.6)) {
      commandSent = true;
      signed = signCommand({ gateway: gwId, serial: 'MON-0003', counter: 1, iat: 1_790_000_000 + Math.floor(now / 1000), exp: 1_790_000_000 + Math.floor(now / 1000) + 300, nonce, epoch: 3, op: 'set', params: new Map([['hrHigh', { value: 130, unit: '/min' }]]), orderId: 'ORD-1', clinician: 'nurse.ada' }, keys.nurse);
      inbox.push({ topic: topic(site, gwId, 'cmd'), payload: signed });
    }
    if (!replaySent && signed !== undefined && now >= at(minutes * 0.65)) {
      replaySent = true;
      inbox.push({ topic: topic(site, gwId, 'cmd'), payload: signed });
    }
    if (now >= at(minutes * 0.7) && now < at(minutes * 0.7) + 1000) for (const b of device.localChange('spo2Low', 88, now)) run(gw.handle({ type: 'device-bytes', bytes: toGateway.pass(b) }, now));
    device.silent = now >= at(minutes * 0.8) && now < at(minutes * 0.8) + 20_000;
  }
  step();
  }

  function report(): ScenarioReport {
  const boot = toHex(gw.bootId);
  const set = committed.get(boot) ?? new Set<number>();
  const highest = set.size === 0 ? -1 : Math.max(...set);
  let missing = 0;
  for (let s = 0; s <= highest; s++) if (!set.has(s)) missing++;
  return { simulatedMs: now, effects, digest: digest.toString(16), published, committed: set.size, highestSeq: highest, missing, results, events: [...new Set(events)].sort(), finalState: gw.mode, logUsed: gw.log.stats().used, settings };
  }

  return { advanceTo, report, endMs: end, gateway: gw };
}
