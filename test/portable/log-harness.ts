/**
 * A world for testing the vitals log: a gateway's log on emulated NOR flash, and a host that commits
 * what it receives and acks the highest contiguous seq per boot (counting seqs a DROP record reports
 * lost as resolved). Pure TypeScript, so the same scenarios run in XS.
 *
 * The power-loss checks fork the world at a flash operation: the flash image as it is before the
 * operation, the operation applied not at all, fully or half, then a reboot, a full drain, and the
 * invariants:
 *  1. every record whose append returned is still in the log, or was committed, or lies in a range a
 *     DROP record reported lost;
 *  2. no corrupt record is ever returned: every record read back equals what was appended;
 *  3. within one pass, seqs of a boot never go backwards;
 *  4. after the reboot, only records that were appended (or the one being appended at the cut) come
 *     back: duplicates of what was sent, never anything new or altered;
 *  5. the log still takes appends and hands them over.
 */
import { toHex } from '../../firmware/core/hex.js';
import { decodeDrop, openLog, type VitalsLog } from '../../firmware/core/log/index.js';
import { NorFlash, type CutOutcome, type FlashOp } from '../../firmware/platform/node/nor-flash.js';
import { mulberry32 } from '../../simulator/line.js';

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
  lowBoot: number;
  dropCounts: Map<string, number>;
  inFlight: string | undefined;
}

export function payloadFor(boot: number, seq: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (boot * 131 + seq * 31 + i * 7) & 0xff;
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

export class LogWorld {
  log!: VitalsLog;
  /** Every record whose append returned: "bootHex:seq" → payload hex. Append-only. */
  readonly appended: Array<{ key: string; hex: string }> = [];
  private readonly appendedIndex = new Map<string, string>();
  host = new Map<string, HostBoot>();
  dropRanges: Array<{ boot: string; first: number; last: number }> = [];
  bootNo = 0;
  inFlight: { key: string; hex: string } | undefined;
  delivered = 0;

  constructor(readonly flash: NorFlash) {}

  boot(): void {
    this.bootNo++;
    this.log = openLog(this.flash, bootIdFor(this.bootNo));
  }

  private appends = 0;

  append(size: number, sentLive = false): boolean {
    const bootHex = toHex(this.log.bootId);
    const payload = payloadFor(this.bootNo, this.appends++, size);
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

  /** What each DROP record the host received says was lost, by the record's (boot, seq). */
  dropCounts = new Map<string, number>();

  /** Boots the host has seen the low-water mark move past entirely (by boot number). */
  lowBoot = 0;

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
      if (expected === undefined && !cutMidAppend) throw new Violation(`record ${boot.slice(0, 8)}…:${seq} was never appended`);
      if (expected !== undefined && expected !== toHex(payload)) throw new Violation(`record ${boot.slice(0, 8)}…:${seq} came back altered`);
    } else {
      const d = decodeDrop(payload);
      if (d === undefined) throw new Violation(`a DROP record ${key} does not decode`);
      this.dropCounts.set(key, d.dropped);
      for (const g of d.ranges) {
        this.dropRanges.push({ boot: toHex(g.bootId), first: g.first, last: g.last });
        const hb = this.hostBoot(toHex(g.bootId));
        for (let s = g.first; s <= g.last; s++) hb.pending.add(s);
        this.settle(hb);
      }
    }
    this.delivered++;
    const hb = this.hostBoot(boot);
    hb.pending.add(seq);
    this.settle(hb);
  }

  inFlightAtCut: { key: string; hex: string } | undefined;

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
      bootNo: this.bootNo,
      inFlight: this.inFlight === undefined ? undefined : JSON.stringify(this.inFlight),
    };
  }

  /** A world whose flash is `image` and whose model is `state`: the gateway just lost power. */
  static restore(source: LogWorld, image: Uint8Array, state: ModelState, sectors: number): LogWorld {
    const w = new LogWorld(new NorFlash({ sectors, sectorSize: source.flash.sectorSize, image }));
    for (const a of source.appended.slice(0, state.appendedLen)) {
      w.appended.push(a);
      w.appendedIndex.set(a.key, a.hex);
    }
    w.host = state.host;
    w.dropRanges = state.dropRanges;
    w.bootNo = state.bootNo;
    w.lowBoot = state.lowBoot;
    w.dropCounts = state.dropCounts;
    w.inFlightAtCut = state.inFlight === undefined ? undefined : (JSON.parse(state.inFlight) as { key: string; hex: string });
    return w;
  }

  /** After a reboot: drain everything, then check that every appended record is accounted for. */
  checkAfterReboot(): void {
    const hostBefore = new Map([...this.host].map(([k, v]) => [k, v.through]));
    const seen = new Set<string>();
    for (;;) {
      const r = this.log.next();
      if (r === undefined) break;
      seen.add(`${toHex(r.bootId)}:${r.seq}`);
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
      lost++;
      if (this.dropRanges.some((d) => d.boot === boot && d.first <= seq && seq <= d.last)) continue; // reported lost
      if (seq < (this.host.get(boot)?.lowWater ?? 0) || bootNumber(boot) < this.lowBoot) continue; // below the low-water mark: the host knows it is gone
      throw new Violation(`record ${boot.slice(0, 8)}…:${seq} was appended but is neither in the log, nor committed, nor reported dropped`);
    }
    // the DROP records' counts add up to at least every record lost (a re-drop after a power cut may count twice)
    const reported = [...this.dropCounts.values()].reduce((a, b) => a + b, 0);
    if (reported < lost) throw new Violation(`${lost} records were lost but DROP records report only ${reported}`);
    // 5: the log still works
    for (let i = 0; i < 3; i++) this.append(60 + i);
    if (this.drain(1000) < 3) throw new Violation('appends after the reboot did not come out');
  }
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The project's seeded generator (simulator/line.ts), under the name the harness uses. */
export const rng = mulberry32;

