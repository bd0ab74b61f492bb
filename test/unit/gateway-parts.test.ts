/**
 * The gateway's parts, each driven alone with its dependencies faked (gateway.ts only routes events to
 * them): the command path, the vitals pipeline and the session. What the whole gateway does with them
 * is in gateway-core.test.ts and the scenario suites.
 */
import { describe, expect, it } from 'vitest';
import { decode } from '../../firmware/core/cbor/index.js';
import { DRIVERS } from '../../firmware/core/device/drivers.js';
import { DEVICE_FIRMWARE_MAX, decodeMessage, encodeMessage } from '../../firmware/core/device/messages.js';
import { signCommand } from '../../firmware/core/command/index.js';
import { createCommandPath } from '../../firmware/core/gateway/commands.js';
import { createEventChannel, createTimeSource, type GatewayEffect, type GatewayStats, type Publish } from '../../firmware/core/gateway/effects.js';
import { createSessionPart } from '../../firmware/core/gateway/session.js';
import { createVitalsPipeline } from '../../firmware/core/gateway/vitals.js';
import { openLog } from '../../firmware/core/log/index.js';
import { CHANNEL_MAX_BYTES, encodeAck, gatewaySubscriptions, parseCommandResult, parseEvent, parseHistory, parseState, parseVitals, topic } from '../../firmware/core/protocol/index.js';
import { decodeBatch } from '../../firmware/core/vitals/index.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { NorFlash } from '../../firmware/platform/node/nor-flash.js';
import { MemoryStore } from '../../firmware/platform/node/store.js';
import { claims, GATEWAY, keys, NOW, profile, SERIAL, trustList } from '../portable/command-cases.js';

const SITE = 'ward-7';
const stats = (): GatewayStats => ({ published: 0, historySent: 0, eventsDropped: 0, deviceFrames: 0, deviceAnomalies: 0, commands: 0, samplesTaken: 0, samplesLogged: 0 });
const counting = (start: number) => {
  let k = start;
  return (n: number) => Uint8Array.from({ length: n }, () => k++ & 0xff);
};
const published = (out: GatewayEffect[]) => out.filter((e): e is GatewayEffect & Publish & { type: 'publish' } => e.type === 'publish');

describe('the command path alone', () => {
  function rig() {
    const store = new MemoryStore();
    store.set('trust', trustList().bytes);
    const time = createTimeSource();
    time.set(NOW * 1000, 0);
    const forwarded: Array<{ counter: number; storedCounter: unknown }> = [];
    const s = stats();
    const path = createCommandPath({
      gateway: GATEWAY,
      rootKey: keys.root.publicKey,
      store,
      verify: ed25519Verify,
      random: counting(1),
      resultTopic: topic(SITE, GATEWAY, 'cmd/result'),
      time,
      stats: s,
      events: createEventChannel({ topic: topic(SITE, GATEWAY, 'event'), bootId: new Uint8Array(16), time, stats: s, connected: () => true, nextSeq: () => 0 }),
      publish: (out, p) => (out.push({ type: 'publish', ...p }), true),
      forward: (_out, _now, counter) => {
        const b = store.get('counter');
        forwarded.push({ counter, storedCounter: b === undefined ? undefined : (decode(b) as { value: unknown }).value });
      },
    });
    return { path, store, forwarded };
  }
  const results = (out: GatewayEffect[]) => published(out).filter((p) => p.topic.endsWith('/cmd/result')).map((p) => parseCommandResult(p.payload));
  const events = (out: GatewayEffect[]) => published(out).filter((p) => p.topic.endsWith('/event')).map((p) => parseEvent(p.payload));

  it('refuses a command before a device is identified; forwards an accepted one only after its counter is stored; reports the read-back', () => {
    const { path, forwarded } = rig();
    let out: GatewayEffect[] = [];
    expect(path.command(out, 0, signCommand(claims({ nonce: path.nonce }), keys.nurse))).toBe(false);
    expect(results(out)).toMatchObject([{ ok: true, value: { status: 'rejected', reason: 'wrong-device' } }]);
    expect(forwarded).toEqual([]);

    path.device(SERIAL, profile());
    out = [];
    const unknown = signCommand(claims({ nonce: path.nonce }), keys.nurse);
    expect(path.command(out, 1000, unknown)).toBe(false); // the device has not said what it is set to
    expect(results(out)).toMatchObject([{ ok: true, value: { status: 'rejected', reason: 'current-unknown' } }]);
    path.settings(out, 1000, undefined, new Map([['rate', 50]]));
    out = [];
    expect(path.command(out, 1000, signCommand(claims({ nonce: path.nonce, counter: 7 }), keys.nurse))).toBe(true);
    expect(forwarded).toEqual([{ counter: 7, storedCounter: 7 }]); // durable before the forward
    expect(results(out)).toMatchObject([{ ok: true, value: { status: 'accepted', counter: 7, orderId: 'ORD-1001' } }]);

    out = [];
    path.settings(out, 2000, 7, new Map([['rate', 60]]));
    expect(results(out)).toMatchObject([{ ok: true, value: { status: 'applied', counter: 7 } }]);
    expect(path.wakeAt()).toBe(Infinity);
  });

  it('fails a command the device never reads back, reports a change made at the device, and one flood a minute', () => {
    const { path } = rig();
    path.device(SERIAL, profile());
    let out: GatewayEffect[] = [];
    path.settings(out, 0, undefined, new Map([['rate', 50]])); // what the device has at first: no event
    expect(events(out)).toEqual([]);
    expect(path.command(out, 0, signCommand(claims({ nonce: path.nonce }), keys.nurse))).toBe(true);
    out = [];
    path.tick(out, path.wakeAt() + 1);
    expect(results(out)).toMatchObject([{ ok: true, value: { status: 'failed', reason: 'device-no-readback' } }]);
    expect(events(out)).toMatchObject([{ ok: true, value: { code: 'device-no-readback' } }]);

    out = [];
    path.settings(out, 20_000, undefined, new Map([['rate', 75]]));
    expect(events(out)).toMatchObject([{ ok: true, value: { code: 'local-setting-change' } }]);

    out = [];
    for (let i = 0; i < 30; i++) path.command(out, 30_000 + i * 100, new Uint8Array([0x80]));
    expect(events(out).filter((e) => e.ok && e.value.code === 'command-flood')).toHaveLength(1);
  });
});

