/**
 * The vitals log's faults, one scenario per class (issue 10, items 7–12), each returning a plain report
 * so the same scenarios run in Node and in XS:
 *  7. a flipped bit in any sector header, at rest: corrected, nothing lost, nothing thrown;
 *  8. a DROP record torn by a power cut: the loss is still named;
 *  9. payloads that embed valid record images: never handed over as records, whatever is damaged;
 * 10. duplicates after a reboot: within the bound docs/vitals-log.md states;
 * 11. hostile acks: clamped or refused by the log itself;
 * 12. generation wrap-around, `stats().used` reaching 0, write units of 16 bytes, bounded recovery reads.
 */
import { toHex } from '../../firmware/core/hex.js';
import { openLog, type Flash } from '../../firmware/core/log/index.js';
import { encodeSectorHeader, FREED_OFFSET, RecordType, RECORD_HEADER, RECORD_MAGIC, SECTOR_HEADER } from '../../firmware/core/log/format.js';
import { applyCut, NorFlash, type CutOutcome } from '../../firmware/platform/node/nor-flash.js';
import { bootIdFor, LogWorld, payloadFor, powerCutSweep, rng, type LogFactory, type SweepReport } from './log-harness.js';

export interface FaultReport {
  readonly cases: number;
  readonly failures: string[];
  /** Scenario-specific figures (lost records, duplicates, bytes read). */
  readonly figures: Record<string, number>;
}

const report = (cases: number, failures: string[], figures: Record<string, number> = {}): FaultReport => ({ cases, failures: failures.slice(0, 10), figures });

/** A world with a wrapped ring whose every sector holds records the host has not committed. */
function backlogWorld(sectors: number, factory?: LogFactory, adversarial = false): LogWorld {
  const w = new LogWorld(new NorFlash({ sectors }), { factory, adversarial });
  w.boot();
  // two wraps with the host keeping up, then an outage that fills the log and drops
  for (let i = 0; i < sectors * 40; i++) {
    w.append(60 + (i % 70));
    w.drain(2);
  }
  for (let i = 0; i < sectors * 30; i++) w.append(60 + (i % 70));
  return w;
}

function fork(w: LogWorld, image: Uint8Array): LogWorld {
  return LogWorld.restore(w, image, w.snapshot(), w.flash.byteLength / w.flash.sectorSize);
}

/**
 * Checks a forked world over two boots: the first boot's appends (not drained) must come out after the
 * second, so nothing is appended where a later boot would take it for committed.
 */
function checkTwoBoots(f: LogWorld): number {
  f.boot();
  for (let i = 0; i < 5; i++) f.append(70 + i);
  f.boot();
  return f.checkAfterReboot().lost;
}

/** 7. Every bit of every sector header flipped in turn, at rest, then two reboots. */
export function headerFlips(sectors = 5, factory?: LogFactory): FaultReport {
  const w = backlogWorld(sectors, factory);
  const failures: string[] = [];
  let cases = 0;
  let lost = 0;
  // what the overflow itself lost (named by DROP records): a flipped bit may lose nothing more
  const baseline = checkTwoBoots(fork(w, w.flash.image.slice()));
  for (let s = 0; s < sectors; s++) {
    for (let byte = 0; byte < SECTOR_HEADER; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const image = w.flash.image.slice();
        image[s * w.flash.sectorSize + byte] = image[s * w.flash.sectorSize + byte]! ^ (1 << bit);
        cases++;
        try {
          const l = checkTwoBoots(fork(w, image)) - baseline;
          lost += Math.max(0, l);
          if (l > 0) throw new Error(`one flipped bit lost ${l} records`);
        } catch (e) {
          failures.push(`sector ${s} byte ${byte} bit ${bit}: ${String(e)}`);
        }
      }
    }
  }
  return report(cases, failures, { lost });
}

/** Whether a program writes a record of `type` at its start. */
function writesRecord(data: Uint8Array, type: number): boolean {
  return data.length >= 16 && data[0] === RECORD_MAGIC && data[1] === type;
}

