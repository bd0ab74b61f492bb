/**
 * Device profiles: the safety envelope of one device model, as data (firmware/profiles/<model>.json),
 * validated here at load so a bad profile is refused with a message that names the field.
 *
 * A numeric setting has hard limits (never allowed beyond), soft limits inside them (beyond needs a
 * second person's signature), a largest step from the present value, and a most changes per hour.
 * An enumerated setting (a ventilation mode) has its values and a most changes per hour.
 */
import type { Result } from '../cbor/errors.js';

export type DeviceKind = 'pump' | 'ventilator' | 'monitor';
export const DEVICE_KINDS: readonly DeviceKind[] = ['pump', 'ventilator', 'monitor'];

export interface NumericSetting {
  readonly type: 'number';
  readonly unit: string; // UCUM
  readonly hard: readonly [number, number];
  readonly soft: readonly [number, number];
  readonly maxStep: number;
  readonly maxChangesPerHour: number;
}

export interface EnumSetting {
  readonly type: 'enum';
  readonly values: readonly string[];
  readonly maxChangesPerHour: number;
}

export type Setting = NumericSetting | EnumSetting;

/**
 * The real product a profile stands for, as security advisories name it: its vendor and product
 * name, and the other spellings advisories use for each (matched whole, case and punctuation aside).
 */
export interface ProductIdentity {
  readonly vendor: string;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly vendorAliases: readonly string[];
}

export interface DeviceProfile {
  readonly model: string;
  readonly kind: DeviceKind;
  readonly settings: ReadonlyMap<string, Setting>;
  /** Absent for a generic profile (no real product behind it). */
  readonly product?: ProductIdentity;
}

export interface ProfileError {
  readonly path: string;
  readonly message: string;
}

type Obj = { readonly [k: string]: unknown };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRange = (v: unknown): v is [number, number] =>
  Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && (v[0] as number) < (v[1] as number);
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

/** Validates a parsed JSON profile. Every problem names its path, what was expected and what arrived. */
export function parseProfile(json: unknown): Result<DeviceProfile, ProfileError> {
  const err = (path: string, message: string) => ({ ok: false as const, error: { path, message } });
  if (!isObj(json)) return err('', `expected an object, got ${show(json)}`);
  const { model, kind, settings } = json;
  if (typeof model !== 'string' || !/^[a-z0-9][a-z0-9.-]{0,63}$/.test(model)) return err('model', `expected a model id like "generic-pump-v1", got ${show(model)}`);
  if (typeof kind !== 'string' || DEVICE_KINDS.indexOf(kind as DeviceKind) < 0) return err('kind', `expected one of ${DEVICE_KINDS.join(', ')}, got ${show(kind)}`);
  if (!isObj(settings) || Object.keys(settings).length === 0) return err('settings', `expected a non-empty object, got ${show(settings)}`);
  const out = new Map<string, Setting>();
  for (const [name, s] of Object.entries(settings)) {
    const at = `settings.${name}`;
    if (!/^[a-zA-Z][a-zA-Z0-9]{0,31}$/.test(name)) return err(at, 'setting names are letters and digits, starting with a letter');
    if (!isObj(s)) return err(at, `expected an object, got ${show(s)}`);
    const perHour = s['maxChangesPerHour'];
    if (typeof perHour !== 'number' || !Number.isSafeInteger(perHour) || perHour < 1) return err(`${at}.maxChangesPerHour`, `expected a whole number >= 1, got ${show(perHour)}`);
    if (s['type'] === 'enum') {
      const values = s['values'];
      if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string' && v.length > 0) || new Set(values).size !== values.length) {
        return err(`${at}.values`, `expected distinct non-empty strings, got ${show(values)}`);
      }
      out.set(name, { type: 'enum', values: values as string[], maxChangesPerHour: perHour });
      continue;
    }
    if (s['type'] !== 'number') return err(`${at}.type`, `expected "number" or "enum", got ${show(s['type'])}`);
    const { unit, hard, soft, maxStep } = s;
    if (typeof unit !== 'string' || unit.length === 0) return err(`${at}.unit`, `expected a UCUM unit, got ${show(unit)}`);
    if (!isRange(hard)) return err(`${at}.hard`, `expected [min, max] with min < max, got ${show(hard)}`);
    if (!isRange(soft) || soft[0] < hard[0] || soft[1] > hard[1]) return err(`${at}.soft`, `expected [min, max] inside hard ${show(hard)}, got ${show(soft)}`);
    if (typeof maxStep !== 'number' || !(maxStep > 0) || !Number.isFinite(maxStep)) return err(`${at}.maxStep`, `expected a number > 0, got ${show(maxStep)}`);
    out.set(name, { type: 'number', unit, hard: [hard[0], hard[1]], soft: [soft[0], soft[1]], maxStep, maxChangesPerHour: perHour });
  }
  const product = json['product'];
  if (product === undefined) return { ok: true, value: { model, kind: kind as DeviceKind, settings: out } };
  const names = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 120);
  if (!isObj(product)) return err('product', `expected an object, got ${show(product)}`);
  const { vendor, name, aliases = [], vendorAliases = [] } = product;
  if (typeof vendor !== 'string' || vendor.length === 0 || vendor.length > 120) return err('product.vendor', `expected the vendor's name, got ${show(vendor)}`);
  if (typeof name !== 'string' || name.length === 0 || name.length > 120) return err('product.name', `expected the product's name, got ${show(name)}`);
  if (!names(aliases)) return err('product.aliases', `expected a list of names, got ${show(aliases)}`);
  if (!names(vendorAliases)) return err('product.vendorAliases', `expected a list of names, got ${show(vendorAliases)}`);
  return { ok: true, value: { model, kind: kind as DeviceKind, settings: out, product: { vendor, name, aliases, vendorAliases } } };
}

/** The name a trust-list grant uses for a setting: `<kind>.<setting>`; `<kind>.*` grants them all. */
export function qualifiedSetting(kind: DeviceKind, setting: string): string {
  return `${kind}.${setting}`;
}
