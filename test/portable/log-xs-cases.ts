/** Log and vitals cases that run unchanged in Node and XS, with plain JSON outcomes to compare. */
import { toHex } from '../../firmware/core/hex.js';
import { openLog, type VitalsLog } from '../../firmware/core/log/index.js';
import { decodeBatch, encodeBatch } from '../../firmware/core/vitals/index.js';
import { CUT_OUTCOMES, NorFlash } from '../../firmware/platform/node/nor-flash.js';
import { flashContract, type ContractResult } from './flash-contract.js';
import { bootIdFor, exhaustiveCuts, faultCampaign, payloadFor, powerCutSweep, type CampaignReport, type SweepReport } from './log-harness.js';
import * as faults from './log-faults.js';
import { sampleBatch, type DeviceKindName } from './vitals-samples.js';

export function contract(): ContractResult[] {
  return [...flashContract(() => new NorFlash({ sectors: 4 })), ...flashContract(() => new NorFlash({ sectors: 4, reorder: true }))];
}

export function exhaustive(reorder: boolean, appends: number): SweepReport {
  return exhaustiveCuts({ seed: 2, appends, sectors: 3, reorder, outcomes: CUT_OUTCOMES });
}

export function sweep(appends: number, sectors: number): SweepReport {
  return powerCutSweep({ seed: 5, appends, sectors, outcomes: CUT_OUTCOMES, rotate: true, adversarial: true, secondCuts: true });
}

/** One fault class of test/portable/log-faults.ts, by name, with its small (XS-sized) parameters. */
export function fault(name: string): faults.FaultReport | SweepReport {
  switch (name) {
    case 'headerFlips':
      return faults.headerFlips(3);
    case 'tornDrops':
      return faults.tornDrops();
    case 'embeddedImages':
      return faults.embeddedImages();
    case 'multiSectorAck':
      return faults.multiSectorAck();
    case 'freedEraseCut':
      return faults.freedEraseCut();
    case 'hostileAcks':
      return faults.hostileAcks();
    case 'generationWrap':
      return faults.generationWrap();
    case 'usedReachesZero':
      return faults.usedReachesZero();
    case 'writeUnit16':
      return faults.writeUnit16();
    case 'recoveryReads':
      return faults.recoveryReads();
    default:
      throw new Error(`no fault class ${name}`);
  }
}

export function campaign(seed: number, scenarios: number): CampaignReport {
  return faultCampaign({ seed, scenarios });
}

export function vitals(kind: DeviceKindName, seconds: number): { bytes: number; hex: string; roundTrip: boolean } {
  const b = sampleBatch(kind, seconds);
  const bytes = encodeBatch(b);
  const r = decodeBatch(bytes);
  return { bytes: bytes.length, hex: toHex(bytes), roundTrip: r.ok && JSON.stringify(r.value) === JSON.stringify(b) };
}

// ---- metering helpers: state kept between calls so each call measures one thing ----
let flash: NorFlash | undefined;
let log: VitalsLog | undefined;
let boots = 0;

/** Prepares a 60-sector flash holding `records` records of 120 bytes (not metered). */
export function prepare(records: number): number {
  flash = new NorFlash({ sectors: 60 });
  const l = openLog(flash, bootIdFor(++boots));
  for (let i = 0; i < records; i++) l.append(payloadFor(boots, i, 120));
  return flash.opCount;
}

/** The boot scan alone: opens the prepared flash. */
export function scan(): { liveSectors: number; headerReads: number } {
  log = openLog(flash!, bootIdFor(++boots));
  return { liveSectors: log.scan.liveSectors, headerReads: log.scan.headerReads };
}

/** `n` appends of 120 bytes to the opened log. */
export function appendMany(n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (log!.append(payloadFor(boots, i, 120)).ok) ok++;
  return ok;
}
