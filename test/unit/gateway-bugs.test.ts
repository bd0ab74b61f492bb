/**
 * Issue 11: the gateway bugs seen from outside, each with the default settings users get.
 *  - live vitals after an outage (or a boot spent offline) wait for the 60 s outage batch;
 *  - a device value out of any plausible range (1e20) throws out of handle();
 *  - the birth goes out twice at each connect;
 *  - 1-second batches cost over half of naive JSON on the wire.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../firmware/core/device/messages.js';
import { encodeAck, encodeHostState, hostStateTopic, parseVitals } from '../../firmware/core/protocol/index.js';
import { decodeBatch } from '../../firmware/core/vitals/index.js';
import { rig, type Published } from '../support/gateway-rig.js';

const hello = encodeMessage({ k: 'hello', kind: 'monitor', model: 'generic-monitor-v1', serial: 'MON-0001' });
const MONITOR = ['HR', 'SPO2', 'RESP', 'NBP_SYS', 'NBP_DIA', 'NBP_MEAN', 'ETCO2', 'TEMP'];
const obs = (values: Record<string, number | null>) => encodeMessage({ k: 'obs', values: new Map(Object.entries(values)) });
const normal = () => obs({ HR: 80, SPO2: 97, RESP: 16, NBP_SYS: 120, NBP_DIA: 80, NBP_MEAN: 93, ETCO2: 38, TEMP: 36.8 });
const hostOnline = encodeHostState({ online: true, hostId: 'h', t: 1 });

function comeOnline(r: ReturnType<typeof rig>): void {
  r.feed(r.gw.handle({ type: 'mqtt-connected' }, r.at()), r.gw.handle({ type: 'message', topic: hostStateTopic('w'), payload: hostOnline }, r.at()));
}

/** Runs the device at 1 Hz from the rig's time until `until`. */
function deviceRuns(r: ReturnType<typeof rig>, until: number, message = normal): void {
  for (let t = r.at() + 1000; t <= until; t += 1000) {
    r.run(t);
    r.fromDevice(message());
  }
}

describe('gateway bugs (issue 11), default settings', () => {
  it('after an outage, the first live batch goes out within one live batch interval (5 s) of coming online', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0));
    r.fromDevice(hello);
    deviceRuns(r, 70_000); // seventy seconds without a broker
    comeOnline(r);
    const onlineAt = r.at();
    deviceRuns(r, onlineAt + 70_000);
    const first = r.publishedAt('vitals')[0];
    expect(first, 'no live batch at all').toBeDefined();
    expect(first! - onlineAt).toBeLessThanOrEqual(5000 + 1000);
  });

  it('after a boot spent offline, the first live batch goes out within 5 s of coming online', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0));
    r.fromDevice(hello);
    deviceRuns(r, 7000); // the first (offline) batch is cut at 5 s
    comeOnline(r);
    const onlineAt = r.at();
    deviceRuns(r, onlineAt + 70_000);
    expect(r.publishedAt('vitals')[0]! - onlineAt).toBeLessThanOrEqual(6000);
  });

  it('a heart rate of 1e20 is an implausible-value event and a missing sample, never an exception', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0));
    comeOnline(r);
    r.fromDevice(hello);
    deviceRuns(r, 3000);
    expect(() => {
      r.fromDevice(obs({ HR: 1e20, SPO2: 97, RESP: 16, NBP_SYS: 120, NBP_DIA: 80, NBP_MEAN: 93, ETCO2: 38, TEMP: 36.8 }));
      deviceRuns(r, 20_000);
    }).not.toThrow();
    expect(r.events()).toContain('implausible-value');
    // the sample is missing in its batch; the rest of the batch is there
    const batches = r.published('vitals').map((p) => {
      const env = parseVitals(p.payload);
      if (!env.ok) throw new Error(env.error);
      const b = decodeBatch(env.value.body);
      if (!b.ok) throw new Error(b.error.detail);
      return b.value;
    });
    const hr = batches.flatMap((b) => b.columns.filter((c) => c.mdc === 147842).flatMap((c) => c.values));
    expect(hr).toContain(null);
    expect(hr.filter((v) => v !== null).every((v) => v === 80)).toBe(true);
  });

  it('random device messages never make handle() throw', () => {
    const value = fc.oneof(fc.double(), fc.integer(), fc.constant(null), fc.constantFrom(1e20, -1e20, 1e308, -0, 5e-324, 2 ** 53, -(2 ** 60)));
    const message = fc.oneof(
      fc.dictionary(fc.constantFrom(...MONITOR, 'X', ''), value).map((v) => obs(v)),
      fc.uint8Array({ maxLength: 40 }),
      fc.constant(hello),
      fc.dictionary(fc.constantFrom('RATE', 'mode', 'x'), fc.oneof(fc.double(), fc.string())).map((v) => encodeMessage({ k: 'settings', id: undefined, values: new Map(Object.entries(v)) })),
    );
    fc.assert(
      fc.property(fc.array(message, { maxLength: 30 }), (messages) => {
        const r = rig();
        r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0));
        comeOnline(r);
        r.fromDevice(hello);
        for (const m of messages) {
          r.fromDevice(m);
          r.run(r.at() + 700);
        }
        r.run(r.at() + 70_000);
      }),
      { seed: 0x11b, numRuns: 150 },
    );
  });

  it('publishes the birth once at each connect', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0));
    r.fromDevice(hello);
    const before = r.published('state').length;
    r.feed(r.gw.handle({ type: 'mqtt-connected' }, r.at()));
    expect(r.published('state').length - before).toBe(1);
    r.feed(r.gw.handle({ type: 'mqtt-lost' }, r.at()));
    r.run(r.at() + 90_000);
    const again = r.published('state').length;
    r.feed(r.gw.handle({ type: 'mqtt-connected' }, r.at()));
    expect(r.published('state').length - again).toBe(1);
  });

  it('a 1-second monitor batch costs at most 25 % of naive JSON on the wire, identity included', () => {
    const r = rig({ batchMs: 1000 });
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0));
    comeOnline(r);
    r.fromDevice(hello);
    deviceRuns(r, 30_000);
    const sizes = r.published('vitals').slice(5).map((p: Published) => p.payload.length);
    expect(sizes.length).toBeGreaterThan(10);
    // the same samples as naive JSON: one object per sample, with the record's identity
    const samples = MONITOR.map((_, i) => ({ t: 1_767_225_600_000 + i, mdc: 150000 + i, unit: 'mm[Hg]', value: 120 }));
    const json = JSON.stringify({ bootId: '00'.repeat(16), seq: 123_456, samples }).length;
    const worst = Math.max(...sizes);
    expect(worst / json, `${worst} bytes on the wire against ${json} of JSON`).toBeLessThanOrEqual(0.25);
  });
});

