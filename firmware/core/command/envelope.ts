/**
 * The safety envelope: whether the requested values fit the device profile, given the device's present
 * values and the recent changes. Checked after the signature and the claims, so it only ever judges
 * commands from people who may give them.
 */
import type { RequestedSetting, SettingValue } from './claims.js';
import type { DeviceProfile } from './profile.js';
import { shown } from './fields.js';
import type { RejectReason } from './reasons.js';

export const HOUR_MS = 3_600_000;

/** The smallest positive normal double, 2^-1022: anything nearer 0 (but 0) is subnormal. */
const MIN_NORMAL = 2.2250738585072014e-308;

/**
 * Why `x` is not a number a setting can take, or undefined when it can (docs/commands.md, "Numbers").
 * A setting number is finite, not -0 (the signer's tools write 0), not subnormal (no device resolves
 * it, and it reads as 0 on one side and not on the other), and within ±(2^53 − 1), where every integer
 * is exact.
 */
export function numberProblem(x: number): string | undefined {
  if (x !== x) return 'is not a number (NaN)';
  if (x === Infinity || x === -Infinity) return 'is infinite';
  if (x === 0) return 1 / x < 0 ? 'is negative zero; send 0' : undefined;
  if (Math.abs(x) < MIN_NORMAL) return 'is subnormal (nearer 0 than 2^-1022)';
  if (Math.abs(x) > Number.MAX_SAFE_INTEGER) return 'is beyond ±(2^53 − 1)';
  return undefined;
}

export interface EnvelopeContext {
  readonly profile: DeviceProfile;
  /** The device's present values, from its read-back. */
  readonly current: ReadonlyMap<string, SettingValue>;
  /** Monotonic times (ms) of the accepted changes of each setting within the last hour. */
  readonly recentChanges: ReadonlyMap<string, readonly number[]>;
  readonly nowMs: number;
  /** Whether a second, distinct, authorised person signed. */
  readonly cosigned: boolean;
}

export interface EnvelopeViolation {
  readonly reason: RejectReason;
  readonly setting: string;
  readonly detail: string;
}

export function checkEnvelope(params: ReadonlyMap<string, RequestedSetting>, ctx: EnvelopeContext): EnvelopeViolation | undefined {
  for (const [name, req] of params) {
    const setting = ctx.profile.settings.get(name);
    if (setting === undefined) return violation('unknown-setting', name, `${ctx.profile.model} has no setting ${shown(name)}`);
    let recent = 0;
    for (const t of ctx.recentChanges.get(name) ?? []) if (ctx.nowMs - t < HOUR_MS) recent++;
    if (setting.type === 'enum') {
      if (req.unit !== undefined) return violation('unit-mismatch', name, `${name} takes no unit, got ${shown(req.unit)}`);
      if (typeof req.value !== 'string' || setting.values.indexOf(req.value) < 0) return violation('invalid-value', name, `${name} must be one of ${setting.values.join(', ')}`);
    } else {
      if (req.unit !== setting.unit) return violation('unit-mismatch', name, `${name} is in ${setting.unit}, got ${req.unit === undefined ? 'no unit' : shown(req.unit)}`);
      const x = req.value;
      if (typeof x !== 'number') return violation('invalid-value', name, `${name} must be a number, got text`);
      const problem = numberProblem(x);
      if (problem !== undefined) return violation('invalid-value', name, `${name} ${problem}`);
      if (x < setting.hard[0] || x > setting.hard[1]) return violation('hard-limit', name, `${name} ${x} ${setting.unit} is outside the hard limits [${setting.hard[0]}, ${setting.hard[1]}]`);
      if ((x < setting.soft[0] || x > setting.soft[1]) && !ctx.cosigned) {
        return violation('soft-limit-needs-cosign', name, `${name} ${x} ${setting.unit} is outside the soft limits [${setting.soft[0]}, ${setting.soft[1]}]: a second person must co-sign`);
      }
      const now = ctx.current.get(name);
      if (typeof now !== 'number') return violation('current-unknown', name, `the device's present ${name} is unknown`);
      if (Math.abs(x - now) > setting.maxStep) return violation('step-too-large', name, `${name} from ${now} to ${x} exceeds the step of ${setting.maxStep} ${setting.unit}`);
    }
    if (recent >= setting.maxChangesPerHour) return violation('rate-limited', name, `${name} changed ${recent} times within the hour (limit ${setting.maxChangesPerHour})`);
  }
  return undefined;
}

function violation(reason: RejectReason, setting: string, detail: string): EnvelopeViolation {
  return { reason, setting, detail };
}
