/**
 * The ring of sectors as the boot scan finds it: which sector is the newest, which older ones still
 * hold records the host has not committed, and which cannot be read. Reads every sector's header once
 * (SECTOR_HEADER bytes each), nothing else.
 *
 * Sectors are opened in ring order with consecutive generations, one sector always kept erased ahead
 * of the newest (the spare), so the sectors from the newest backwards hold consecutive generations
 * down to the last one marked freed. Generations are compared with serial-number arithmetic
 * (RFC 1982), so the ring keeps its order when they pass 2^32.
 */
import type { Flash } from './flash.js';
import { decodeSectorHeader, SECTOR_HEADER, type SectorHeader } from './format.js';
import type { Geometry } from './reader.js';

/** a - b for 32-bit generations, as a signed difference. */
export function genDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export interface RingScan {
  readonly headers: readonly SectorHeader[];
  /** The sector with the highest generation, or undefined on a blank (or unreadable) log. */
  readonly newest: { readonly sector: number; readonly gen: number; readonly bootId: Uint8Array; readonly freed: boolean } | undefined;
  /**
   * How many sectors back from the newest still hold records the host has not committed (0: only the
   * newest). The sector at that distance is the oldest live one.
   */
  readonly liveBack: number;
  /** Sectors inside the live range whose headers are damaged beyond repair: their records are lost. */
  readonly holes: readonly number[];
  /** Header copies put right by their CRC. */
  readonly corrected: number;
}

export function scanRing(flash: Flash, geo: Geometry): RingScan {
  const { sectors, sectorSize } = geo;
  const headers: SectorHeader[] = [];
  let corrected = 0;
  let newest: RingScan['newest'];
  let ref: number | undefined;
  for (let s = 0; s < sectors; s++) {
    const h = decodeSectorHeader(flash.read(s * sectorSize, SECTOR_HEADER));
    headers.push(h);
    if (h.kind !== 'valid') continue;
    if (h.corrected) corrected++;
    ref ??= h.generation;
    if (newest === undefined || genDiff(h.generation, ref) > genDiff(newest.gen, ref)) newest = { sector: s, gen: h.generation, bootId: h.bootId, freed: h.freed };
  }
  if (newest === undefined) return { headers, newest, liveBack: 0, holes: [], corrected };

  // walk back from the newest: consecutive generations, stopping at the first freed sector. The
  // spare's place (one ahead of the newest) is left to the caller: it is the newest's next sector.
  const at = (back: number) => (newest.sector - back + sectors * 2) % sectors;
  const expect = (back: number) => (newest.gen - back) >>> 0;
  const isChain = (back: number) => {
    const h = headers[at(back)]!;
    return h.kind === 'valid' && h.generation === expect(back);
  };
  let liveBack = 0;
  const holes: number[] = [];
  if (!newest.freed) {
    for (let back = 1; back <= sectors - 2; back++) {
      const h = headers[at(back)]!;
      if (h.kind === 'valid' && h.generation === expect(back)) {
        if (h.freed) break;
        liveBack = back;
        continue;
      }
      // a header damaged beyond repair between two sectors of the chain: a hole, not the end
      if (h.kind === 'damaged' && back + 1 <= sectors - 2 && isChain(back + 1)) {
        holes.push(at(back));
        continue;
      }
      break;
    }
  }
  return { headers, newest, liveBack, holes, corrected };
}
