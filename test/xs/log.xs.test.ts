/**
 * The flash port contract, the vitals log under power cuts, and the vitals codec in Moddable's XS
 * engine, compared with Node's outcomes; reports XS compute per append and per boot scan.
 * XS runs these ~40x slower than V8, so the power-cut runs here are shorter than Node's
 * (test/unit/vitals-log.test.ts): an exhaustive short scenario and a rotating sweep over two wraps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContractResult } from '../portable/flash-contract.js';
import type { SweepReport } from '../portable/log-harness.js';
import { campaign, contract, exhaustive, fault, sweep, vitals } from '../portable/log-xs-cases.js';
import type { CampaignReport } from '../portable/log-harness.js';
import type { FaultReport } from '../portable/log-faults.js';
import { startXs, type XsSession } from './harness.js';

let xs: XsSession;
const metering: string[] = [];

beforeAll(async () => {
  xs = await startXs(new URL('./log.entry.ts', import.meta.url));
});

afterAll(async () => {
  await xs?.close();
  if (metering.length > 0) console.log(`XS metering, vitals log suite (bundle ${xs.bundleBytes} bytes)\n${metering.join('\n')}`);
});

describe('vitals log in XS', () => {
  it('the flash emulator passes the flash contract in XS', async () => {
    const c = await xs.call<ContractResult[]>('contract');
    expect(c.result.filter((r) => r.failure !== null)).toEqual([]);
    expect(c.result).toEqual(contract());
  });

  it('exhaustive short scenario: every cut point x not done / done / half done, as in Node', async () => {
    const c = await xs.call<SweepReport>('exhaustive', false, 80);
    metering.push(`${c.compute} computrons: exhaustive cuts, ${c.result.cuts} cuts`);
    expect(c.result.failures).toEqual([]);
    expect(c.result).toEqual(exhaustive(false, 80));
  });

  it('rotating sweep over two wraps, as in Node', async () => {
    const c = await xs.call<SweepReport>('sweep', 300, 4);
    metering.push(`${c.compute} computrons: sweep, ${c.result.cuts} cuts`);
    expect(c.result.failures).toEqual([]);
    expect(c.result.wraps).toBeGreaterThanOrEqual(2);
    expect(c.result).toEqual(sweep(300, 4));
  });

  it.each(['headerFlips', 'tornDrops', 'embeddedImages', 'multiSectorAck', 'freedEraseCut', 'hostileAcks', 'generationWrap', 'usedReachesZero', 'writeUnit16', 'recoveryReads'])(
    'fault class %s: the same report as Node, with no failures',
    async (name) => {
      const c = await xs.call<FaultReport | SweepReport>('fault', name);
      metering.push(`${c.compute} computrons: fault class ${name}`);
      expect(c.result.failures).toEqual([]);
      expect(c.result).toEqual(fault(name));
    },
    300_000,
  );

  it('random fault campaign (150 scenarios), the same report as Node', async () => {
    const c = await xs.call<CampaignReport>('campaign', 0xf1a5, 150);
    metering.push(`${c.compute} computrons: fault campaign, ${c.result.scenarios} scenarios`);
    expect(c.result.failures).toEqual([]);
    expect(c.result).toEqual(campaign(0xf1a5, 150));
  }, 300_000);

  it.each(['monitor', 'pump', 'ventilator'] as const)('encodes a %s batch byte for byte as Node does, and decodes it back', async (kind) => {
    const c = await xs.call<{ bytes: number; hex: string; roundTrip: boolean }>('vitals', kind, 10);
    expect(c.result.roundTrip).toBe(true);
    expect(c.result).toEqual(vitals(kind, 10));
  });

  it('reports compute per append and per boot scan (empty, half-full, full log of 60 sectors)', async () => {
    for (const [name, records] of [['empty', 0], ['half-full', 700], ['full', 1400]] as const) {
      await xs.call('prepare', records);
      const s = await xs.call<{ liveSectors: number; headerReads: number }>('scan');
      const a = await xs.call<number>('appendMany', 100);
      expect(a.result).toBe(100);
      metering.push(`${s.compute} computrons: boot scan of the ${name} log (${s.result.liveSectors} live sectors, ${s.result.headerReads} header reads); ${Math.round(a.compute / 100)} per 120-byte append`);
      expect(s.result.headerReads).toBeLessThanOrEqual(120);
    }
  });
});