/** 8. Every DROP record written in an overflowing scenario is torn, every way, then the log reboots (and loses power again in recovery). */
export function tornDrops(factory?: LogFactory): FaultReport {
  const failures: string[] = [];
  let cases = 0;
  const random = rng(8);
  const outcomes: CutOutcome[] = ['not-done', 'half', 'torn'];
  const flash = new NorFlash({ sectors: 4 });
  const w = new LogWorld(flash, { factory });
  flash.onOp = (index, op) => {
    if (op.kind !== 'write' || !writesRecord(op.data, RecordType.drop)) return;
    for (const outcome of outcomes) {
      for (const second of [undefined, 0, 1, 2]) {
        const image = flash.image.slice();
        applyCut(image, flash.sectorSize, op, outcome, random);
        cases++;
        try {
          const f = LogWorld.restore(w, image, w.snapshot(), 4);
          if (second !== undefined) {
            f.flash.cutAt(second, 'half');
            try {
              f.boot();
              f.flash.cancelCut();
            } catch (e) {
              if (!f.flash.poweredOff) throw e;
              f.flash.powerOn();
              f.boot();
            }
          } else f.boot();
          // the outage goes on: the log fills again and must drop (and name) the same oldest sector
          for (let i = 0; i < 60; i++) f.append(80 + (i % 60));
          f.checkAfterReboot();
        } catch (e) {
          failures.push(`DROP write at op ${index} (${outcome}, second cut ${second ?? 'none'}): ${String(e)}`);
        }
      }
    }
  };
  w.boot();
  for (let i = 0; i < 400; i++) {
    w.append(80 + (i % 60));
    if (i % 150 === 149) w.drain(40); // the host catches up a little between outages
    if (i % 9 === 8) w.boot(); // short boots: a dropped sector holds several, so its DROP record is long
  }
  flash.onOp = undefined;
  return report(cases, failures);
}

/**
 * 9. Payloads that embed valid record images: every bit of the first records' headers flipped, and
 * whole headers wiped; no embedded image may ever come out as a record.
 */
export function embeddedImages(factory?: LogFactory): FaultReport {
  const w = new LogWorld(new NorFlash({ sectors: 4 }), { factory, adversarial: true });
  w.boot();
  for (let i = 0; i < 30; i++) w.append(120 + (i % 3) * 40); // every third payload embeds images
  const failures: string[] = [];
  let cases = 0;
  let fake = 0;
  // the records of sector 0, found by walking their lengths from the sector start
  const starts: number[] = [];
  for (let o = SECTOR_HEADER; o + RECORD_HEADER <= w.flash.sectorSize && w.flash.image[o] === RECORD_MAGIC; ) {
    starts.push(o);
    o += recordSpan(w.flash.image[o + 2]! | (w.flash.image[o + 3]! << 8));
  }
  for (const at of starts.slice(0, 6)) {
    for (let bit = 0; bit < 12 * 8; bit++) {
      const image = w.flash.image.slice();
      image[at + (bit >> 3)] = image[at + (bit >> 3)]! ^ (1 << (bit & 7));
      cases++;
      try {
        const f = fork(w, image);
        f.boot();
        f.checkAfterReboot();
      } catch (e) {
        if (/never appended/.test(String(e))) fake++;
        failures.push(`record at ${at}, header bit ${bit}: ${String(e)}`);
      }
    }
  }
  return report(cases, failures, { fake });
}

/** The bytes a record of `len` payload bytes takes on flash written in 4-byte units. */
function recordSpan(len: number): number {
  return (RECORD_HEADER + len + 3) & ~3;
}

/**
 * 10a. One ack that covers several sectors, with the power failing at each of its flash operations
 * after the first: at most the records of one sector may come again.
 */
export function multiSectorAck(factory?: LogFactory): FaultReport {
  const flash = new NorFlash({ sectors: 8 });
  const w = new LogWorld(flash, { factory });
  w.boot();
  for (let i = 0; i < 150; i++) w.append(100); // ~5.5 sectors, none sent
  // the host receives everything, then acks once
  for (let r = w.log.next(); r !== undefined; r = w.log.next()) w.receive(r.bootId, r.seq, r.kind, r.payload, r.lowWater);
  const perSector = Math.floor((flash.sectorSize - SECTOR_HEADER) / recordSpan(100));
  const failures: string[] = [];
  let cases = 0;
  let worst = 0;
  let first = -1;
  flash.onOp = (index, op) => {
    if (first < 0) first = index;
    const image = flash.image.slice();
    applyCut(image, flash.sectorSize, op, 'done', () => 0.5);
    if (index === first) return; // a cut during the ack's first operation is as if the ack never came
    cases++;
    try {
      const f = fork(w, image);
      f.boot();
      const d = f.checkAfterReboot().duplicates;
      worst = Math.max(worst, d);
      if (d > perSector) throw new Error(`${d} records sent again, more than one sector's ${perSector}`);
    } catch (e) {
      failures.push(`cut after op ${index} of the ack: ${String(e)}`);
    }
  };
  w.ackAll();
  flash.onOp = undefined;
  // and a clean reboot after the ack: at most one sector again
  const f = fork(w, flash.image.slice());
  f.boot();
  const clean = f.checkAfterReboot().duplicates;
  if (clean > perSector) failures.push(`a clean reboot after the ack sends ${clean} records again`);
  return report(cases + 1, failures, { worst: Math.max(worst, clean), perSector });
}