describe('the vitals pipeline alone', () => {
  function rig(connected: { on: boolean }) {
    const log = openLog(new NorFlash({ sectors: 8 }), new Uint8Array(16).fill(7));
    const time = createTimeSource();
    const s = stats();
    const pipeline = createVitalsPipeline({
      log,
      options: { batchMs: 5000, outageBatchMs: 60_000, drainEveryMs: 50, drainBatch: 8 },
      topics: { vitals: topic(SITE, GATEWAY, 'vitals'), history: topic(SITE, GATEWAY, 'history') },
      time,
      stats: s,
      events: createEventChannel({ topic: topic(SITE, GATEWAY, 'event'), bootId: log.bootId, time, stats: s, connected: () => connected.on, nextSeq: () => log.nextSeq }),
      publish: (out, p) => connected.on && (out.push({ type: 'publish', ...p }), true),
    });
    pipeline.device([], 0, connected.on, 'MON-1', [147842], 1000);
    pipeline.start(0);
    return { log, pipeline };
  }

  it('publishes a live batch of stored bytes and frees it on the ack', () => {
    const { log, pipeline } = rig({ on: true });
    const out: GatewayEffect[] = [];
    for (let t = 0; t < 5000; t += 1000) pipeline.add(new Map([[147842, 70 + t / 1000]]), t);
    pipeline.tick(out, 5000, true);
    const [p] = published(out);
    const rec = parseVitals(p!.payload);
    if (!rec.ok) throw new Error(rec.error);
    expect(decodeBatch(rec.value.body)).toMatchObject({ ok: true, value: { serial: 'MON-1', columns: [{ mdc: 147842, values: [70, 71, 72, 73, 74] }] } });
    expect(log.stats().used).toBeGreaterThan(0);
    pipeline.ack([], 5100, encodeAck({ bootId: log.bootId, through: rec.value.seq }));
    expect(log.stats().used).toBe(0);
  });

  it('records 60 s batches while it cannot publish, and sends them as history once live, the collected batch at once', () => {
    const connected = { on: false };
    const { pipeline } = rig(connected);
    const out: GatewayEffect[] = [];
    for (let t = 0; t < 130_000; t += 1000) {
      pipeline.add(new Map([[147842, 60]]), t);
      if (t >= pipeline.wakeAt(false)) pipeline.tick(out, t, false);
    }
    expect(published(out)).toEqual([]);
    expect(pipeline.hasBacklog()).toBe(true);
    connected.on = true;
    pipeline.goLive(out, 130_000);
    pipeline.tick(out, 130_000, true);
    const sent = published(out);
    expect(sent.filter((p) => p.topic.endsWith('/vitals'))).toHaveLength(1); // the batch being collected, now
    const history = sent.filter((p) => p.topic.endsWith('/history')).map((p) => parseHistory(p.payload));
    expect(history.length).toBeGreaterThanOrEqual(2);
    for (const h of history) expect(h.ok).toBe(true);
  });
});

