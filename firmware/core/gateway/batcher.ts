/**
 * Collects a device's observations into a vitals batch: one column per metric, a sample per report.
 * Bounded: a batch holds at most `maxSamples` reports, and is flushed when it is full or due.
 */
import type { Clock, Column, VitalsBatch } from '../vitals/index.js';
import { metricByMdc } from '../vitals/metrics.js';

export interface Batcher {
  add(values: ReadonlyMap<number, number | null>, now: number): void;
  /** The batch so far, or undefined when empty; empties the batcher. */
  flush(toTime: (monotonic: number) => { t: number; clock: Clock }, serial: string): VitalsBatch | undefined;
  readonly size: number;
}

export function createBatcher(mdcs: readonly number[], dt: number, maxSamples: number): Batcher {
  let t0 = 0;
  let rows: Array<ReadonlyMap<number, number | null>> = [];
  return {
    add(values, now) {
      if (rows.length === 0) t0 = now;
      if (rows.length < maxSamples) rows.push(values);
    },
    flush(toTime, serial) {
      if (rows.length === 0) return undefined;
      const { t, clock } = toTime(t0);
      const columns: Column[] = mdcs.map((mdc) => {
        const spec = metricByMdc(mdc);
        return { mdc, unit: spec?.unit ?? '1', scale: spec?.scale ?? 0, dt, values: rows.map((r) => r.get(mdc) ?? null) };
      });
      rows = [];
      return { t0: t, clock, serial, columns };
    },
    get size() {
      return rows.length;
    },
  };
}
