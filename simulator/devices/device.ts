/**
 * A simulated bedside device (infusion pump, ventilator or patient monitor) on the far end of the
 * device link. It reports observations at its sample rate, applies setting changes and reads them
 * back, can be changed locally (a nurse at the pump), and can fall silent. Pure: runs in XS too.
 */
import type { SettingValue } from '../../firmware/core/command/claims.js';
import type { DeviceKind } from '../../firmware/core/command/profile.js';
import { DRIVERS } from '../../firmware/core/device/drivers.js';
import { createLink, type Link, type LinkEffect } from '../../firmware/core/device/link.js';
import { decodeMessage, encodeMessage, type DeviceMessage } from '../../firmware/core/device/messages.js';
import { mulberry32 } from '../line.js';

const BASELINES: Record<DeviceKind, Record<string, [number, number]>> = {
  monitor: { HR: [78, 3], SPO2: [97, 1], RESP: [16, 1], NBP_SYS: [124, 0], NBP_DIA: [78, 0], NBP_MEAN: [93, 0], ETCO2: [38, 1], TEMP: [36.8, 0.1] },
  pump: { RATE: [0, 0], VTBI_LEFT: [500, 0] },
  ventilator: { PPEAK: [22, 1], PEEP: [5, 0], VTE: [460, 12], RR: [15, 0], FIO2: [40, 0], MV: [6.9, 0.2] },
};

const INITIAL_SETTINGS: Record<DeviceKind, Record<string, SettingValue>> = {
  pump: { rate: 50, vtbi: 500, bolus: 1 },
  ventilator: { mode: 'VC-AC', tidalVolume: 450, rate: 15, peep: 5, fio2: 40, pinspLimit: 30 },
  monitor: { hrHigh: 120, hrLow: 50, spo2Low: 90, rrHigh: 30, rrLow: 8, nibpSysHigh: 160, nibpSysLow: 90 },
};

export interface SimulatedDevice {
  readonly kind: DeviceKind;
  readonly serial: string;
  readonly settings: Map<string, SettingValue>;
  /** A silent device sends nothing and answers nothing (unplugged cable, crashed device). */
  silent: boolean;
  start(now: number): Uint8Array[];
  receive(bytes: Uint8Array, now: number): Uint8Array[];
  tick(now: number): Uint8Array[];
  readonly wakeAt: number;
  /** A change made at the device itself: legitimate, but the gateway must report it. */
  localChange(name: string, value: SettingValue, now: number): Uint8Array[];
  /** Every message the device sent, in order, when created with `record: true` (for tests). */
  readonly sent: DeviceMessage[];
  readonly link: Link;
}

export function createSimulatedDevice(opts: { kind: DeviceKind; serial: string; model?: string; seed: number; record?: boolean }): SimulatedDevice {
  const driver = DRIVERS[opts.kind];
  const random = mulberry32(opts.seed);
  const link = createLink({ session: Math.floor(random() * 256) });
  const settings = new Map<string, SettingValue>(Object.entries(INITIAL_SETTINGS[opts.kind]));
  const sent: DeviceMessage[] = [];
  let nextObs = 0;
  let vtbiLeft = 500;

  function writes(effects: LinkEffect[], out: Uint8Array[]): void {
    for (const e of effects) if (e.type === 'write') out.push(e.bytes);
  }

  function send(m: DeviceMessage, now: number, out: Uint8Array[]): void {
    if (opts.record === true) sent.push(m);
    writes(link.send(encodeMessage(m), now), out);
  }

  function observe(now: number, out: Uint8Array[]): void {
    const values = new Map<string, number | null>();
    for (const [name, [base, wobble]] of Object.entries(BASELINES[opts.kind])) {
      let v = base + (random() - 0.5) * 2 * wobble;
      if (opts.kind === 'pump' && name === 'RATE') v = settings.get('rate') as number;
      if (opts.kind === 'pump' && name === 'VTBI_LEFT') {
        vtbiLeft = Math.max(0, vtbiLeft - ((settings.get('rate') as number) * driver.sampleMs) / 3_600_000);
        v = vtbiLeft;
      }
      values.set(name, Math.round(v * 10) / 10);
    }
    send({ k: 'obs', values }, now, out);
  }

  const device: SimulatedDevice = {
    kind: opts.kind,
    serial: opts.serial,
    settings,
    silent: false,
    sent,
    link,
    start(now) {
      const out: Uint8Array[] = [];
      nextObs = now + driver.sampleMs;
      send({ k: 'hello', kind: opts.kind, model: opts.model ?? `generic-${opts.kind}-v1`, serial: opts.serial }, now, out);
      send({ k: 'settings', id: undefined, values: new Map(settings) }, now, out);
      return out;
    },
    receive(bytes, now) {
      const out: Uint8Array[] = [];
      if (device.silent) return out;
      for (const e of link.receive(bytes, now)) {
        if (e.type === 'write') out.push(e.bytes);
        else if (e.type === 'deliver') {
          const m = decodeMessage(e.payload);
          if (m?.k === 'set') {
            for (const [name, v] of m.values) if (settings.has(name)) settings.set(name, v);
            send({ k: 'settings', id: m.id, values: new Map(settings) }, now, out); // the read-back
          } else if (m?.k === 'get') {
            send({ k: 'settings', id: undefined, values: new Map(settings) }, now, out);
          }
        }
      }
      return out;
    },
    tick(now) {
      const out: Uint8Array[] = [];
      if (device.silent) return out;
      writes(link.tick(now), out);
      while (now >= nextObs) {
        observe(nextObs, out);
        nextObs += driver.sampleMs;
      }
      return out;
    },
    get wakeAt() {
      return Math.min(nextObs, link.wakeAt ?? Infinity);
    },
    localChange(name, value, now) {
      const out: Uint8Array[] = [];
      settings.set(name, value);
      send({ k: 'settings', id: undefined, values: new Map(settings) }, now, out);
      return out;
    },
  };
  return device;
}