/**
 * 10c. A committed sector being recycled, its erase cut so that only the bytes holding its `freed`
 * word came back to 0xFF: the recycled sector's records may not come again. Only the committed records
 * of the sector the read pointer was in may (the documented bound: one sector).
 */
export function freedEraseCut(factory?: LogFactory): FaultReport {
  const failures: string[] = [];
  let cases = 0;
  let worst = 0;
  let perSector = 0;
  // small rings, the host a sector behind or keeping up: the recycled sector sits right behind the live ones
  for (const [sectors, lag] of [[3, 1], [3, 0], [4, 1], [4, 0]] as const) {
    const flash = new NorFlash({ sectors });
    const w = new LogWorld(flash, { factory });
    w.boot();
    perSector = Math.floor((flash.sectorSize - SECTOR_HEADER) / recordSpan(100));
    flash.onOp = (index, op) => {
      if (op.kind !== 'erase') return;
      const image = flash.image.slice();
      const base = op.sector * flash.sectorSize;
      const committed = image.subarray(base + FREED_OFFSET, base + FREED_OFFSET + 4).every((b) => b === 0);
      // the erase ran only over the bytes that hold the freed mark (at 28 in format 1, at 64 in format 2)
      image.fill(0xff, base + 28, base + 32);
      image.fill(0xff, base + FREED_OFFSET, base + FREED_OFFSET + 4);
      cases++;
      try {
        const f = fork(w, image);
        const drops = f.dropCounts.size;
        f.boot();
        const d = f.checkAfterReboot().duplicates;
        worst = Math.max(worst, d);
        // one sector behind, the read pointer's sector holds nothing committed: nothing may come again
        const bound = lag === 1 ? 0 : perSector;
        if (d > bound) throw new Error(`${d} committed records sent again, more than ${bound}`);
        // a committed sector lost nothing, so no DROP record may say otherwise (taken for live when recycled)
        if (committed && f.dropCounts.size > drops) throw new Error('a DROP record named committed records lost');
      } catch (e) {
        failures.push(`${sectors} sectors, lag ${lag}: erase of sector ${op.sector} at op ${index}: ${String(e)}`);
      }
    };
    if (lag === 1) {
      // the host commits exactly the first sector, then nothing: the read pointer waits in the second
      for (let i = 0; i < 2 * perSector; i++) w.append(100);
      w.drain(perSector);
      for (let i = 0; i < 2 * perSector; i++) w.append(100);
    } else {
      for (let i = 0; i < 300; i++) {
        w.append(100);
        w.drain(5);
      }
    }
    flash.onOp = undefined;
  }
  return report(cases, failures, { worst, perSector });
}

/** 11. Acks the log must not trust: beyond what was appended, NaN, negative, fractional, infinite. */
export function hostileAcks(factory?: LogFactory): FaultReport {
  const failures: string[] = [];
  const more = (w: LogWorld) => {
    for (let i = 0; i < 80; i++) w.append(90); // several sectors appended after the ack
  };
  const cases: Array<[string, (w: LogWorld) => void]> = [
    ['an ack far beyond the highest appended seq, then appends', (w) => {
      w.hostileAck(w.bootNo, 1000);
      more(w);
    }],
    ['an ack of NaN', (w) => {
      w.hostileAck(w.bootNo, NaN);
      more(w);
    }],
    ['an ack of -1', (w) => {
      w.hostileAck(w.bootNo, -1);
      more(w);
    }],
    ['an ack of 1.5', (w) => {
      w.hostileAck(w.bootNo, 1.5);
      more(w);
    }],
    ['an ack of Infinity', (w) => {
      w.hostileAck(w.bootNo, Infinity);
      more(w);
    }],
    ['an ack of 2^53, then appends', (w) => {
      w.hostileAck(w.bootNo, 2 ** 53);
      more(w);
    }],
    ['an ack of 2^32 + 1, then appends', (w) => {
      w.hostileAck(w.bootNo, 2 ** 32 + 1);
      more(w);
    }],
  ];
  for (const [name, act] of cases) {
    try {
      const w = new LogWorld(new NorFlash({ sectors: 8 }), { factory });
      w.boot();
      for (let i = 0; i < 40; i++) w.append(90);
      act(w);
      w.drain(1); // the host receives one record and acks it: the log moves its read pointer
      w.boot();
      w.checkAfterReboot();
    } catch (e) {
      failures.push(`${name}: ${String(e)}`);
    }
  }
  return report(cases.length, failures);
}

