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
