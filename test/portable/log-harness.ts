/**
 * A world for testing the vitals log: a gateway's log on emulated NOR flash, and a host that commits
 * what it receives and acks the highest contiguous seq per boot (counting seqs a DROP record names
 * lost as resolved, and seqs below the log's low-water mark). Pure TypeScript, so the same scenarios
 * run in XS.
 *
 * Faults, as hardware makes them (issue 10):
 *  - power cuts during any program or erase, left not done, done, half done (random bits), torn in
 *    order (the boundary word's bits a random subset) or, for an erase, a prefix or a suffix erased;
 *    with reordered (unsynced) writes landing in part;
 *  - a second cut within the first operations of the recovery after a reboot;
 *  - single-bit flips at rest anywhere on the chip;
 *  - payloads that embed images of valid records (so a reader that resynchronises on any valid-looking
 *    record hands over records that were never appended);
 *  - hostile acks: beyond what was appended, NaN, negative, fractional, for unknown boots.
 *
 * Invariants checked after every reboot (`checkAfterReboot`):
 *  1. nothing that was never appended comes out, and nothing comes out altered;
 *  2. within one pass, the seqs of a boot never go backwards;
 *  3. every record whose append returned is still in the log, or was committed, or is named lost by a
 *     DROP record's ranges. Only when a DROP record said it could not name them all (`more`) may a
 *     loss be covered by the low-water mark instead. A hostile ack may free what it covered, never a
 *     record appended after it;
 *  4. the DROP records' counts (one per dropped sector) add up to every record lost;
 *  5. after a full drain and ack, nothing counts as unsent (`stats().used` is 0);
 *  6. the log still takes appends and hands them over.
 * Duplicates (records committed before the cut and sent again) are counted, not refused: the host
 * drops them by (gateway, boot, seq); `docs/vitals-log.md` states their bound.
 */
import { toHex } from '../../firmware/core/hex.js';
import { decodeDrop, openLog, type Flash, type VitalsLog } from '../../firmware/core/log/index.js';
import { encodeRecord, RecordType } from '../../firmware/core/log/format.js';
import { applyCut, NorFlash, type CutOutcome, type FlashOp } from '../../firmware/platform/node/nor-flash.js';
import { mulberry32 } from '../../simulator/line.js';

/** How a log is opened: the real `openLog`, or a mutant of it (test/unit/vitals-log-mutants.test.ts). */
export type LogFactory = (flash: Flash, bootId: Uint8Array) => VitalsLog;

export interface HostBoot {
  through: number;
  pending: Set<number>;
  /** Seqs below this are committed or lost (the log's low-water mark). */
  lowWater: number;
}

/** What a fork needs to carry: small, because what only grows is kept as prefix lengths. */
interface ModelState {
  appendedLen: number;
  host: Map<string, HostBoot>;
  dropRanges: Array<{ boot: string; first: number; last: number }>;
  bootNo: number;
  appends: number;
  lowBoot: number;
  dropCounts: Map<string, number>;
  more: boolean;
  hostile: Map<string, number>;
  inFlight: string | undefined;
}

/**
 * A payload: deterministic bytes, or (adversarial) bytes that embed complete, valid record images at
 * every word offset the flash could see as a record start, each claiming a seq and a payload of its own.
 */
export function payloadFor(boot: number, seq: number, size: number, adversarial = false): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (boot * 131 + seq * 31 + i * 7) & 0xff;
  if (adversarial) {
    const fake = encodeRecord(RecordType.data, 7 + (seq % 5), Uint8Array.of(0xde, 0xad, 0xbe, 0xef, boot & 0xff, seq & 0xff));
    for (let at = 4; at + fake.length <= size; at += fake.length + 4) out.set(fake, at);
  }
  return out;
}

export function bootIdFor(n: number): Uint8Array {
  return Uint8Array.from({ length: 16 }, (_, i) => (n * 37 + i * 11 + 1) & 0xff);
}

/** The boot number behind a boot id made by bootIdFor (its first byte is n * 37 + 1 mod 256). */
const bootNumbers = new Map<string, number>();
function bootNumber(hex: string): number {
  if (bootNumbers.size === 0) for (let n = 1; n < 4096; n++) bootNumbers.set(toHex(bootIdFor(n)), n);
  return bootNumbers.get(hex) ?? 0;
}

export class Violation extends Error {
  override readonly name = 'Violation';
}

