/**
 * A faithful NOR flash emulator for the simulator and the tests: erase to 0xFF, writes that can only
 * clear bits, aligned write units, an erase count per sector, and power cuts.
 *
 * Pure TypeScript with no Node APIs, so the same emulator runs in XS; `file-flash.ts` adds a file
 * behind it for simulated gateways that keep their log across restarts.
 *
 * Power cuts (littlefs / MCUboot style): `cutAt(n, outcome)` makes the n-th program or erase from now
 * the one the power fails during. Outcomes (`applyCut`, also used by the test harness on images):
 *  - 'not-done' / 'done';
 *  - 'half': a random subset of the operation's bits programmed (a page program cut short: every cell
 *    part-way); for an erase, a random subset of bytes erased;
 *  - 'torn': the operation ran in order and stopped: a program's words before the boundary word done,
 *    the boundary word's bits a random subset, the rest untouched; an erase's bytes before a random
 *    point erased, the rest untouched;
 *  - 'torn-suffix': an erase that reached only the end of the sector (a program is 'torn').
 * Every later operation throws FlashError('power-cut') until `powerOn()`. With `reorder: true`, writes
 * stay pending until `sync()`, and a power cut applies a random subset of the pending writes, in any
 * order, like SQLite's crash tests.
 */
import { FlashError, type Flash } from '../../core/log/flash.js';

export type CutOutcome = 'not-done' | 'done' | 'half' | 'torn' | 'torn-suffix';

export const CUT_OUTCOMES: readonly CutOutcome[] = ['not-done', 'done', 'half', 'torn', 'torn-suffix'];

/**
 * What a power cut during `op` leaves in `image` (sectorSize bytes a sector), with `random` deciding
 * which bits and where a torn operation stopped. Returns true when the operation counts as an erase
 * (for erase counters).
 */
export function applyCut(image: Uint8Array, sectorSize: number, op: FlashOp, outcome: CutOutcome, random: () => number): boolean {
  if (outcome === 'not-done') return false;
  const bits = () => Math.floor(random() * 256);
  if (op.kind === 'write') {
    const n = op.data.length;
    if (outcome === 'done') {
      for (let i = 0; i < n; i++) image[op.offset + i] = image[op.offset + i]! & op.data[i]!;
    } else if (outcome === 'half') {
      for (let i = 0; i < n; i++) image[op.offset + i] = image[op.offset + i]! & (op.data[i]! | bits());
    } else {
      // programmed word by word: the words before the boundary done, the boundary word's bits in part
      const boundary = Math.floor(random() * (n / 4)) * 4;
      for (let i = 0; i < boundary; i++) image[op.offset + i] = image[op.offset + i]! & op.data[i]!;
      for (let i = boundary; i < boundary + 4 && i < n; i++) image[op.offset + i] = image[op.offset + i]! & (op.data[i]! | bits());
    }
    return false;
  }
  const start = op.sector * sectorSize;
  if (outcome === 'done') image.fill(0xff, start, start + sectorSize);
  else if (outcome === 'half') {
    for (let i = 0; i < sectorSize; i++) if (random() < 0.5) image[start + i] = 0xff;
  } else {
    const point = Math.floor(random() * sectorSize);
    if (outcome === 'torn') image.fill(0xff, start, start + point);
    else image.fill(0xff, start + point, start + sectorSize);
  }
  return true;
}

export interface NorFlashOptions {
  readonly sectorSize?: number;
  readonly sectors: number;
  readonly writeUnit?: number;
  /** Hold writes until sync() and apply a random subset at a power cut. */
  readonly reorder?: boolean;
  /** Seed of the generator that decides half-done bits and reordering, for reproducible runs. */
  readonly seed?: number;
  /** Initial contents (a previous image); erased (0xFF) when absent. */
  readonly image?: Uint8Array;
  readonly eraseCounts?: Uint32Array;
}

export type FlashOp = { readonly kind: 'write'; readonly offset: number; readonly data: Uint8Array } | { readonly kind: 'erase'; readonly sector: number };

export class NorFlash implements Flash {
  readonly byteLength: number;
  readonly sectorSize: number;
  readonly writeUnit: number;
  /** What the chip holds. */
  readonly image: Uint8Array;
  readonly eraseCounts: Uint32Array;
  /** Program and erase operations so far (reads and syncs are not counted). */
  opCount = 0;
  private readonly reorder: boolean;
  private pending: Array<{ offset: number; data: Uint8Array }> = [];
  private cut: { at: number; outcome: CutOutcome } | undefined;
  private dead = false;
  private rng: number;
  /** Called before each program or erase, with its index; the power-cut sweeps hook in here. */
  onOp: ((index: number, op: FlashOp) => void) | undefined;

