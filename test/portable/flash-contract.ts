/**
 * The flash port's contract: what every implementation (the emulator, the file-backed flash, and on
 * the device the Moddable adapter) must do. Written as plain checks that return failures, so the same
 * suite runs under vitest and inside XS.
 */
import { FlashError, type Flash } from '../../firmware/core/log/flash.js';

export interface ContractResult {
  readonly name: string;
  readonly failure: string | null;
}

function expectThrows(fn: () => void, type: string): string | null {
  try {
    fn();
  } catch (e) {
    return e instanceof FlashError && e.type === type ? null : `threw ${String(e)}, expected FlashError ${type}`;
  }
  return `did not throw, expected FlashError ${type}`;
}

const same = (a: Uint8Array, b: ArrayLike<number>): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** `make` returns a fresh, fully erased flash of at least 2 sectors. */
export function flashContract(make: () => Flash): ContractResult[] {
  const checks: Array<[string, (f: Flash) => string | null]> = [
    ['a fresh flash reads as erased (0xFF)', (f) => (f.read(0, f.sectorSize).every((b) => b === 0xff) ? null : 'not all 0xFF')],
    ['a write reads back', (f) => {
      f.write(8, Uint8Array.of(1, 2, 3, 4));
      f.sync();
      return same(f.read(8, 4), [1, 2, 3, 4]) ? null : `read ${f.read(8, 4).join(',')}`;
    }],
    ['a write only clears bits (AND with what is there)', (f) => {
      f.write(0, Uint8Array.of(0xf0, 0x0f, 0xaa, 0x55));
      f.write(0, Uint8Array.of(0xcc, 0xcc, 0xff, 0x00));
      return same(f.read(0, 4), [0xc0, 0x0c, 0xaa, 0x00]) ? null : `read ${f.read(0, 4).join(',')}`;
    }],
    ['erase sets a whole sector to 0xFF and leaves its neighbour', (f) => {
      f.write(0, new Uint8Array(4));
      f.write(f.sectorSize, new Uint8Array(4));
      f.erase(0);
      if (!f.read(0, f.sectorSize).every((b) => b === 0xff)) return 'sector 0 not erased';
      return same(f.read(f.sectorSize, 4), [0, 0, 0, 0]) ? null : 'sector 1 changed';
    }],
    ['misaligned writes are refused', (f) => expectThrows(() => f.write(2, new Uint8Array(4)), 'misaligned') ?? expectThrows(() => f.write(0, new Uint8Array(3)), 'misaligned')],
    ['out-of-range reads, writes and erases are refused', (f) =>
      expectThrows(() => f.read(f.byteLength - 2, 4), 'out-of-range') ??
      expectThrows(() => f.write(f.byteLength, new Uint8Array(4)), 'out-of-range') ??
      expectThrows(() => f.erase(f.byteLength / f.sectorSize), 'out-of-range') ??
      expectThrows(() => f.erase(-1), 'out-of-range')],
    ['a read across a sector boundary sees both sectors', (f) => {
      f.write(f.sectorSize - 4, Uint8Array.of(1, 1, 1, 1));
      f.write(f.sectorSize, Uint8Array.of(2, 2, 2, 2));
      return same(f.read(f.sectorSize - 4, 8), [1, 1, 1, 1, 2, 2, 2, 2]) ? null : 'wrong bytes';
    }],
    ['geometry: whole sectors and a write unit that divides the sector', (f) =>
      f.byteLength % f.sectorSize === 0 && f.sectorSize % f.writeUnit === 0 && f.byteLength / f.sectorSize >= 2 ? null : 'bad geometry'],
  ];
  return checks.map(([name, check]) => {
    try {
      return { name, failure: check(make()) };
    } catch (e) {
      return { name, failure: `threw ${String(e)}` };
    }
  });
}