export interface WorldOptions {
  readonly factory?: LogFactory;
  /** Every few payloads embed record images. */
  readonly adversarial?: boolean;
}

export class LogWorld {
  log!: VitalsLog;
  /** Every record whose append returned: "bootHex:seq" → payload hex. Append-only. */
  readonly appended: Array<{ key: string; hex: string }> = [];
  private readonly appendedIndex = new Map<string, string>();
  host = new Map<string, HostBoot>();
  dropRanges: Array<{ boot: string; first: number; last: number }> = [];
  /** Each DROP record's count, by the dropped sector it names (or by its own key). */
  dropCounts = new Map<string, number>();
  /** Some DROP record could not name every range it lost. */
  more = false;
  /** Per boot: the highest seq a hostile ack may have freed (clamped to what was appended then). */
  hostile = new Map<string, number>();
  bootNo = 0;
  appends = 0;
  inFlight: { key: string; hex: string } | undefined;
  inFlightAtCut: { key: string; hex: string } | undefined;
  delivered = 0;
  /** Records received again after the host had committed them. */
  duplicates = 0;
  /** Boots the host has seen the low-water mark move past entirely (by boot number). */
  lowBoot = 0;
  readonly factory: LogFactory;
  readonly adversarial: boolean;

  constructor(
    readonly flash: NorFlash,
    options: WorldOptions = {},
  ) {
    this.factory = options.factory ?? openLog;
    this.adversarial = options.adversarial ?? false;
  }

  boot(): void {
    this.bootNo++;
    this.log = this.factory(this.flash, bootIdFor(this.bootNo));
  }

  append(size: number, sentLive = false): boolean {
    const bootHex = toHex(this.log.bootId);
    const n = this.appends++;
    const payload = payloadFor(this.bootNo, n, size, this.adversarial && n % 3 === 0);
    // the seq is the log's to give (a DROP record may take one first), so the record being written
    // when the power fails is recognised by its payload
    this.inFlight = { key: `${bootHex}:?`, hex: toHex(payload) };
    const r = this.log.append(payload, sentLive);
    this.inFlight = undefined;
    if (!r.ok) throw new Violation(`append refused: ${r.detail}`);
    const key = `${bootHex}:${r.seq}`;
    this.appended.push({ key, hex: toHex(payload) });
    this.appendedIndex.set(key, toHex(payload));
    if (sentLive) this.receive(this.log.bootId, r.seq, 'data', payload);
    return true;
  }

  /** Hands up to `n` records to the host; the host commits and acks. Returns how many were handed over. */
  drain(n: number): number {
    const lastSeq = new Map<string, number>();
    let count = 0;
    for (; count < n; count++) {
      const r = this.log.next();
      if (r === undefined) break;
      const boot = toHex(r.bootId);
      const prev = lastSeq.get(boot);
      if (prev !== undefined && r.seq <= prev) throw new Violation(`seq went backwards in boot ${boot.slice(0, 8)}: ${r.seq} after ${prev}`);
      lastSeq.set(boot, r.seq);
      this.receive(r.bootId, r.seq, r.kind, r.payload, r.lowWater);
    }
    this.ackAll();
    return count;
  }

  /**
   * An ack the host never sent: for the current boot or an older one, `through` anything. The model
   * lets it free what it covered among records appended so far, nothing appended later.
   */
  hostileAck(bootNo: number, through: number): void {
    const boot = toHex(bootIdFor(bootNo));
    if (Number.isSafeInteger(through) && through >= 0) {
      let last = -1;
      for (const a of this.appended) if (a.key.startsWith(`${boot}:`)) last = Math.max(last, Number(a.key.slice(boot.length + 1)));
      const covered = Math.min(through, last);
      this.hostile.set(boot, Math.max(this.hostile.get(boot) ?? -1, covered));
    }
    this.log.ack(bootIdFor(bootNo), through);
  }

