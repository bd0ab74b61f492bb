import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlashError } from '../../firmware/core/log/flash.js';
import { FileFlash } from '../../firmware/platform/node/file-flash.js';
import { NorFlash } from '../../firmware/platform/node/nor-flash.js';
import { flashContract } from '../portable/flash-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-flash-'));
let n = 0;
const implementations = {
  'NorFlash (memory)': () => new NorFlash({ sectors: 4 }),
  'NorFlash (reordering unsynced writes)': () => new NorFlash({ sectors: 4, reorder: true }),
  'FileFlash': () => new FileFlash(join(dir, `f${n++}.bin`), 4),
};

describe.each(Object.entries(implementations))('flash contract: %s', (_name, make) => {
  it.each(flashContract(make).map((r) => [r.name, r] as const))('%s', (_n, r) => {
    expect(r.failure).toBeNull();
  });
});

describe('NorFlash power cuts', () => {
  it('counts erases per sector', () => {
    const f = new NorFlash({ sectors: 3 });
    f.erase(1);
    f.erase(1);
    f.erase(2);
    expect([...f.eraseCounts]).toEqual([0, 2, 1]);
  });

  it.each([
    ['not-done', [0xff, 0xff, 0xff, 0xff]],
    ['done', [0, 0, 0, 0]],
  ] as const)('leaves an interrupted write %s', (outcome, expected) => {
    const f = new NorFlash({ sectors: 2 });
    f.cutAt(0, outcome);
    expect(() => f.write(0, new Uint8Array(4))).toThrow(FlashError);
    expect(() => f.read(0, 4)).toThrow(/no power/);
    f.powerOn();
    expect([...f.read(0, 4)]).toEqual(expected);
  });

  it('programs only some bits of a half-done write, never sets a bit', () => {
    const f = new NorFlash({ sectors: 2, seed: 42 });
    f.write(0, Uint8Array.of(0x0f, 0x0f, 0x0f, 0x0f));
    f.cutAt(0, 'half');
    expect(() => f.write(0, new Uint8Array(4))).toThrow(/power cut/);
    f.powerOn();
    const after = f.read(0, 4);
    expect(after.every((b) => (b & ~0x0f) === 0)).toBe(true); // no bit went 0 -> 1
    expect(after.some((b) => b !== 0) && after.some((b) => b !== 0x0f)).toBe(true); // partly programmed
  });

  it('half erases a sector: some bytes 0xFF, others left', () => {
    const f = new NorFlash({ sectors: 2, seed: 7 });
    f.write(0, new Uint8Array(f.sectorSize));
    f.cutAt(0, 'half');
    expect(() => f.erase(0)).toThrow(/power cut/);
    f.powerOn();
    const bytes = f.read(0, f.sectorSize);
    expect(bytes.some((b) => b === 0xff) && bytes.some((b) => b === 0)).toBe(true);
  });

  it('with reordering, a cut keeps a subset of the unsynced writes and all synced ones', () => {
    const kept = new Set<string>();
    for (let seed = 1; seed < 40; seed++) {
      const f = new NorFlash({ sectors: 2, reorder: true, seed });
      f.write(0, new Uint8Array(4));
      f.sync();
      f.write(4, new Uint8Array(4));
      f.write(8, new Uint8Array(4));
      expect([...f.read(4, 8)]).toEqual(new Array(8).fill(0)); // the program sees its own writes
      f.powerCut();
      f.powerOn();
      expect([...f.read(0, 4)]).toEqual([0, 0, 0, 0]);
      kept.add(`${f.read(4, 1)[0]},${f.read(8, 1)[0]}`);
    }
    expect([...kept].sort()).toEqual(['0,0', '0,255', '255,0', '255,255']);
  });

  it('FileFlash keeps its contents and wear across reopening', () => {
    const path = join(dir, 'persist.bin');
    const a = new FileFlash(path, 2);
    a.write(16, Uint8Array.of(9, 8, 7, 6));
    a.erase(1);
    a.close();
    const b = new FileFlash(path, 2);
    expect([...b.read(16, 4)]).toEqual([9, 8, 7, 6]);
    expect([...b.eraseCounts]).toEqual([0, 1]);
    expect(() => new FileFlash(path, 3)).toThrow(/holds 8192 bytes, expected 12288/);
  });
});
