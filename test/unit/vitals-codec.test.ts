import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode } from '../../firmware/core/cbor/index.js';
import { decodeBatch, encodeBatch, METRICS, type VitalsBatch } from '../../firmware/core/vitals/index.js';
import { naiveJson, sampleBatch } from '../portable/vitals-samples.js';

describe('vitals batch codec', () => {
  it.each(['monitor', 'pump', 'ventilator'] as const)('round-trips a %s batch exactly', (kind) => {
    const b = sampleBatch(kind, 60);
    const r = decodeBatch(encodeBatch(b));
    expect(r.ok && r.value).toEqual(b);
  });

  it('keeps missing samples as null, in place', () => {
    const b: VitalsBatch = { t0: 1000, clock: 'boot', serial: 'X', columns: [{ mdc: 147842, unit: '/min', scale: 0, dt: 1000, values: [70, null, 72, null, null, 75, 75, 74, 73, null] }] };
    const r = decodeBatch(encodeBatch(b));
    expect(r.ok && r.value).toEqual(b);
  });

  it('codes runs of a held value compactly and round-trips them (property)', () => {
    const held = fc.array(fc.record({ value: fc.constantFrom(0, 1, 120, -5), times: fc.integer({ min: 1, max: 300 }) }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(held, (runs) => {
        const values = runs.flatMap((r) => new Array<number>(r.times).fill(r.value)).slice(0, 3600);
        const b: VitalsBatch = { t0: 0, clock: 'boot', serial: 'R', columns: [{ mdc: 150021, unit: 'mm[Hg]', scale: 0, dt: 1000, values }] };
        const bytes = encodeBatch(b);
        const r = decodeBatch(bytes);
        return r.ok && JSON.stringify(r.value) === JSON.stringify(b);
      }),
      { seed: 5, numRuns: 300 },
    );
    const steady = encodeBatch({ t0: 0, clock: 'boot', serial: 'R', columns: [{ mdc: 150021, unit: 'mm[Hg]', scale: 0, dt: 1000, values: new Array<number>(900).fill(124) }] });
    expect(steady.length).toBeLessThan(60); // 15 minutes of one NIBP value
  });

  it('writes units and scales only where they differ from the metric defaults, and keeps unknown codes', () => {
    const b: VitalsBatch = { t0: 5, clock: 'utc', serial: 'S', columns: [{ mdc: 999999, unit: 'kPa', scale: -2, dt: 250, values: [1.25, 1.5] }, { mdc: 150364, unit: '[degF]', scale: -1, dt: 1000, values: [98.6] }] };
    const r = decodeBatch(encodeBatch(b));
    expect(r.ok && r.value).toEqual(b);
  });

  it('a monitor batch of 5 s at 1 Hz takes at most 15 % of the naive JSON bytes', () => {
    for (const seconds of [5, 10, 60]) {
      const b = sampleBatch('monitor', seconds);
      const ratio = encodeBatch(b).length / new TextEncoder().encode(naiveJson(b)).length;
      expect(ratio, `${seconds} s batch`).toBeLessThanOrEqual(0.15);
    }
  });

  it('round-trips any batch at the metric resolution (property)', () => {
    const column = fc.record({
      spec: fc.constantFrom(...METRICS),
      dt: fc.integer({ min: 1, max: 60_000 }),
      ints: fc.array(fc.option(fc.integer({ min: -1_000_000, max: 1_000_000 }), { nil: null }), { minLength: 1, maxLength: 40 }),
    });
    fc.assert(
      fc.property(fc.array(column, { minLength: 1, maxLength: 8 }), fc.nat({ max: 2 ** 45 }), (cols, t0) => {
        const b: VitalsBatch = {
          t0,
          clock: 'utc',
          serial: 'P',
          columns: cols.map((c) => ({ mdc: c.spec.mdc, unit: c.spec.unit, scale: c.spec.scale, dt: c.dt, values: c.ints.map((x) => (x === null ? null : x / Math.pow(10, -c.spec.scale))) })),
        };
        const r = decodeBatch(encodeBatch(b));
        if (!r.ok) return false;
        return r.value.columns.every((c, i) => c.values.every((v, k) => {
          const want = b.columns[i]!.values[k];
          return v === null ? want === null : want !== null && want !== undefined && Math.abs(v - want) < 1e-9 * Math.max(1, Math.abs(want));
        }));
      }),
      { seed: 3, numRuns: 300 },
    );
  });

  it('answers malformed batches with a typed error, never an exception', () => {
    const cases = [
      new Uint8Array([0xff]),
      encode(new Map([['t0', 1]])),
      // a varint cut short
      encode(new Map<number, unknown>([[1, 1], [3, 'x'], [4, [new Map<number, unknown>([[1, 147842 ^ 0x20000], [2, Uint8Array.of(0x80)]])]], [5, 1000]]) as never),
      // n says 3, the bitmap one missing, the values one present: fewer samples than n
      encode(new Map<number, unknown>([[1, 1], [3, 'x'], [4, [new Map<number, unknown>([[1, 147842 ^ 0x20000], [2, Uint8Array.of(2)], [6, Uint8Array.of(1)], [7, 3]])]], [5, 1000]]) as never),
      // the text keys of the first format
      encode(new Map<string, unknown>([['t0', 1], ['clock', 'utc'], ['serial', 'x'], ['metrics', []]]) as never),
    ];
    const details: string[] = [];
    for (const bytes of cases) {
      const r = decodeBatch(bytes);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.type).toBe('malformed');
        details.push(r.error.detail);
      }
    }
    expect(details[2]).toMatch(/cut short/);
    expect(details[3]).toMatch(/fewer samples than n/);
    expect(details[4]).toMatch(/unexpected key "t0"/);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      decodeBatch(bytes);
      return true;
    }), { seed: 4, numRuns: 2000 });
  });
});