  receive(bootId: Uint8Array, seq: number, kind: 'data' | 'drop', payload: Uint8Array, lowWater?: { bootId: Uint8Array; seq: number }): void {
    if (lowWater !== undefined) {
      const lb = toHex(lowWater.bootId);
      const hb = this.hostBoot(lb);
      hb.lowWater = Math.max(hb.lowWater, lowWater.seq);
      this.settle(hb);
      this.lowBoot = Math.max(this.lowBoot, bootNumber(lb));
    }
    const boot = toHex(bootId);
    const key = `${boot}:${seq}`;
    if (kind === 'data') {
      const expected = this.appendedIndex.get(key);
      const cutMidAppend = this.inFlightAtCut !== undefined && this.inFlightAtCut.key === `${boot}:?` && this.inFlightAtCut.hex === toHex(payload);
      if (expected === undefined && !cutMidAppend) throw new Violation(`record ${boot.slice(0, 8)}…:${seq} was never appended (payload ${toHex(payload.subarray(0, 12))}…)`);
      if (expected !== undefined && expected !== toHex(payload)) throw new Violation(`record ${boot.slice(0, 8)}…:${seq} came back altered`);
    } else {
      const d = decodeDrop(payload);
      if (d === undefined) throw new Violation(`a DROP record ${key} does not decode`);
      // one count per dropped sector: a DROP written again after a power cut names the same sector
      const sector = (d as { sector?: number }).sector;
      this.dropCounts.set(sector === undefined ? key : `sector:${sector}`, d.dropped);
      this.more ||= d.more;
      for (const g of d.ranges) {
        this.dropRanges.push({ boot: toHex(g.bootId), first: g.first, last: g.last });
        const hb = this.hostBoot(toHex(g.bootId));
        for (let s = g.first; s <= g.last; s++) hb.pending.add(s);
        this.settle(hb);
      }
    }
    this.delivered++;
    const hb = this.hostBoot(boot);
    if (seq <= hb.through || hb.pending.has(seq)) this.duplicates++;
    hb.pending.add(seq);
    this.settle(hb);
  }

  private hostBoot(boot: string): HostBoot {
    let hb = this.host.get(boot);
    if (hb === undefined) {
      hb = { through: -1, pending: new Set(), lowWater: 0 };
      this.host.set(boot, hb);
    }
    return hb;
  }

  private settle(hb: HostBoot): void {
    while (hb.pending.has(hb.through + 1) || hb.through + 1 < hb.lowWater) hb.pending.delete(++hb.through);
  }

  ackAll(): void {
    for (const [boot, hb] of this.host) if (hb.through >= 0) this.log.ack(hexBytes(boot), hb.through);
  }

  snapshot(): ModelState {
    return {
      appendedLen: this.appended.length,
      host: new Map([...this.host].map(([k, v]) => [k, { through: v.through, pending: new Set(v.pending), lowWater: v.lowWater }])),
      lowBoot: this.lowBoot,
      dropCounts: new Map(this.dropCounts),
      dropRanges: [...this.dropRanges],
      more: this.more,
      hostile: new Map(this.hostile),
      bootNo: this.bootNo,
      appends: this.appends,
      inFlight: this.inFlight === undefined ? undefined : JSON.stringify(this.inFlight),
    };
  }

  /** A world whose flash is `image` and whose model is `state`: the gateway just lost power. */
  static restore(source: LogWorld, image: Uint8Array, state: ModelState, sectors: number): LogWorld {
    const w = new LogWorld(new NorFlash({ sectors, sectorSize: source.flash.sectorSize, writeUnit: source.flash.writeUnit, image }), { factory: source.factory, adversarial: source.adversarial });
    for (const a of source.appended.slice(0, state.appendedLen)) {
      w.appended.push(a);
      w.appendedIndex.set(a.key, a.hex);
    }
    w.host = state.host;
    w.dropRanges = state.dropRanges;
    w.bootNo = state.bootNo;
    w.appends = state.appends;
    w.lowBoot = state.lowBoot;
    w.dropCounts = state.dropCounts;
    w.more = state.more;
    w.hostile = state.hostile;
    w.inFlightAtCut = state.inFlight === undefined ? undefined : (JSON.parse(state.inFlight) as { key: string; hex: string });
    return w;
  }

