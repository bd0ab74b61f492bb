/**
 * The device side of the gateway: the serial link, the device's messages, and what the gateway watches
 * on it. Every value a device reports is checked at this boundary: one outside what its metric can be
 * at all (metrics.ts `range`) is recorded as missing, with an `implausible-value` event; one outside
 * physiology (plausibility.ts) is kept, with the same event. Malformed traffic, a different device on
 * the link, and silence (the alarm output on, a `device-silent` event) are reported too.
 */
import type { CborValue } from '../cbor/index.js';
import type { DeviceProfile, SettingValue } from '../command/index.js';
import { DRIVERS, type DeviceDriver } from '../device/drivers.js';
import { createLink, type Link, type LinkEffect } from '../device/link.js';
import { decodeMessage, encodeMessage } from '../device/messages.js';
import { toHex } from '../hex.js';
import { metricByMdc } from '../vitals/index.js';
import type { EventChannel, GatewayEffect, GatewayStats } from './effects.js';
import { checkPlausible } from './plausibility.js';

const SILENCE_MIN_MS = 5000;
const IMPLAUSIBLE_EVERY_MS = 60_000;

export interface Identified {
  readonly serial: string;
  readonly driver: DeviceDriver;
  readonly profile: DeviceProfile | undefined;
  readonly model: string;
  /** The device's own firmware version, when its hello gives one. */
  readonly firmware: string | undefined;
}

export interface DeviceSide {
  readonly identity: Identified | undefined;
  /** Bytes from the serial line. */
  receive(out: GatewayEffect[], now: number, bytes: Uint8Array): void;
  /** Sends a setting change the gate accepted. */
  set(out: GatewayEffect[], now: number, id: number, values: ReadonlyMap<string, SettingValue>): void;
  tick(out: GatewayEffect[], now: number): void;
  wakeAt(): number;
}

export function createDeviceSide(deps: {
  readonly random: (n: number) => Uint8Array;
  readonly profiles: ReadonlyMap<string, DeviceProfile>;
  readonly stats: GatewayStats;
  readonly events: EventChannel;
  /** The device said hello (first, or again). */
  readonly identified: (out: GatewayEffect[], now: number, who: Identified) => void;
  /** A row of observations, by MDC, at `now`. */
  readonly observed: (row: ReadonlyMap<number, number | null>, now: number) => void;
  readonly settings: (out: GatewayEffect[], now: number, id: number | undefined, values: ReadonlyMap<string, SettingValue>) => void;
}): DeviceSide {
  const link: Link = createLink({ session: deps.random(1)[0]! });
  let identity: Identified | undefined;
  let lastFrameAt: number | undefined;
  let silent = false;
  const lastValue = new Map<number, number>();
  const implausibleAt = new Map<number, number>();

  const silenceAfter = () => Math.max(SILENCE_MIN_MS, 3 * (identity?.driver.sampleMs ?? 1000));

  function implausible(out: GatewayEffect[], now: number, mdc: number, value: number, previous: number | undefined, why: string): void {
    if (now - (implausibleAt.get(mdc) ?? -Infinity) <= IMPLAUSIBLE_EVERY_MS) return;
    implausibleAt.set(mdc, now);
    deps.events.emit(out, now, 'security', 'implausible-value', 'low', [['mdc', mdc], ['value', value], ['previous', previous ?? null], ['why', why]]);
  }

  /** One observation through the boundary checks: the value to record, or null. */
  function check(out: GatewayEffect[], now: number, mdc: number, v: number | null | undefined): number | null {
    if (typeof v !== 'number') return null;
    const range = metricByMdc(mdc)?.range;
    if (range !== undefined && !(v >= range[0] && v <= range[1])) {
      implausible(out, now, mdc, v, lastValue.get(mdc), 'out-of-range');
      return null;
    }
    const bad = checkPlausible(mdc, v, lastValue.get(mdc));
    if (bad !== undefined) implausible(out, now, mdc, v, bad.previous, bad.why);
    lastValue.set(mdc, v);
    return v;
  }

  function onMessage(out: GatewayEffect[], now: number, payload: Uint8Array): void {
    deps.stats.deviceFrames++;
    lastFrameAt = now;
    if (silent) {
      silent = false;
      out.push({ type: 'alarm-output', on: false });
      deps.events.emit(out, now, 'technical', 'device-back', 'info', []);
    }
    const m = decodeMessage(payload);
    if (m === undefined) {
      deps.stats.deviceAnomalies++;
      deps.events.emit(out, now, 'security', 'device-traffic-anomaly', 'low', [['bytes', toHex(payload.subarray(0, 32))]]);
      return;
    }
    if (m.k === 'hello') {
      if (identity !== undefined && identity.serial !== m.serial) {
        deps.events.emit(out, now, 'security', 'device-changed', 'high', [['was', identity.serial], ['now', m.serial]]);
      }
      const profile = deps.profiles.get(m.model);
      identity = { serial: m.serial, driver: DRIVERS[m.kind], profile, model: m.model, firmware: m.firmware };
      if (profile === undefined) deps.events.emit(out, now, 'technical', 'unknown-device-model', 'medium', [['model', m.model]]);
      deps.identified(out, now, identity);
    } else if (m.k === 'obs' && identity !== undefined) {
      const row = new Map<number, number | null>();
      let i = 0;
      for (const name of identity.driver.observations.keys()) {
        const mdc = identity.driver.mdcs[i++]!;
        row.set(mdc, check(out, now, mdc, m.values.get(name)));
      }
      deps.observed(row, now);
    } else if (m.k === 'settings') {
      deps.settings(out, now, m.id, m.values);
    } else if (m.k === 'alarm') {
      // the device's own alarm, passed on as it is: the device sounds it at the bed; the station sees it
      deps.events.emit(out, now, 'clinical', 'device-alarm', m.on ? 'high' : 'info', [['alarm', m.code], ['on', m.on]]);
    } else {
      deps.stats.deviceAnomalies++;
      deps.events.emit(out, now, 'security', 'device-traffic-anomaly', 'low', [['kind', m.k as CborValue]]);
    }
  }

  function linkEffects(out: GatewayEffect[], now: number, effects: LinkEffect[]): void {
    for (const e of effects) {
      if (e.type === 'write') out.push({ type: 'serial-write', bytes: e.bytes });
      else if (e.type === 'deliver') onMessage(out, now, e.payload);
    }
  }

  return {
    get identity() {
      return identity;
    },
    receive: (out, now, bytes) => linkEffects(out, now, link.receive(bytes, now)),
    set: (out, now, id, values) => linkEffects(out, now, link.send(encodeMessage({ k: 'set', id, values }), now)),
    tick(out, now) {
      linkEffects(out, now, link.tick(now));
      if (!silent && lastFrameAt !== undefined && now - lastFrameAt > silenceAfter()) {
        silent = true;
        out.push({ type: 'alarm-output', on: true });
        deps.events.emit(out, now, 'technical', 'device-silent', 'high', [['silentMs', now - lastFrameAt]]);
      }
    },
    wakeAt: () => Math.min(link.wakeAt ?? Infinity, lastFrameAt === undefined || silent ? Infinity : lastFrameAt + silenceAfter() + 1),
  };
}