/** 12a. Generations near 2^32: the ring keeps its order across the wrap, over reboots. */
export function generationWrap(factory?: LogFactory): FaultReport {
  const failures: string[] = [];
  let cases = 0;
  for (const start of [0xfffffffe, 0xfffffffa, 0x7ffffffe]) {
    cases++;
    try {
      const sectors = 5;
      const flash = new NorFlash({ sectors });
      const w = new LogWorld(flash, { factory });
      w.boot();
      for (let i = 0; i < 60; i++) w.append(90); // three sectors, none sent
      // renumber the sectors' generations so they sit just below the wrap (same ring order)
      const hdr = (s: number) => flash.image.subarray(s * flash.sectorSize, s * flash.sectorSize + SECTOR_HEADER);
      for (let s = 0; s < sectors; s++) {
        const h = hdr(s);
        if (h.every((b) => b === 0xff)) continue;
        const fresh = encodeSectorHeader((start + s) >>> 0, bootIdFor(1));
        flash.image.set(fresh.subarray(0, Math.min(fresh.length, SECTOR_HEADER)), s * flash.sectorSize);
      }
      w.boot();
      for (let i = 0; i < 120; i++) w.append(90); // more sectors, across the wrap, with drops
      w.boot();
      w.checkAfterReboot();
    } catch (e) {
      failures.push(`generations from ${start.toString(16)}: ${String(e)}`);
    }
  }
  return report(cases, failures);
}

/** 12b. After everything is acked, `stats().used` is 0, even with a torn tail or a BOOT record left. */
export function usedReachesZero(factory?: LogFactory): FaultReport {
  const failures: string[] = [];
  const scenarios: Array<[string, (w: LogWorld) => void]> = [
    ['a torn record alone in a fresh sector, everything before it acked, then no ack at all', (w) => {
      // append until the next append opens a sector (found on a copy), then cut that append's record
      for (;;) {
        const probe = fork(w, w.flash.image.slice());
        probe.boot();
        let ops = 0;
        let erased = false;
        probe.flash.onOp = (_i, op) => {
          ops++;
          if (op.kind === 'erase') erased = true;
        };
        probe.append(80);
        if (erased) {
          w.flash.cutAt(ops - 1, 'half');
          break;
        }
        w.append(80);
        w.drain(100);
      }
      try {
        w.append(80);
      } catch {
        // the power failed writing the record
      }
      w.flash.powerOn();
      w.inFlightAtCut = w.inFlight;
      w.boot();
      const out = w.drain(1000); // the host acks what comes again (duplicates): then nothing is left
      const used = w.log.stats().used;
      if (used !== 0) throw new Error(`with nothing left to send (${out} records came again and were acked) the log counts ${used} bytes as unsent`);
    }],
    ['a torn tail', (w) => {
      w.flash.cutAt(0, 'half');
      try {
        w.append(80);
      } catch {
        // the power failed mid-append
      }
      w.flash.powerOn();
      w.inFlightAtCut = w.inFlight;
    }],
    ['a reboot with nothing appended since', () => undefined],
    ['a BOOT record and one live record, acked', (w) => {
      w.boot();
      w.append(60, true);
      w.ackAll();
    }],
  ];
  for (const [name, act] of scenarios) {
    try {
      const w = new LogWorld(new NorFlash({ sectors: 4 }), { factory });
      w.boot();
      for (let i = 0; i < 8; i++) w.append(60);
      w.drain(100);
      act(w);
      w.boot();
      w.checkAfterReboot(); // includes: used is 0 after a full drain and ack
    } catch (e) {
      failures.push(`${name}: ${String(e)}`);
    }
  }
  return report(scenarios.length, failures);
}