export type Step = { op: 'append'; size: number; live: boolean } | { op: 'drain'; n: number } | { op: 'reboot' };

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
    else world.boot();
  }
}

function applyOutcome(image: Uint8Array, sectorSize: number, op: FlashOp, outcome: CutOutcome, random: () => number): void {
  if (outcome === 'not-done') return;
  if (op.kind === 'write') {
    for (let i = 0; i < op.data.length; i++) {
      const bits = outcome === 'done' ? op.data[i]! : op.data[i]! | Math.floor(random() * 256);
      image[op.offset + i] = image[op.offset + i]! & bits;
    }
  } else {
    const start = op.sector * sectorSize;
    for (let i = 0; i < sectorSize; i++) if (outcome === 'done' || random() < 0.5) image[start + i] = 0xff;
  }
}

export interface SweepReport {
  readonly operations: number;
  readonly cuts: number;
  readonly wraps: number;
  readonly drops: number;
  readonly failures: string[];
}

/**
 * Runs the scenario once, and at every flash operation (every `stride`-th, from `offset`) forks the world
 * with the power failing during that operation, for each of `outcomes`, and checks the invariants.
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
}): SweepReport {
  const steps = scenario(opts.seed, opts.appends);
  const flash = new NorFlash({ sectors: opts.sectors });
  const world = new LogWorld(flash);
  const failures: string[] = [];
  const random = rng(opts.seed ^ 0x5eed);
  let cuts = 0;
  flash.onOp = (index, op) => {
    if (index % (opts.stride ?? 1) !== (opts.offset ?? 0)) return;
    const state = world.snapshot();
    const outcomes = opts.rotate ? [opts.outcomes[index % opts.outcomes.length]!] : opts.outcomes;
    for (const outcome of outcomes) {
      const image = flash.image.slice();
      applyOutcome(image, flash.sectorSize, op, outcome, random);
      cuts++;
      try {
        const fork = LogWorld.restore(world, image, state, opts.sectors);
        fork.boot();
        fork.checkAfterReboot();
      } catch (e) {
        if (failures.length < 10) failures.push(`cut at op ${index} (${op.kind}, ${outcome}): ${String(e)}`);
      }
    }
  };
  world.boot();
  run(world, steps);
  flash.onOp = undefined;
  const erases = flash.eraseCounts.reduce((a, b) => a + b, 0);
  return { operations: flash.opCount, cuts, wraps: Math.floor(erases / opts.sectors), drops: world.dropRanges.length, failures };
}

/**
 * The exhaustive short scenario with the emulator's own power cut: for every operation, every outcome,
 * and (with `reorder`) unsynced writes landing in part. Re-runs the scenario from the start each time.
 */
export function exhaustiveCuts(opts: { seed: number; appends: number; sectors: number; reorder: boolean; outcomes: readonly CutOutcome[] }): SweepReport {
  const steps = scenario(opts.seed, opts.appends);
  const clean = new LogWorld(new NorFlash({ sectors: opts.sectors }));
  clean.boot();
  run(clean, steps);
  const operations = clean.flash.opCount;
  const failures: string[] = [];
  let cuts = 0;
  for (let at = 0; at < operations; at++) {
    for (const outcome of opts.outcomes) {
      const flash = new NorFlash({ sectors: opts.sectors, reorder: opts.reorder, seed: opts.seed * 7919 + at });
      const world = new LogWorld(flash);
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
        world.checkAfterReboot();
      } catch (e) {
        if (failures.length < 10) failures.push(`cut at op ${at} (${outcome}${opts.reorder ? ', reordered' : ''}): ${String(e)}`);
      }
    }
  }
  return { operations, cuts, wraps: Math.floor(clean.flash.eraseCounts.reduce((a, b) => a + b, 0) / opts.sectors), drops: clean.dropRanges.length, failures };
}