describe('gateway bugs found by the ward simulator (issue 14)', () => {
  it('a device that says hello again (another device swapped in, or the same one re-announcing) loses none of the samples already taken', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0));
    comeOnline(r);
    r.fromDevice(hello);
    deviceRuns(r, 3000); // three samples in the batch being filled
    r.fromDevice(encodeMessage({ k: 'hello', kind: 'monitor', model: 'generic-monitor-v1', serial: 'MON-0002' }));
    deviceRuns(r, 12_000);
    r.run(20_000);
    const rows = r
      .published('vitals')
      .map((p) => parseVitals(p.payload))
      .map((v) => (v.ok ? decodeBatch(v.value.body) : undefined))
      .map((b) => (b?.ok ? { serial: b.value.serial, n: b.value.columns[0]!.values.length } : undefined));
    expect(rows.filter((x) => x?.serial === 'MON-0001').reduce((a, x) => a + x!.n, 0), 'samples of the first device').toBe(3);
    expect(rows.reduce((a, x) => a + (x?.n ?? 0), 0), 'every sample taken').toBe(12);
    expect(r.gw.stats.samplesTaken).toBe(r.gw.stats.samplesLogged);
  });
});

describe('events lost with a dead link (found by the drill scenario, issue 14)', () => {
  const localChange = (rate: number) => encodeMessage({ k: 'settings', id: undefined, values: new Map([['hrHigh', rate]]) });
  const codes = (r: ReturnType<typeof rig>) => r.events();

  it('an event published into a link that then died is sent again on the next connection, until a later record is acked', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0));
    comeOnline(r);
    r.fromDevice(hello);
    r.fromDevice(localChange(120));
    deviceRuns(r, 3000);
    r.fromDevice(localChange(130)); // a change at the device: a security event, published at once
    expect(codes(r).filter((c) => c === 'local-setting-change')).toHaveLength(1);
    // the link was dead (a switch gone silent): the event never arrived; the connection is found lost
    r.feed(r.gw.handle({ type: 'mqtt-lost' }, r.at()));
    deviceRuns(r, 20_000);
    comeOnline(r);
    deviceRuns(r, 30_000);
    expect(codes(r).filter((c) => c === 'local-setting-change'), 'sent again on the new connection').toHaveLength(2);
    // the host commits the new connection's records: the event is known to have arrived; no more resends
    const lastSeq = Math.max(...r.published('vitals').map((p) => (parseVitals(p.payload) as { ok: true; value: { seq: number } }).value.seq));
    r.feed(r.gw.handle({ type: 'message', topic: 'vigil/v1/w/g/ack', payload: encodeAck({ bootId: r.gw.bootId, through: lastSeq }) }, r.at()));
    r.feed(r.gw.handle({ type: 'mqtt-lost' }, r.at()));
    deviceRuns(r, 50_000);
    comeOnline(r);
    deviceRuns(r, 60_000);
    expect(codes(r).filter((c) => c === 'local-setting-change')).toHaveLength(2);
  });
});
