/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zlib and PNG use it. */

let table: Uint32Array | undefined; // 256 entries, built once on first use

function crcTable(): Uint32Array {
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  return table;
}

/** Continues a CRC over bytes[start, end). Begin with crc32Start, finish with crc32Finish. */
export function crc32Update(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = crcTable();
  let c = crc;
  for (let i = start; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

export const crc32Start = 0xffffffff;

export function crc32Finish(crc: number): number {
  return (crc ^ 0xffffffff) >>> 0;
}

export function crc32(bytes: Uint8Array): number {
  return crc32Finish(crc32Update(crc32Start, bytes));
}

let inverse: Uint8Array | undefined; // top byte of a table entry → its index (unique for CRC-32)

/**
 * Where one flipped bit lies, from a CRC-32 that does not match: CRC-32 is linear, so for a message
 * of `length` bytes, computed ⊕ stored depends only on the error pattern. A single flipped bit at byte
 * j, bit k gives Z^(length-1-j)(T[1 << k]), where T is the table and Z one zero byte through the
 * register; the search walks Z backwards from the syndrome, `length` steps at most, on the error path
 * only. Returns j * 8 + k; length * 8 + k when bit k of the stored CRC itself flipped; -1 when no single
 * bit explains the difference (two or more bits: CRC-32's Hamming distance of at least 4 at these
 * lengths means a 2- or 3-bit error is never taken for a 1-bit one).
 */
export function crc32LocateBit(length: number, computed: number, stored: number): number {
  const t = crcTable();
  const s = (computed ^ stored) >>> 0;
  if (s === 0) return -1;
  if ((s & (s - 1)) === 0) return length * 8 + 31 - Math.clz32(s);
  if (inverse === undefined) {
    inverse = new Uint8Array(256);
    for (let i = 0; i < 256; i++) inverse[t[i]! >>> 24] = i;
  }
  let v = s;
  for (let j = length - 1; j >= 0; j--) {
    for (let k = 0; k < 8; k++) if (v === t[1 << k]) return j * 8 + k;
    // Z^-1: the register before one zero byte went through it
    const i = inverse[v >>> 24]!;
    v = (((v ^ t[i]!) << 8) | i) >>> 0;
  }
  return -1;
}

/** Flips bit `index` (byte index >> 3, bit index & 7) of `bytes`, in place. */
export function flipBit(bytes: Uint8Array, index: number): void {
  bytes[index >> 3] = bytes[index >> 3]! ^ (1 << (index & 7));
}
