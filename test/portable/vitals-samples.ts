/**
 * Representative vitals batches, deterministic, for the codec tests, the capacity table and the
 * benchmark. Monitor: 8 numerics at 1 Hz. Pump: rate and VTBI remaining every 10 s. Ventilator: 6
 * numerics once a breath (~every 4 s at 15 /min). NIBP is measured every 15 minutes, so within a batch
 * it repeats its last value.
 */
import { metricByKey } from '../../firmware/core/vitals/metrics.js';
import type { Column, VitalsBatch } from '../../firmware/core/vitals/index.js';
import { rng } from './log-harness.js';

export type DeviceKindName = 'monitor' | 'pump' | 'ventilator';

interface Signal {
  readonly key: string;
  readonly base: number;
  readonly wobble: number;
  readonly dt: number;
}

const SIGNALS: Record<DeviceKindName, readonly Signal[]> = {
  monitor: [
    { key: 'hr', base: 78, wobble: 3, dt: 1000 },
    { key: 'spo2', base: 97, wobble: 1, dt: 1000 },
    { key: 'rr', base: 16, wobble: 1, dt: 1000 },
    { key: 'nibpSys', base: 124, wobble: 0, dt: 1000 },
    { key: 'nibpDia', base: 78, wobble: 0, dt: 1000 },
    { key: 'nibpMean', base: 93, wobble: 0, dt: 1000 },
    { key: 'etco2', base: 38, wobble: 1, dt: 1000 },
    { key: 'temp', base: 36.8, wobble: 0.1, dt: 1000 },
  ],
  pump: [
    { key: 'pumpRate', base: 62.5, wobble: 0, dt: 10_000 },
    { key: 'vtbiRemain', base: 480, wobble: 0, dt: 10_000 },
  ],
  ventilator: [
    { key: 'ppeak', base: 22, wobble: 1, dt: 4000 },
    { key: 'peep', base: 5, wobble: 0, dt: 4000 },
    { key: 'vte', base: 460, wobble: 12, dt: 4000 },
    { key: 'ventRate', base: 15, wobble: 0, dt: 4000 },
    { key: 'fio2', base: 40, wobble: 0, dt: 4000 },
    { key: 'mv', base: 6.9, wobble: 0.2, dt: 4000 },
  ],
};

/** One batch covering `seconds` of device output, starting at `t0`. */
export function sampleBatch(kind: DeviceKindName, seconds: number, t0 = 1_767_225_600_000, seed = 1): VitalsBatch {
  const r = rng(seed);
  const columns: Column[] = SIGNALS[kind].map((s) => {
    const spec = metricByKey(s.key)!;
    const n = Math.max(1, Math.floor((seconds * 1000) / s.dt));
    const perUnit = Math.pow(10, -spec.scale); // scale -1: ten steps per unit
    const values = Array.from({ length: n }, (_, i) => {
      const drift = s.key === 'vtbiRemain' ? -i * (62.5 / 360) : 0;
      const raw = s.base + drift + (r() - 0.5) * 2 * s.wobble;
      return Math.round(raw * perUnit) / perUnit; // what the device reports, at the metric's resolution
    });
    return { mdc: spec.mdc, unit: spec.unit, scale: spec.scale, dt: s.dt, values };
  });
  return { t0, clock: 'utc', serial: `${kind.toUpperCase()}-0001`, columns };
}

/** The naive form: a JSON array with one object per sample. */
export function naiveJson(b: VitalsBatch): string {
  const samples: Array<{ t: number; mdc: number; unit: string; value: number | null }> = [];
  for (const c of b.columns) c.values.forEach((value, i) => samples.push({ t: b.t0 + i * c.dt, mdc: c.mdc, unit: c.unit, value }));
  return JSON.stringify(samples);
}

export function sampleCount(b: VitalsBatch): number {
  return b.columns.reduce((n, c) => n + c.values.length, 0);
}
