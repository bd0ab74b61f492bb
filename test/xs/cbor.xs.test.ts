/**
 * The CBOR profile in Moddable's XS engine: the same vector cases and property tests as in Node,
 * with the outcomes compared byte for byte, and XS's deterministic cost reported per case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCborProperties, type PropertyReport } from '../portable/cbor-properties.js';
import { cborVectors, runCborVector, type CborOutcome } from '../portable/cbor-vectors.js';
import { startXs, type XsSession } from './harness.js';

let xs: XsSession;
const metering: Array<{ case: string; compute: number; heapCount: number }> = [];

beforeAll(async () => {
  xs = await startXs(new URL('./cbor.entry.ts', import.meta.url));
});

afterAll(async () => {
  await xs?.close();
  if (metering.length > 0) {
    const lines = metering.map((m) => `${String(m.compute).padStart(10)} ${String(m.heapCount).padStart(8)}  ${m.case}`);
    console.log(`XS metering, CBOR suite (bundle ${xs.bundleBytes} bytes)\n   compute    heap  case\n${lines.join('\n')}`);
  }
});

describe('CBOR in XS', () => {
  it('bundles the same vector list as Node', async () => {
    expect((await xs.call<number>('count')).result).toBe(cborVectors.length);
  });

  it.each(cborVectors.map((v, i) => [v.name, i] as const))('%s', async (name, i) => {
    const call = await xs.call<CborOutcome>('vector', i);
    metering.push({ case: name, compute: call.compute, heapCount: call.heapCount });
    expect(JSON.stringify(call.result)).toBe(JSON.stringify(runCborVector(i)));
  });

  it('passes the property tests with the same seed, and reports exactly what Node reports', async () => {
    const call = await xs.call<PropertyReport[]>('properties', 0x5eed, 300);
    metering.push({ case: 'property tests, 4 properties x 300 runs', compute: call.compute, heapCount: call.heapCount });
    for (const r of call.result) expect(r, `${r.name}: ${r.counterexample} ${r.error}`).toMatchObject({ failed: false, numRuns: 300 });
    expect(JSON.stringify(call.result)).toBe(JSON.stringify(runCborProperties(0x5eed, 300)));
  });
});