  /** After a reboot: drain everything, then check that every appended record is accounted for. */
  checkAfterReboot(): { lost: number; duplicates: number } {
    const hostBefore = new Map([...this.host].map(([k, v]) => [k, v.through]));
    const duplicatesBefore = this.duplicates;
    const seen = new Set<string>();
    const lastSeq = new Map<string, number>();
    for (;;) {
      const r = this.log.next();
      if (r === undefined) break;
      const boot = toHex(r.bootId);
      const prev = lastSeq.get(boot);
      if (prev !== undefined && r.seq <= prev) throw new Violation(`seq went backwards in boot ${boot.slice(0, 8)}: ${r.seq} after ${prev}`);
      lastSeq.set(boot, r.seq);
      seen.add(`${boot}:${r.seq}`);
      this.receive(r.bootId, r.seq, r.kind, r.payload, r.lowWater);
      if (seen.size > 100_000) throw new Violation('the drain does not end');
    }
    this.ackAll();
    let lost = 0;
    for (const { key } of this.appended) {
      if (seen.has(key)) continue;
      const [boot, seqText] = key.split(':') as [string, string];
      const seq = Number(seqText);
      if ((hostBefore.get(boot) ?? -1) >= seq) continue; // committed before the cut
      if ((this.hostile.get(boot) ?? -1) >= seq) continue; // freed by an ack that covered it
      lost++;
      if (this.dropRanges.some((d) => d.boot === boot && d.first <= seq && seq <= d.last)) continue; // named lost
      // a DROP record that could not name all its ranges said so; then the low-water mark tells the host
      if (this.more && (seq < (this.host.get(boot)?.lowWater ?? 0) || bootNumber(boot) < this.lowBoot)) continue;
      throw new Violation(`record ${boot.slice(0, 8)}…:${seq} was appended but is neither in the log, nor committed, nor named lost by a DROP record`);
    }
    const reported = [...this.dropCounts.values()].reduce((a, b) => a + b, 0);
    if (reported < lost) throw new Violation(`${lost} records were lost but DROP records report only ${reported}`);
    const used = this.log.stats().used;
    if (used !== 0) throw new Violation(`after a full drain and ack the log still counts ${used} bytes as unsent`);
    // the log still works
    for (let i = 0; i < 3; i++) this.append(60 + i);
    if (this.drain(1000) < 3) throw new Violation('appends after the reboot did not come out');
    return { lost, duplicates: this.duplicates - duplicatesBefore };
  }
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The project's seeded generator (simulator/line.ts), under the name the harness uses. */
export const rng = mulberry32;

export type Step =
  | { op: 'append'; size: number; live: boolean }
  | { op: 'drain'; n: number }
  | { op: 'reboot' }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'hostile-ack'; back: number; through: number };

/**
 * A scenario of `appends` appends with drains and acks, outages (no drains, so the log fills and
 * drops), live sends and clean reboots.
 */
export function scenario(seed: number, appends: number): Step[] {
  const r = rng(seed);
  const steps: Step[] = [];
  let outage = false;
  for (let i = 0; i < appends; i++) {
    if (r() < 0.01) outage = !outage;
    steps.push({ op: 'append', size: 40 + Math.floor(r() * 160), live: !outage && r() < 0.5 });
    if (!outage && r() < 0.3) steps.push({ op: 'drain', n: 1 + Math.floor(r() * 6) });
    if (r() < 0.004) steps.push({ op: 'reboot' });
  }
  steps.push({ op: 'drain', n: 1_000_000 });
  return steps;
}

export function run(world: LogWorld, steps: readonly Step[]): void {
  for (const s of steps) {
    if (s.op === 'append') world.append(s.size, s.live);
    else if (s.op === 'drain') world.drain(s.n);
    else if (s.op === 'reboot') world.boot();
    else if (s.op === 'flip') world.flash.flipBit(s.at % world.flash.byteLength, s.bit);
    else world.hostileAck(Math.max(1, world.bootNo - s.back), s.through);
  }
}

export interface SweepReport {
  readonly operations: number;
  readonly cuts: number;
  readonly wraps: number;
  readonly drops: number;
  readonly failures: string[];
  /** The most records sent again after one reboot. */
  readonly maxDuplicates: number;
}

/**
 * Forks a world at a power cut: `image` is the chip as the cut left it. Boots it, optionally with a
 * second cut within the first `secondCut.within` operations of the recovery, and checks.
 */
function checkFork(world: LogWorld, image: Uint8Array, state: ModelState, sectors: number, secondCut?: { at: number; outcome: CutOutcome }): { duplicates: number } {
  const fork = LogWorld.restore(world, image, state, sectors);
  if (secondCut !== undefined) {
    fork.flash.cutAt(secondCut.at, secondCut.outcome);
    try {
      fork.boot();
      fork.flash.cancelCut(); // the recovery took fewer operations: no second cut
    } catch (e) {
      if (!fork.flash.poweredOff) throw e;
      fork.flash.powerOn();
      fork.boot();
    }
  } else {
    fork.boot();
  }
  return fork.checkAfterReboot();
}

