/**
 * A simulated serial line for the device link: bytes can be lost, corrupted and duplicated, like a
 * UART with a 128-byte FIFO and no flow control while JS is paused. Pure, so it runs in XS too.
 */
export interface LineFaults {
  /** Probability that a byte is lost. */
  readonly loss: number;
  /** Probability that a byte arrives with one bit flipped. */
  readonly corrupt: number;
  /** Probability that a byte arrives twice. */
  readonly duplicate: number;
}

export const CLEAN_LINE: LineFaults = { loss: 0, corrupt: 0, duplicate: 0 };

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Line {
  /** What arrives at the far end when `bytes` are sent. */
  pass(bytes: Uint8Array): Uint8Array;
  faults: LineFaults;
  readonly stats: { sent: number; lost: number; corrupted: number; duplicated: number };
}

export function createLine(faults: LineFaults, seed: number): Line {
  const random = mulberry32(seed);
  const stats = { sent: 0, lost: 0, corrupted: 0, duplicated: 0 };
  return {
    faults,
    stats,
    pass(bytes) {
      const out: number[] = [];
      for (const b of bytes) {
        stats.sent++;
        if (random() < this.faults.loss) {
          stats.lost++;
          continue;
        }
        let x = b;
        if (random() < this.faults.corrupt) {
          x ^= 1 << Math.floor(random() * 8);
          stats.corrupted++;
        }
        out.push(x);
        if (random() < this.faults.duplicate) {
          out.push(x);
          stats.duplicated++;
        }
      }
      return Uint8Array.from(out);
    },
  };
}
