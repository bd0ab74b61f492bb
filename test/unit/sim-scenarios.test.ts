/**
 * Issue 14: the simulator's scenario files (the built-in ones, and the errors a bad file gets), the
 * ward's mix, and the simulated devices' physiology (deterministic, plausible to the gateway's own
 * checks, with their alarms on the device link).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type DeviceMessage } from '../../firmware/core/device/messages.js';
import { DRIVERS } from '../../firmware/core/device/drivers.js';
import { checkPlausible } from '../../firmware/core/gateway/plausibility.js';
import { metricByKey } from '../../firmware/core/vitals/metrics.js';
import { createSimulatedDevice } from '../../simulator/devices/device.js';
import { bedsOf, builtInScenarios, checkSpeed, loadScenario, parseScenario, ScenarioError, wardKinds } from '../../simulator/fleet/scenario.js';

describe('scenario files', () => {
  it('the built-in scenarios load: ward, outage, power, attack, soak, drill', () => {
    expect(builtInScenarios()).toEqual(['attack', 'drill', 'outage', 'power', 'scale', 'soak', 'ward']);
    for (const name of builtInScenarios()) {
      const s = loadScenario(name);
      expect(s.name).toBe(name);
      expect(() => checkSpeed(s, s.speed)).not.toThrow();
    }
    const outage = loadScenario('outage');
    expect(outage).toMatchObject({ gateways: 12, speed: 240, duration: 9.5 * 3600 });
    expect(outage.timeline.map((x) => ('fault' in x ? x.fault : '?'))).toEqual(['partition', 'partition', 'host-kill']);
    expect(loadScenario('attack').timeline.filter((x) => 'attack' in x)).toHaveLength(17);
  });

  it.each([
    [{ name: 'x', duration: '1h', bogus: 1 }, /x\.bogus: unknown field/],
    [{ name: 'Bad Name', duration: 60 }, /\.name: expected a short lower-case name/],
    [{ name: 'x' }, /x\.duration: expected a duration/],
    [{ name: 'x', duration: '5 parsecs' }, /x\.duration: expected a duration/],
    [{ name: 'x', duration: 60, gateways: 0 }, /x\.gateways: expected a whole number from 1 to 5000, got 0/],
    [{ name: 'x', duration: 60, speed: 1000 }, /x\.speed: expected scenario seconds per real second, from 1 to 600/],
    [{ name: 'x', duration: 60, mix: { monitor: 0 } }, /x\.mix: at least one device kind/],
    [{ name: 'x', duration: 60, mix: { toaster: 1 } }, /x\.mix\.toaster: unknown field/],
    [{ name: 'x', duration: 60, serial: { loss: 2 } }, /x\.serial\.loss: expected a probability/],
    [{ name: 'x', duration: 60, timeline: {} }, /x\.timeline: expected a list/],
    [{ name: 'x', duration: 60, timeline: [{ at: 10 }] }, /x\.timeline\[0\]: a step has exactly one of fault, attack, command or mark \(it has none\)/],
    [{ name: 'x', duration: 60, timeline: [{ at: 10, fault: 'meteor' }] }, /x\.timeline\[0\]\.fault: unknown fault "meteor"/],
    [{ name: 'x', duration: 60, timeline: [{ at: 90, fault: 'broker-restart' }] }, /x\.timeline\[0\]\.at: 90 s is after the scenario ends \(60 s\)/],
    [{ name: 'x', duration: 60, gateways: 4, timeline: [{ at: 10, fault: 'partition', beds: [5], for: 5 }] }, /x\.timeline\[0\]\.beds\[0\]: expected a whole number from 1 to 4, got 5/],
    [{ name: 'x', duration: 60, timeline: [{ at: 10, fault: 'power-cut', outcome: 'explode' }] }, /x\.timeline\[0\]\.outcome: expected one of not-done, done, half, torn, torn-suffix/],
    [{ name: 'x', duration: 60, timeline: [{ at: 10, attack: 'tickle' }] }, /x\.timeline\[0\]\.attack: unknown attack "tickle" \(known: forged-signature/],
    [{ name: 'x', duration: 60, timeline: [{ at: 10, fault: 'partition', beds: '0%', for: 5 }] }, /beds: a share of the ward is from 1% to 100%/],
    [{ name: 'x', duration: 60, timeline: [{ at: 10, command: { bed: 1, setting: 'rate', value: 'fast' } }] }, /command\.value: expected a number, got "fast"/],
    ['not an object', /x: expected an object/],
  ])('a bad scenario is a clear error: %j', (value, message) => {
    expect(() => parseScenario(value, 'x')).toThrow(ScenarioError);
    expect(() => parseScenario(value, 'x')).toThrow(message);
  });

  it('reads YAML and JSON files, and says which file is broken and how', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-scenario-'));
    writeFileSync(join(dir, 'a.yaml'), 'name: a\nduration: 2m\ntimeline:\n  - { at: 30s, fault: partition, beds: "50%", for: 1m, silent: true }\n');
    expect(loadScenario(join(dir, 'a.yaml')).timeline[0]).toEqual({ at: 30, fault: 'partition', beds: { share: 0.5 }, for: 60, silent: true });
    writeFileSync(join(dir, 'b.json'), '{"name": "b", "duration": ');
    expect(() => loadScenario(join(dir, 'b.json'))).toThrow(/b\.json: not valid JSON/);
    writeFileSync(join(dir, 'c.yaml'), 'name: c\nduration: [unclosed\n');
    expect(() => loadScenario(join(dir, 'c.yaml'))).toThrow(/c\.yaml: not valid YAML/);
    expect(() => loadScenario(join(dir, 'missing.yaml'))).toThrow(/no scenario .*not a built-in one \(attack, drill, outage, power, scale, soak, ward\)/);
  });

  it('commands and attacks need real time: a compressed scenario with them is refused', () => {
    const s = parseScenario({ name: 'x', duration: 60, speed: 10, timeline: [{ at: 10, attack: 'forged-signature' }] }, 'x');
    expect(() => checkSpeed(s, 10)).toThrow(/need real time \(speed 1\)/);
    expect(() => checkSpeed(s, 1)).not.toThrow();
  });

  it('deals the ward out in the mix: 12 beds of 6/4/2 are exactly 6 monitors, 4 pumps, 2 ventilators; shares and lists of beds', () => {
    const k = wardKinds(12, { monitor: 6, pump: 4, ventilator: 2 });
    expect(k.filter((x) => x === 'monitor')).toHaveLength(6);
    expect(k.filter((x) => x === 'pump')).toHaveLength(4);
    expect(k.filter((x) => x === 'ventilator')).toHaveLength(2);
    expect(wardKinds(1000, { monitor: 1, pump: 0, ventilator: 0 }).every((x) => x === 'monitor')).toBe(true);
    expect(bedsOf({ share: 0.5 }, 12)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(bedsOf({ list: [3, 3, 1] }, 12)).toEqual([3, 1]);
    expect(bedsOf({ all: true }, 3)).toEqual([1, 2, 3]);
  });
});

/** A device run for `hours` of its own time: every message it sent. */
function runDevice(kind: 'monitor' | 'pump' | 'ventilator', seed: number, hours: number): DeviceMessage[] {
  const d = createSimulatedDevice({ kind, serial: `${kind}-1`, seed, record: true });
  d.start(0);
  const step = DRIVERS[kind].sampleMs;
  // nobody acks on the link: `sent` records every message as the device says it, all the same
  for (let t = step; t <= hours * 3_600_000; t += step) d.tick(t);
  return d.sent;
}