/** 12c. The log on flash written in 16-byte units (the ESP32 with flash encryption), under power cuts. */
export function writeUnit16(factory?: LogFactory): SweepReport {
  return powerCutSweep({ seed: 16, appends: 300, sectors: 4, outcomes: ['not-done', 'done', 'half', 'torn', 'torn-suffix'], rotate: true, writeUnit: 16, factory });
}

/** A flash that counts the bytes read through it. */
export function counting(inner: Flash): Flash & { readBytes: number } {
  const c = {
    readBytes: 0,
    get byteLength() { return inner.byteLength; },
    get sectorSize() { return inner.sectorSize; },
    get writeUnit() { return inner.writeUnit; },
    read(o: number, n: number) { c.readBytes += n; return inner.read(o, n); },
    write: (o: number, d: Uint8Array) => inner.write(o, d),
    erase: (s: number) => inner.erase(s),
    sync: () => inner.sync(),
  };
  return c;
}

/**
 * 12d. Bytes read to drain a full sector whose first record is damaged beyond repair (three bits
 * flipped), and to open the log on it: bounded by a small multiple of the sector, not its square.
 */
export function recoveryReads(factory?: LogFactory): FaultReport {
  const flash = new NorFlash({ sectors: 4 });
  const log = (factory ?? openLog)(flash, bootIdFor(1));
  // payloads whose every word looks like the start of a record that runs to the end of the sector
  for (let i = 0; i < 60; i++) {
    const p = payloadFor(1, i, 48);
    for (let w = 0; w + 4 <= p.length; w += 4) p.set([RECORD_MAGIC, RecordType.data, 0x00, 0x0e], w);
    log.append(p);
  }
  const at = SECTOR_HEADER + RECORD_HEADER + 4; // inside the first record's payload
  for (const bit of [1, 9, 17]) flash.flipBit(at + 4 + (bit >> 3), bit & 7);
  flash.flipBit(SECTOR_HEADER + 2, 0); // and the first record's length
  const c = counting(flash);
  const reopened = (factory ?? openLog)(c, bootIdFor(2));
  const boot = c.readBytes;
  c.readBytes = 0;
  let records = 0;
  while (reopened.next() !== undefined) records++;
  const drain = c.readBytes;
  const failures: string[] = [];
  const bound = 4 * flash.sectorSize;
  if (drain > bound * 2) failures.push(`draining read ${drain} bytes for ${records} records; the bound is ${bound * 2}`);
  if (boot > bound) failures.push(`opening read ${boot} bytes; the bound is ${bound}`);
  return report(1, failures, { bootBytes: boot, drainBytes: drain, records });
}

/**
 * Beyond one bit: both copies of a middle sector's header destroyed. The damage stays in that sector:
 * its records are counted lost (stats().corrupt), every other record comes out, nothing throws, and
 * the log goes on over further reboots.
 */
export function doubleFaultHole(factory?: LogFactory): FaultReport {
  const failures: string[] = [];
  const sectors = 6;
  const flash = new NorFlash({ sectors });
  const w = new LogWorld(flash, { factory });
  w.boot();
  for (let i = 0; i < 120; i++) w.append(100); // ~3.5 sectors, none sent
  const before = new Set(w.appended.map((a) => a.key));
  const hole = 1;
  const base = hole * flash.sectorSize;
  for (const at of [4, 28 + 4]) flash.image.fill(0, base + at, base + at + 8); // generation and boot id, in both copies
  let delivered = 0;
  let corrupt = 0;
  try {
    w.boot();
    const keys = new Set<string>();
    for (let r = w.log.next(); r !== undefined; r = w.log.next()) {
      keys.add(`${toHex(r.bootId)}:${r.seq}`);
      delivered++;
    }
    corrupt = w.log.stats().corrupt;
    const missing = [...before].filter((k) => !keys.has(k)).length;
    if (missing !== corrupt) failures.push(`${missing} records missing, ${corrupt} counted lost`);
    if (missing === 0 || missing > 40) failures.push(`${missing} records missing: the damage was not confined to one sector`);
    for (let i = 0; i < 60; i++) w.append(100);
    w.boot();
    w.boot();
    let after = 0;
    for (let r = w.log.next(); r !== undefined; r = w.log.next()) after++;
    if (after < 60) failures.push(`only ${after} records after two more reboots`);
  } catch (e) {
    failures.push(String(e));
  }
  return report(1, failures, { delivered, corrupt });
}
