/**
 * The claims a signed setting change carries (docs/commands.md): whom it is for, when, under which
 * nonce and counter, what to set, and on whose order. Parsed strictly; any departure is `bad-claims`.
 */
import { decode, encode, type CborValue } from '../cbor/index.js';
import type { Result } from '../cbor/errors.js';
import { asMap, bytes, text, uint } from './fields.js';

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
  const bad = (detail: string) => ({ ok: false as const, error: detail });
  const r = decode(payload, { maxDepth: 4, maxLength: 256 });
  if (!r.ok) return bad(`payload CBOR: ${r.error.type}`);
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
    const s = asMap(spec as CborValue);
    const value = s?.get('value');
    const unit = s?.get('unit');
    if (typeof name !== 'string' || s === undefined || (typeof value !== 'number' && typeof value !== 'string') || (unit !== undefined && typeof unit !== 'string')) {
      return bad(`params.${String(name)} must be { value: number or text, unit?: text }`);
    }
    out.set(name, { value, unit });
  }
  for (const key of m.keys()) if (CLAIM_KEYS.indexOf(key as string) < 0) return bad(`unexpected field ${String(key)}`);
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