  constructor(options: NorFlashOptions) {
    this.sectorSize = options.sectorSize ?? 4096;
    this.writeUnit = options.writeUnit ?? 4;
    this.byteLength = this.sectorSize * options.sectors;
    this.image = options.image ? options.image.slice() : new Uint8Array(this.byteLength).fill(0xff);
    if (this.image.length !== this.byteLength) throw new RangeError(`expected an image of ${this.byteLength} bytes, got ${this.image.length}`);
    this.eraseCounts = options.eraseCounts ? options.eraseCounts.slice() : new Uint32Array(options.sectors);
    this.reorder = options.reorder ?? false;
    this.rng = (options.seed ?? 1) >>> 0 || 1;
  }

  /** The n-th program or erase from now (0 = the next one) fails with `outcome`. */
  cutAt(n: number, outcome: CutOutcome): void {
    this.cut = { at: this.opCount + n, outcome };
  }

  /** Withdraws a cut that `cutAt` set and that has not happened. */
  cancelCut(): void {
    this.cut = undefined;
  }

  /** Bit rot at rest: flips one bit of the chip's contents (byte `offset`, bit 0-7). */
  flipBit(offset: number, bit: number): void {
    this.range(offset, 1);
    this.image[offset] = this.image[offset]! ^ (1 << (bit & 7));
  }

  get poweredOff(): boolean {
    return this.dead;
  }

  /** Power comes back: pending writes are gone, the chip holds what it holds. */
  powerOn(): void {
    this.dead = false;
    this.pending = [];
    this.cut = undefined;
  }

  /** A power cut now, between operations: pending (unsynced) writes land in part, in any order. */
  powerCut(): void {
    this.applyPendingSubset();
    this.dead = true;
  }

  read(offset: number, length: number): Uint8Array {
    this.alive();
    this.range(offset, length);
    const out = this.image.slice(offset, offset + length);
    // read-your-writes: pending writes are visible to the running program
    for (const p of this.pending) {
      const from = Math.max(offset, p.offset);
      const to = Math.min(offset + length, p.offset + p.data.length);
      for (let i = from; i < to; i++) out[i - offset] = out[i - offset]! & p.data[i - p.offset]!;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    this.alive();
    this.range(offset, data.length);
    if (offset % this.writeUnit !== 0 || data.length % this.writeUnit !== 0) {
      throw new FlashError('misaligned', `writes are in ${this.writeUnit}-byte units: offset ${offset}, length ${data.length}`);
    }
    const op: FlashOp = { kind: 'write', offset, data };
    if (this.interrupted(op)) return;
    if (this.reorder) this.pending.push({ offset, data: data.slice() });
    else this.program(offset, data);
  }

  erase(sector: number): void {
    this.alive();
    if (!Number.isInteger(sector) || sector < 0 || sector * this.sectorSize >= this.byteLength) {
      throw new FlashError('out-of-range', `no sector ${sector} in ${this.byteLength / this.sectorSize}`);
    }
    const op: FlashOp = { kind: 'erase', sector };
    // an erase waits for earlier writes (the chip serialises them), so pending writes land first
    this.flushPending();
    if (this.interrupted(op)) return;
    this.image.fill(0xff, sector * this.sectorSize, (sector + 1) * this.sectorSize);
    this.eraseCounts[sector]!++;
  }

  sync(): void {
    this.alive();
    this.flushPending();
  }

  private program(offset: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.image[offset + i] = this.image[offset + i]! & data[i]!;
  }

  private flushPending(): void {
    for (const p of this.pending) this.program(p.offset, p.data);
    this.pending = [];
  }

  /** Counts the operation; when it is the one the power fails during, carries out the cut. */
  private interrupted(op: FlashOp): boolean {
    const index = this.opCount++;
    this.onOp?.(index, op);
    if (this.cut === undefined || index !== this.cut.at) return false;
    const outcome = this.cut.outcome;
    if (applyCut(this.image, this.sectorSize, op, outcome, () => this.random() / 4294967296) && op.kind === 'erase') this.eraseCounts[op.sector]!++;
    this.powerCut();
    throw new FlashError('power-cut', `power cut during ${op.kind} #${index} (${outcome})`);
  }

  private applyPendingSubset(): void {
    const pending = this.pending;
    this.pending = [];
    // a random subset, applied in a random order (the order does not matter for AND, the subset does)
    for (const p of pending) if (this.random() & 1) this.program(p.offset, p.data);
  }

  private alive(): void {
    if (this.dead) throw new FlashError('power-cut', 'the flash has no power');
  }

  private range(offset: number, length: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.byteLength) {
      throw new FlashError('out-of-range', `bytes ${offset}..${offset + length} are outside 0..${this.byteLength}`);
    }
  }

  /** mulberry32: deterministic per seed, with usable low bits. */
  private random(): number {
    this.rng = (this.rng + 0x6d2b79f5) >>> 0;
    let t = this.rng;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
}
