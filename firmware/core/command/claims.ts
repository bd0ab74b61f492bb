/**
 * The claims a signed setting change carries (docs/commands.md): whom it is for, when, under which
 * nonce and counter, what to set, and on whose order. Parsed strictly; any departure is `bad-claims`.
 */
import { decode, encode, type CborValue } from '../cbor/index.js';
import type { Result } from '../cbor/errors.js';
import { asMap, bytes, shown, text, uint } from './fields.js';

export const NONCE_BYTES = 16;
export const MAX_SETTINGS_PER_COMMAND = 8;

const CLAIM_KEYS = ['v', 'gateway', 'serial', 'counter', 'iat', 'exp', 'nonce', 'epoch', 'op', 'params', 'orderId', 'clinician'];

export type SettingValue = number | string;

export interface RequestedSetting {
  readonly value: SettingValue;
  /** UCUM unit; absent for enumerated settings. */
  readonly unit: string | undefined;
}

export interface CommandClaims {
  readonly gateway: string;
  readonly serial: string;
  readonly counter: number;
  /** Unix seconds. */
  readonly iat: number;
  readonly exp: number;
  readonly nonce: Uint8Array;
  readonly epoch: number;
  readonly op: 'set';
  readonly params: ReadonlyMap<string, RequestedSetting>;
  readonly orderId: string;
  readonly clinician: string;
}

export function parseClaims(payload: Uint8Array): Result<CommandClaims, string> {
  // depth 6: payload map, params map, a setting's map, a value that is (wrongly) an array or map, and
  // its items, so a value of the wrong type is named by the schema check below, not as "too deep"
  const r = decode(payload, { maxDepth: 6, maxLength: 256 });
  if (!r.ok) return bad(`payload is not CBOR of the profile: ${r.error.message} (at byte ${r.error.offset})`);
  const m = asMap(r.value);
  if (m === undefined) return bad('payload is not a map');
  const gateway = text(m, 'gateway', 64);
  const serial = text(m, 'serial', 64);
  const counter = uint(m, 'counter');
  const iat = uint(m, 'iat');
  const exp = uint(m, 'exp');
  const nonce = bytes(m, 'nonce', NONCE_BYTES);
  const epoch = uint(m, 'epoch');
  const orderId = text(m, 'orderId', 64);
  const clinician = text(m, 'clinician', 64);
  const params = asMap(m.get('params'));
  if (uint(m, 'v') !== 1) return bad('v must be 1');
  if (m.get('op') !== 'set') return bad('op must be "set"');
  if (gateway === undefined || serial === undefined || orderId === undefined || clinician === undefined) return bad('gateway, serial, orderId and clinician are required text');
  if (counter === undefined || counter < 1) return bad('counter must be a whole number >= 1');
  if (iat === undefined || exp === undefined || exp <= iat) return bad('iat and exp are Unix seconds with exp > iat');
  if (nonce === undefined) return bad(`nonce must be ${NONCE_BYTES} bytes`);
  if (epoch === undefined) return bad('epoch is required');
  if (params === undefined || params.size === 0 || params.size > MAX_SETTINGS_PER_COMMAND) return bad(`params must name 1 to ${MAX_SETTINGS_PER_COMMAND} settings`);
  const out = new Map<string, RequestedSetting>();
  for (const [name, spec] of params) {
    if (typeof name !== 'string') return bad(`params: setting names are text, got ${String(name)}`);
    const at = `params.${shown(name)}`;
    const s = asMap(spec as CborValue);
    if (s === undefined) return bad(`${at} must be a map { value, unit? }, got ${kindOf(spec as CborValue)}`);
    for (const key of s.keys()) if (key !== 'value' && key !== 'unit') return bad(`${at}: unexpected field ${typeof key === 'string' ? shown(key) : String(key)}`);
    const value = s.get('value');
    const unit = s.get('unit');
    if (typeof value === 'bigint') return bad(`${at}.value is an integer beyond ±(2^53 − 1), which no setting takes`);
    if (typeof value !== 'number' && typeof value !== 'string') return bad(`${at}.value must be a number or text, got ${kindOf(value)}`);
    if (unit !== undefined && typeof unit !== 'string') return bad(`${at}.unit must be text, got ${kindOf(unit)}`);
    out.set(name, { value, unit });
  }
  for (const key of m.keys()) if (CLAIM_KEYS.indexOf(key as string) < 0) return bad(`unexpected field ${typeof key === 'string' ? shown(key) : String(key)}`);
  return { ok: true, value: { gateway, serial, counter, iat, exp, nonce, epoch, op: 'set', params: out, orderId, clinician } };
}

/** The payload bytes of a command (deterministic CBOR): what the signer signs. */
export function encodeClaims(c: CommandClaims): Uint8Array {
  const params = new Map<string, Map<string, SettingValue>>();
  for (const [name, req] of c.params) {
    const spec = new Map<string, SettingValue>([['value', req.value]]);
    if (req.unit !== undefined) spec.set('unit', req.unit);
    params.set(name, spec);
  }
  return encode(
    new Map<string, CborValue>([
      ['v', 1],
      ['gateway', c.gateway],
      ['serial', c.serial],
      ['counter', c.counter],
      ['iat', c.iat],
      ['exp', c.exp],
      ['nonce', c.nonce],
      ['epoch', c.epoch],
      ['op', c.op],
      ['params', params],
      ['orderId', c.orderId],
      ['clinician', c.clinician],
    ]),
  );
}

function bad(detail: string): { ok: false; error: string } {
  return { ok: false, error: detail };
}

/** What a decoded CBOR value is, for a reason: "an array", "a map", "nothing". */
function kindOf(v: CborValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Map) return 'a map';
  if (v instanceof Uint8Array) return 'a byte string';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'string') return 'text';
  if (typeof v === 'number' || typeof v === 'bigint') return 'a number';
  return 'a tagged item';
}
