/**
 * Physiological plausibility of device values: a value outside what a living patient can show, or a
 * jump between consecutive samples larger than physiology allows, is flagged with its evidence. It is
 * a sign of a faulty sensor, a wrong device, or forged traffic, never a clinical alarm by itself.
 */
export interface PlausibleRange {
  readonly min: number;
  readonly max: number;
  /** Largest change between consecutive samples. */
  readonly jump: number;
}

export const PLAUSIBLE: ReadonlyMap<number, PlausibleRange> = new Map([
  [147842, { min: 15, max: 320, jump: 60 }], // heart rate, /min
  [150456, { min: 30, max: 100, jump: 25 }], // SpO2, %
  [151562, { min: 0, max: 90, jump: 30 }], // respiration rate, /min
  [150021, { min: 30, max: 300, jump: 100 }], // NIBP systolic, mm[Hg]
  [150022, { min: 10, max: 250, jump: 80 }], // NIBP diastolic
  [150023, { min: 20, max: 270, jump: 90 }], // NIBP mean
  [151708, { min: 0, max: 150, jump: 40 }], // EtCO2, mm[Hg]
  [150364, { min: 25, max: 45, jump: 1.5 }], // body temperature, Cel
]);

export interface Implausible {
  readonly mdc: number;
  readonly value: number;
  readonly previous: number | undefined;
  readonly why: 'out-of-range' | 'jump';
}

export function checkPlausible(mdc: number, value: number, previous: number | undefined): Implausible | undefined {
  const r = PLAUSIBLE.get(mdc);
  if (r === undefined) return undefined;
  if (value < r.min || value > r.max) return { mdc, value, previous, why: 'out-of-range' };
  if (previous !== undefined && Math.abs(value - previous) > r.jump) return { mdc, value, previous, why: 'jump' };
  return undefined;
}