describe('the session alone', () => {
  it("reports the device's settings in the birth, and a device reporting too many or too long ones (with the longest model, serial and firmware a hello may carry) never pushes it past the state channel's bound", () => {
    const flash = new NorFlash({ sectors: 4 });
    const log = openLog(flash, new Uint8Array(16).fill(1));
    const hostile = new Map<string, number | string>([['rate', 120.5], ['mode', 'VC-AC'], ['x'.repeat(200), 1], ['long', 'y'.repeat(500)], ['nan', Number.NaN], ['', 3]]);
    for (let i = 0; i < 40; i++) hostile.set(`setting-number-${String(i).padStart(5, '0')}`, i * 1e300);
    const part = createSessionPart({
      config: { site: SITE, gateway: GATEWAY, firmware: '1.2.3', rootKey: keys.root.publicKey, profiles: new Map() },
      ports: { flash, store: new MemoryStore(), verify: ed25519Verify, random: counting(9) },
      bootId: log.bootId,
      log,
      time: createTimeSource(),
      stats: stats(),
      // the longest identity a hello gets through: model and serial at the decoder's 64, firmware at 24
      device: () => ({ serial: 's'.repeat(64), model: 'm'.repeat(64), firmware: 'f'.repeat(DEVICE_FIRMWARE_MAX), profile: undefined, driver: DRIVERS.pump }),
      nonce: () => new Uint8Array(16),
      settings: () => hostile,
      onLive: () => undefined,
    });
    const out: GatewayEffect[] = [];
    part.apply(out, 0, { type: 'started' });
    part.apply(out, 0, { type: 'network', up: true });
    part.apply(out, 10, { type: 'connected' });
    part.opened(out, 10);
    part.apply(out, 10, { type: 'host', online: true });
    part.flushBirth(out, 10);
    const birth = published(out).find((p) => p.topic === topic(SITE, GATEWAY, 'state'))!;
    expect(birth.payload.length).toBeLessThanOrEqual(CHANNEL_MAX_BYTES.state);
    const s = parseState(birth.payload);
    if (!s.ok || !s.value.online) throw new Error(`the birth does not parse: ${s.ok ? 'death' : s.error}`);
    expect(Object.keys(s.value.settings ?? {})).toHaveLength(16);
    expect(s.value.settings).toMatchObject({ rate: 120.5, mode: 'VC-AC' });
    expect(Object.keys(s.value.settings ?? {}).every((k) => k.length <= 24)).toBe(true);
    expect(s.value.device).toEqual({ kind: 'pump', model: 'm'.repeat(64), serial: 's'.repeat(64), firmware: 'f'.repeat(24) });
  });

  it("takes the device's own firmware version from its hello only when it is printable and at most 24 characters", () => {
    const hello = (fw: string) => decodeMessage(encodeMessage({ k: 'hello', kind: 'pump', model: 'bd-alaris-8015', serial: 'P-1', firmware: fw }));
    expect(hello('9.19.2')).toMatchObject({ k: 'hello', firmware: '9.19.2' });
    expect(hello('x'.repeat(24))).toMatchObject({ firmware: 'x'.repeat(24) });
    for (const bad of ['x'.repeat(25), '', '9.1\n', '9.1\u0000', 'versión']) expect(hello(bad), JSON.stringify(bad)).toBeUndefined();
    expect(decodeMessage(encodeMessage({ k: 'hello', kind: 'pump', model: 'generic-pump-v1', serial: 'P-1' }))).toEqual({ k: 'hello', kind: 'pump', model: 'generic-pump-v1', serial: 'P-1' });
  });

  it('connects with a persisted bdSeq and its will, subscribes, and publishes one birth per change', () => {
    const store = new MemoryStore();
    const flash = new NorFlash({ sectors: 4 });
    const log = openLog(flash, new Uint8Array(16).fill(1));
    let live = 0;
    const part = createSessionPart({
      config: { site: SITE, gateway: GATEWAY, firmware: '1.2.3', rootKey: keys.root.publicKey, profiles: new Map() },
      ports: { flash, store, verify: ed25519Verify, random: counting(9) },
      bootId: log.bootId,
      log,
      time: createTimeSource(),
      stats: stats(),
      device: () => undefined,
      nonce: () => new Uint8Array(16),
      settings: () => new Map(),
      onLive: () => live++,
    });
    const out: GatewayEffect[] = [];
    part.apply(out, 0, { type: 'started' });
    part.apply(out, 0, { type: 'network', up: true });
    const connect = out.find((e) => e.type === 'mqtt-connect');
    if (connect?.type !== 'mqtt-connect') throw new Error('no connect');
    expect(parseState(connect.will.payload)).toEqual({ ok: true, value: { online: false, bdSeq: 1 } });
    expect(decode(store.get('bdSeq')!)).toEqual({ ok: true, value: 1 });

    out.length = 0;
    part.apply(out, 10, { type: 'connected' });
    part.opened(out, 10);
    part.apply(out, 10, { type: 'host', online: true });
    expect(live).toBe(1);
    part.flushBirth(out, 10);
    part.flushBirth(out, 11);
    expect(out.filter((e) => e.type === 'subscribe')).toEqual([{ type: 'subscribe', topics: gatewaySubscriptions(SITE, GATEWAY) }]);
    const births = published(out).filter((p) => p.topic === topic(SITE, GATEWAY, 'state'));
    expect(births).toHaveLength(1);
    expect(births[0]!.retain).toBe(true);
    expect(parseState(births[0]!.payload)).toMatchObject({ ok: true, value: { online: true, bdSeq: 1, mode: 'online', firmware: '1.2.3' } });

    out.length = 0;
    part.tick(30_010); // the heartbeat
    part.flushBirth(out, 30_010);
    expect(published(out)).toHaveLength(1);
  });
});