describe('simulated physiology', () => {
  it('is deterministic: the same seed, the same patient; another seed, another', () => {
    const a = JSON.stringify(runDevice('monitor', 7, 0.2).map((m) => (m.k === 'obs' ? [...m.values] : m.k)));
    expect(JSON.stringify(runDevice('monitor', 7, 0.2).map((m) => (m.k === 'obs' ? [...m.values] : m.k)))).toBe(a);
    expect(JSON.stringify(runDevice('monitor', 8, 0.2).map((m) => (m.k === 'obs' ? [...m.values] : m.k)))).not.toBe(a);
  });

  it.each(['monitor', 'pump', 'ventilator'] as const)('a %s over 24 hours: every value within its metric\'s range and the gateway\'s plausibility checks; its own alarms start and end', (kind) => {
    const sent = runDevice(kind, 11, 24);
    const obs = sent.filter((m): m is Extract<DeviceMessage, { k: 'obs' }> => m.k === 'obs');
    expect(obs.length).toBe((24 * 3_600_000) / DRIVERS[kind].sampleMs);
    const last = new Map<string, number>();
    for (const m of obs) {
      for (const [name, v] of m.values) {
        if (v === null) continue;
        const spec = metricByKey(DRIVERS[kind].observations.get(name)!)!;
        expect(v >= spec.range[0] && v <= spec.range[1], `${name} ${v} outside ${spec.range}`).toBe(true);
        expect(checkPlausible(spec.mdc, v, last.get(name)), `${name} ${last.get(name)} → ${v}`).toBeUndefined();
        last.set(name, v);
      }
    }
    const alarms = sent.filter((m): m is Extract<DeviceMessage, { k: 'alarm' }> => m.k === 'alarm');
    expect(alarms.some((a) => a.on), 'some alarm in a day').toBe(true);
    // every alarm that starts ends (or is still on at the end), and the messages decode as the gateway reads them
    const on = new Set<string>();
    for (const a of alarms) {
      expect(a.on ? !on.has(a.code) : on.has(a.code), `${a.code} ${a.on}`).toBe(true);
      if (a.on) on.add(a.code);
      else on.delete(a.code);
    }
  });

  it('a monitor shows desaturations with the heart rate rising, and blood pressure every 5 minutes', () => {
    const obs = runDevice('monitor', 3, 24).filter((m): m is Extract<DeviceMessage, { k: 'obs' }> => m.k === 'obs');
    const spo2 = obs.map((m) => m.values.get('SPO2')!);
    const hr = obs.map((m) => m.values.get('HR')!);
    const low = spo2.findIndex((v) => v !== null && v <= 88);
    expect(low, 'a desaturation in a day').toBeGreaterThan(0);
    const before = hr.slice(Math.max(0, low - 120), low - 60).reduce((a, v) => a + (v ?? 0), 0) / 60;
    expect(hr[low]!).toBeGreaterThan(before);
    const cuffs = obs.filter((m) => m.values.get('NBP_SYS') !== null).length;
    expect(cuffs).toBe(24 * 12);
  });

  it('a pump\'s volume falls with its rate: 50 mL/h for an hour is 50 mL less, unless it was stopped', () => {
    const obs = runDevice('pump', 5, 1).filter((m): m is Extract<DeviceMessage, { k: 'obs' }> => m.k === 'obs');
    const stopped = obs.filter((m) => m.values.get('RATE') === 0).length;
    const left = obs.at(-1)!.values.get('VTBI_LEFT')!;
    expect(500 - left).toBeCloseTo(50 - (stopped * 50 * 10) / 3600, 0);
  });

  it('the device\'s alarm message is checked on the way in: a malformed one is no alarm', () => {
    const sent = runDevice('ventilator', 2, 12).filter((m) => m.k === 'alarm');
    expect(sent.length).toBeGreaterThan(0);
    for (const m of sent) expect(decodeMessage(encodeMessage(m))).toEqual(m);
    // the encoder writes what it is given; the decoder takes only lower-case codes of at most 32 characters and a boolean
    expect(decodeMessage(encodeMessage({ k: 'alarm', code: 'up', on: true }))).toEqual({ k: 'alarm', code: 'up', on: true });
    expect(decodeMessage(encodeMessage({ k: 'alarm', code: 'UP', on: true }))).toBeUndefined();
    expect(decodeMessage(encodeMessage({ k: 'alarm', code: 'up--down', on: true }))).toBeUndefined();
    expect(decodeMessage(encodeMessage({ k: 'alarm', code: 'a'.repeat(33), on: true }))).toBeUndefined();
    expect(decodeMessage(encodeMessage({ k: 'alarm', code: 'occlusion', on: 'yes' as unknown as boolean }))).toBeUndefined();
  });
});
