/**
 * Messages on the device link (payloads of link frames), CBOR under Vigil's profile.
 * Device → gateway: hello (identity), obs (observations, device-native names), settings (present
 * settings, and the read-back of a set when `id` is given), alarm (the device's own alarm condition
 * starting or ending: occlusion, air in line, high pressure, disconnection…). Gateway → device: set, get.
 * docs/device-link.md gives the CDDL.
 */
import { decode, encode, type CborValue } from '../cbor/index.js';
import type { SettingValue } from '../command/claims.js';
import { DEVICE_KINDS, type DeviceKind } from '../command/profile.js';

export type DeviceMessage =
  | { readonly k: 'hello'; readonly kind: DeviceKind; readonly model: string; readonly serial: string; readonly firmware?: string }
  | { readonly k: 'obs'; readonly values: ReadonlyMap<string, number | null> }
  | { readonly k: 'settings'; readonly id: number | undefined; readonly values: ReadonlyMap<string, SettingValue> }
  | { readonly k: 'set'; readonly id: number; readonly values: ReadonlyMap<string, SettingValue> }
  | { readonly k: 'get' }
  | { readonly k: 'alarm'; readonly code: string; readonly on: boolean };

/** A device alarm's code: lower-case words joined by '-', at most 32 characters. */
const ALARM_CODE_MAX = 32;
/** The device's own firmware version in its hello: printable ASCII, 1 to 24 characters (it rides in the birth). */
export const DEVICE_FIRMWARE_MAX = 24;
const PRINTABLE = /^[\x20-\x7e]+$/;
const ALARM_CODE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export function encodeMessage(m: DeviceMessage): Uint8Array {
  const map = new Map<string, CborValue>([['k', m.k]]);
  if (m.k === 'hello') {
    map.set('kind', m.kind);
    map.set('model', m.model);
    map.set('serial', m.serial);
    if (m.firmware !== undefined) map.set('fw', m.firmware);
  } else if (m.k === 'obs' || m.k === 'settings' || m.k === 'set') {
    map.set('v', new Map<string, CborValue>(m.values));
    if ((m.k === 'settings' || m.k === 'set') && m.id !== undefined) map.set('id', m.id);
  } else if (m.k === 'alarm') {
    map.set('code', m.code);
    map.set('on', m.on);
  }
  return encode(map);
}

/** Undefined for anything that is not a well-formed message: the caller counts it as an anomaly. */
export function decodeMessage(bytes: Uint8Array): DeviceMessage | undefined {
  const r = decode(bytes, { maxDepth: 3, maxLength: 64 });
  if (!r.ok || !(r.value instanceof Map)) return undefined;
  const m = r.value;
  const k = m.get('k');
  if (k === 'get') return m.size === 1 ? { k } : undefined;
  if (k === 'alarm') {
    const code = m.get('code');
    const on = m.get('on');
    if (m.size !== 3 || typeof code !== 'string' || code.length > ALARM_CODE_MAX || !ALARM_CODE.test(code) || typeof on !== 'boolean') return undefined;
    return { k, code, on };
  }
  if (k === 'hello') {
    const kind = m.get('kind');
    const model = m.get('model');
    const serial = m.get('serial');
    const fw = m.get('fw');
    if (typeof kind !== 'string' || DEVICE_KINDS.indexOf(kind as DeviceKind) < 0 || typeof model !== 'string' || typeof serial !== 'string' || serial.length === 0) return undefined;
    if (fw !== undefined && (typeof fw !== 'string' || fw.length > DEVICE_FIRMWARE_MAX || !PRINTABLE.test(fw))) return undefined;
    return fw === undefined ? { k, kind: kind as DeviceKind, model, serial } : { k, kind: kind as DeviceKind, model, serial, firmware: fw };
  }
  const v = m.get('v');
  if (!(v instanceof Map)) return undefined;
  const id = m.get('id');
  if (id !== undefined && (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)) return undefined;
  if (k === 'obs') {
    const values = new Map<string, number | null>();
    for (const [name, x] of v) {
      if (typeof name !== 'string' || (x !== null && (typeof x !== 'number' || !Number.isFinite(x)))) return undefined;
      values.set(name, x as number | null);
    }
    return { k, values };
  }
  if (k === 'settings' || k === 'set') {
    const values = new Map<string, SettingValue>();
    for (const [name, x] of v) {
      if (typeof name !== 'string' || (typeof x !== 'string' && (typeof x !== 'number' || !Number.isFinite(x)))) return undefined;
      values.set(name, x as SettingValue);
    }
    if (k === 'set') return id === undefined ? undefined : { k, id: id as number, values };
    return { k, id: id as number | undefined, values };
  }
  return undefined;
}