/**
 * Runs the scenario once, and at every flash operation (every `stride`-th, from `offset`) forks the world
 * with the power failing during that operation, for each of `outcomes`, and checks the invariants.
 * With `secondCuts`, each fork also loses power again within the first operations of its recovery.
 */
export function powerCutSweep(opts: {
  seed: number;
  appends: number;
  sectors: number;
  /** Outcomes tried at each cut point: all of them, or with `rotate` one per point, in turn. */
  outcomes: readonly CutOutcome[];
  rotate?: boolean;
  stride?: number;
  offset?: number;
  writeUnit?: number;
  adversarial?: boolean;
  secondCuts?: boolean;
  factory?: LogFactory;
}): SweepReport {
  const steps = scenario(opts.seed, opts.appends);
  const flash = new NorFlash({ sectors: opts.sectors, writeUnit: opts.writeUnit ?? 4 });
  const world = new LogWorld(flash, { factory: opts.factory, adversarial: opts.adversarial });
  const failures: string[] = [];
  const random = rng(opts.seed ^ 0x5eed);
  let cuts = 0;
  let maxDuplicates = 0;
  flash.onOp = (index, op) => {
    if (index % (opts.stride ?? 1) !== (opts.offset ?? 0)) return;
    const state = world.snapshot();
    const outcomes = opts.rotate ? [opts.outcomes[index % opts.outcomes.length]!] : opts.outcomes;
    for (const outcome of outcomes) {
      const image = flash.image.slice();
      applyCut(image, flash.sectorSize, op, outcome, random);
      cuts++;
      try {
        const second = opts.secondCuts ? { at: Math.floor(random() * 4), outcome: opts.outcomes[Math.floor(random() * opts.outcomes.length)]! } : undefined;
        const r = checkFork(world, image, state, opts.sectors, second);
        maxDuplicates = Math.max(maxDuplicates, r.duplicates);
      } catch (e) {
        if (failures.length < 10) failures.push(`cut at op ${index} (${describe(op)}, ${outcome}): ${String(e)}`);
      }
    }
  };
  world.boot();
  run(world, steps);
  flash.onOp = undefined;
  const erases = flash.eraseCounts.reduce((a, b) => a + b, 0);
  return { operations: flash.opCount, cuts, wraps: Math.floor(erases / opts.sectors), drops: world.dropRanges.length, failures, maxDuplicates };
}

function describe(op: FlashOp): string {
  return op.kind === 'write' ? `write ${op.data.length} B at ${op.offset}` : `erase sector ${op.sector}`;
}

/**
 * The exhaustive short scenario with the emulator's own power cut: for every operation, every outcome,
 * and (with `reorder`) unsynced writes landing in part. Re-runs the scenario from the start each time.
 */
export function exhaustiveCuts(opts: { seed: number; appends: number; sectors: number; reorder: boolean; outcomes: readonly CutOutcome[]; factory?: LogFactory }): SweepReport {
  const steps = scenario(opts.seed, opts.appends);
  const clean = new LogWorld(new NorFlash({ sectors: opts.sectors }), { factory: opts.factory });
  clean.boot();
  run(clean, steps);
  const operations = clean.flash.opCount;
  const failures: string[] = [];
  let cuts = 0;
  let maxDuplicates = 0;
  for (let at = 0; at < operations; at++) {
    for (const outcome of opts.outcomes) {
      const flash = new NorFlash({ sectors: opts.sectors, reorder: opts.reorder, seed: opts.seed * 7919 + at });
      const world = new LogWorld(flash, { factory: opts.factory });
      cuts++;
      try {
        world.boot();
        flash.cutAt(at, outcome);
        try {
          run(world, steps);
        } catch (e) {
          if (!flash.poweredOff) throw e;
        }
        if (!flash.poweredOff) throw new Violation(`no power cut happened at operation ${at}`);
        flash.powerOn();
        world.inFlightAtCut = world.inFlight;
        world.boot();
        maxDuplicates = Math.max(maxDuplicates, world.checkAfterReboot().duplicates);
      } catch (e) {
        if (failures.length < 10) failures.push(`cut at op ${at} (${outcome}${opts.reorder ? ', reordered' : ''}): ${String(e)}`);
      }
    }
  }
  return { operations, cuts, wraps: Math.floor(clean.flash.eraseCounts.reduce((a, b) => a + b, 0) / opts.sectors), drops: clean.dropRanges.length, failures, maxDuplicates };
}

