/**
 * Issue 10, items 7-12: the vitals log against the faults hardware makes, one class at a time
 * (test/portable/log-faults.ts; the same scenarios run in XS), and the random fault campaign over all
 * of them together (test/portable/log-harness.ts, faultCampaign).
 */
import { describe, expect, it } from 'vitest';
import { faultCampaign } from '../portable/log-harness.js';
import { doubleFaultHole, embeddedImages, freedEraseCut, generationWrap, headerFlips, hostileAcks, multiSectorAck, recoveryReads, tornDrops, usedReachesZero, writeUnit16 } from '../portable/log-faults.js';

describe('the vitals log against hardware faults (issue 10, items 7-12)', () => {
  it('7. a flipped bit in any sector header, at rest, is corrected: nothing lost, nothing thrown, over two reboots', () => {
    const r = headerFlips(5);
    expect(r.failures).toEqual([]);
    expect(r.cases).toBeGreaterThanOrEqual(5 * 32 * 8);
    expect(r.figures['lost']).toBe(0);
  }, 120_000);

  it('8. a DROP record torn by a power cut (and a second cut in recovery) still names every record lost', () => {
    const r = tornDrops();
    expect(r.failures).toEqual([]);
    expect(r.cases).toBeGreaterThan(20);
  }, 120_000);

  it('9. payloads that embed valid record images never come out as records, whichever header bit flips', () => {
    const r = embeddedImages();
    expect(r.failures).toEqual([]);
    expect(r.figures['fake']).toBe(0);
    expect(r.cases).toBeGreaterThan(300);
  }, 120_000);

  it('10a. a power cut during an ack that covers five sectors sends at most one sector again', () => {
    const r = multiSectorAck();
    expect(r.failures).toEqual([]);
  });

  it('10c. a committed sector whose erase is cut with only its freed mark erased is not sent again (at most the one sector the read pointer was in)', () => {
    const r = freedEraseCut();
    expect(r.failures).toEqual([]);
    expect(r.cases).toBeGreaterThan(5);
  });

  it('11. acks beyond what was appended, NaN, negative, fractional or infinite free nothing they should not', () => {
    const r = hostileAcks();
    expect(r.failures).toEqual([]);
  });

  it('12a. generations near 2^32 keep the ring in order across the wrap', () => {
    expect(generationWrap().failures).toEqual([]);
  });

  it('12b. after everything is acked, stats().used is 0 (a torn tail, a BOOT record, a reboot)', () => {
    expect(usedReachesZero().failures).toEqual([]);
  });

  it('12c. flash written in 16-byte units (ESP32 flash encryption) passes the power-cut sweep', () => {
    const r = writeUnit16();
    expect(r.failures).toEqual([]);
    expect(r.cuts).toBeGreaterThan(300);
  }, 120_000);

  it('12d. recovering from a record damaged beyond repair reads a few sectors, not sectorSize² / 8 bytes', () => {
    const r = recoveryReads();
    expect(r.failures).toEqual([]);
    console.log(`recovery reads: open ${r.figures['bootBytes']} B, drain ${r.figures['drainBytes']} B (${r.figures['records']} records)`);
  });
});

describe('beyond one flipped bit', () => {
  it('both copies of a middle sector header destroyed: that sector\'s records are counted lost, every other one comes out', () => {
    const r = doubleFaultHole();
    expect(r.failures).toEqual([]);
    expect(r.figures['corrupt']).toBeGreaterThan(0);
  });
});

describe('random fault campaign', () => {
  it('3,000 random scenarios: cuts of every outcome (and second cuts in recovery), bit flips at rest, hostile acks, adversarial payloads, 4- and 16-byte write units', () => {
    const r = faultCampaign({ seed: 0xf1a5, scenarios: 3000 });
    expect(r.failures).toEqual([]);
    expect(r.cuts).toBeGreaterThan(1000);
    expect(r.flips).toBeGreaterThan(500);
    expect(r.hostileAcks).toBeGreaterThan(100);
  }, 300_000);
});
