/**
 * A simulated bedside device (infusion pump, ventilator or patient monitor) on the far end of the
 * device link. It reports observations at its sample rate (physiology.ts: a plausible patient, pump
 * or ventilator), raises and ends its own alarms, applies setting changes and reads them back, can be
 * changed locally (a nurse at the pump), and can fall silent. Pure: runs in XS too.
 */
import type { SettingValue } from '../../firmware/core/command/claims.js';
import type { DeviceKind } from '../../firmware/core/command/profile.js';
import { DRIVERS } from '../../firmware/core/device/drivers.js';
import { createLink, type Link, type LinkConfig, type LinkEffect } from '../../firmware/core/device/link.js';
import { decodeMessage, encodeMessage, type DeviceMessage } from '../../firmware/core/device/messages.js';
import { mulberry32 } from '../line.js';
import { createPhysiology } from './physiology.js';

export const INITIAL_SETTINGS: Record<DeviceKind, Record<string, SettingValue>> = {
  pump: { rate: 50, vtbi: 500, bolus: 1 },
  ventilator: { mode: 'VC-AC', tidalVolume: 450, rate: 15, peep: 5, fio2: 40, pinspLimit: 30 },
  monitor: { hrHigh: 120, hrLow: 50, spo2Low: 90, rrHigh: 30, rrLow: 8, nibpSysHigh: 160, nibpSysLow: 90 },
};

export interface SimulatedDevice {
  readonly kind: DeviceKind;
  /** Its serial number; `swap` puts another device of the same kind in its place. */
  readonly serial: string;
  readonly settings: Map<string, SettingValue>;
  /** False: makes no more observations (the end of a run), while the link still carries what is queued. */
  producing: boolean;
  /** A silent device sends nothing and answers nothing (unplugged cable, crashed device). */
  silent: boolean;
  start(now: number): Uint8Array[];
  receive(bytes: Uint8Array, now: number): Uint8Array[];
  tick(now: number): Uint8Array[];
  readonly wakeAt: number;
  /** Another device (this serial) is plugged in in its place: it says hello. */
  swap(serial: string, now: number): Uint8Array[];
  /** A change made at the device itself: legitimate, but the gateway must report it. */
  localChange(name: string, value: SettingValue, now: number): Uint8Array[];
  /** Every message the device sent, in order, when created with `record: true` (for tests). */
  readonly sent: DeviceMessage[];
  /** Observations made (samples), set changes applied, and alarms raised since it was made. */
  readonly counts: { samples: number; applied: number; alarms: number };
  /** The device's own alarm conditions now. */
  readonly alarms: ReadonlySet<string>;
  readonly link: Link;
}

/** A generic device's own firmware version, as its hello gives it (a real product's comes from its catalog entry). */
export const SIMULATED_DEVICE_FIRMWARE = '1.0.0';

export function createSimulatedDevice(opts: { kind: DeviceKind; serial: string; model?: string; firmware?: string; seed: number; record?: boolean; link?: LinkConfig }): SimulatedDevice {
  const driver = DRIVERS[opts.kind];
  const random = mulberry32(opts.seed);
  const link = createLink({ ...opts.link, session: Math.floor(random() * 256) });
  const settings = new Map<string, SettingValue>(Object.entries(INITIAL_SETTINGS[opts.kind]));
  const sent: DeviceMessage[] = [];
  const counts = { samples: 0, applied: 0, alarms: 0 };
  const physiology = createPhysiology(opts.kind, mulberry32(opts.seed ^ 0x5eed));
  let alarms: ReadonlySet<string> = new Set();
  let nextObs = 0;
  let serial = opts.serial;

  function writes(effects: LinkEffect[], out: Uint8Array[]): void {
    for (const e of effects) if (e.type === 'write') out.push(e.bytes);
  }

  function send(m: DeviceMessage, now: number, out: Uint8Array[]): void {
    if (opts.record === true) sent.push(m);
    writes(link.send(encodeMessage(m), now), out);
  }

  function observe(now: number, out: Uint8Array[]): void {
    const report = physiology.next(settings);
    counts.samples++;
    send({ k: 'obs', values: report.values }, now, out);
    for (const code of report.alarms) if (!alarms.has(code)) {
      counts.alarms++;
      send({ k: 'alarm', code, on: true }, now, out);
    }
    for (const code of alarms) if (!report.alarms.has(code)) send({ k: 'alarm', code, on: false }, now, out);
    alarms = report.alarms;
  }

  function announce(now: number, out: Uint8Array[]): void {
    send({ k: 'hello', kind: opts.kind, model: opts.model ?? `generic-${opts.kind}-v1`, serial, firmware: opts.firmware ?? SIMULATED_DEVICE_FIRMWARE }, now, out);
    send({ k: 'settings', id: undefined, values: new Map(settings) }, now, out);
  }

  const device: SimulatedDevice = {
    kind: opts.kind,
    get serial() {
      return serial;
    },
    settings,
    silent: false,
    producing: true,
    sent,
    counts,
    get alarms() {
      return alarms;
    },
    link,
    start(now) {
      const out: Uint8Array[] = [];
      nextObs = now + driver.sampleMs;
      announce(now, out);
      return out;
    },
    receive(bytes, now) {
      const out: Uint8Array[] = [];
      if (device.silent) return out;
      for (const e of link.receive(bytes, now)) {
        if (e.type === 'write') out.push(e.bytes);
        else if (e.type === 'peer-restarted') announce(now, out); // the gateway rebooted: it must learn who we are again
        else if (e.type === 'deliver') {
          const m = decodeMessage(e.payload);
          if (m?.k === 'set') {
            for (const [name, v] of m.values) if (settings.has(name)) settings.set(name, v);
            counts.applied++;
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
        if (device.producing) observe(nextObs, out);
        nextObs += driver.sampleMs;
      }
      return out;
    },
    get wakeAt() {
      return Math.min(nextObs, link.wakeAt ?? Infinity);
    },
    swap(next, now) {
      const out: Uint8Array[] = [];
      serial = next;
      announce(now, out);
      return out;
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