export interface CampaignReport {
  readonly scenarios: number;
  readonly cuts: number;
  readonly flips: number;
  readonly hostileAcks: number;
  readonly failures: string[];
  readonly maxDuplicates: number;
}

/**
 * Random fault scenarios: each a short random workload on a small ring (3 to 6 sectors, write units of
 * 4 or 16 bytes, some adversarial payloads) with, at a random point, one fault: a power cut with a
 * random outcome (and, half the time, a second cut within the first operations of the recovery), a
 * single bit flipped at rest anywhere on the chip, or hostile acks; then a reboot and every invariant.
 * A flip must lose nothing: one flipped bit is corrected wherever it lands.
 */
export function faultCampaign(opts: { seed: number; scenarios: number; factory?: LogFactory }): CampaignReport {
  const r = rng(opts.seed);
  const failures: string[] = [];
  let cuts = 0;
  let flips = 0;
  let hostileAcks = 0;
  let maxDuplicates = 0;
  for (let n = 0; n < opts.scenarios; n++) {
    const sectors = 3 + Math.floor(r() * 4);
    const writeUnit = r() < 0.25 ? 16 : 4;
    const adversarial = r() < 0.5;
    const appends = 20 + Math.floor(r() * 80);
    const steps = scenario(Math.floor(r() * 2 ** 31), appends);
    const fault = r();
    const label = `scenario ${n} (${sectors} sectors, unit ${writeUnit}${adversarial ? ', adversarial' : ''}, ${appends} appends)`;
    try {
      const flash = new NorFlash({ sectors, writeUnit });
      const world = new LogWorld(flash, { factory: opts.factory, adversarial });
      world.boot();
      if (fault < 0.55) {
        // a power cut at a random operation, with a random outcome; half the time a second one in recovery
        const probe = new LogWorld(new NorFlash({ sectors, writeUnit }), { factory: opts.factory, adversarial });
        probe.boot();
        run(probe, steps);
        const at = Math.floor(r() * probe.flash.opCount);
        const outcome = (['not-done', 'done', 'half', 'torn', 'torn-suffix'] as const)[Math.floor(r() * 5)]!;
        const second = r() < 0.5 ? { at: Math.floor(r() * 4), outcome: (['not-done', 'done', 'half', 'torn', 'torn-suffix'] as const)[Math.floor(r() * 5)]! } : undefined;
        let result: { duplicates: number } | undefined;
        flash.onOp = (index, op) => {
          if (index !== at) return;
          const image = flash.image.slice();
          applyCut(image, flash.sectorSize, op, outcome, r);
          cuts++;
          result = checkFork(world, image, world.snapshot(), sectors, second);
        };
        run(world, steps);
        if (result !== undefined) maxDuplicates = Math.max(maxDuplicates, result.duplicates);
      } else if (fault < 0.85) {
        // one bit flipped at rest somewhere on the chip, part-way through, and the world runs on
        const cut = Math.floor(r() * steps.length);
        run(world, steps.slice(0, cut));
        world.flash.flipBit(Math.floor(r() * flash.byteLength), Math.floor(r() * 8));
        flips++;
        run(world, steps.slice(cut));
        if (r() < 0.5) world.boot();
        world.checkAfterReboot();
      } else {
        // hostile acks interleaved with the workload
        const hostile: Step[] = [];
        for (const s of steps) {
          hostile.push(s);
          if (r() < 0.1) {
            const choices = [NaN, -1, 0.5, Infinity, 2 ** 53, 2 ** 32, Math.floor(r() * 400), Math.floor(r() * 20)];
            hostile.push({ op: 'hostile-ack', back: Math.floor(r() * 2), through: choices[Math.floor(r() * choices.length)]! });
            hostileAcks++;
          }
        }
        run(world, hostile);
        world.boot();
        world.checkAfterReboot();
      }
    } catch (e) {
      if (failures.length < 10) failures.push(`${label}: ${String(e)}`);
    }
  }
  return { scenarios: opts.scenarios, cuts, flips, hostileAcks, failures, maxDuplicates };
}
