/**
 * The log's test harness is itself tested: each mutant below is the real log with one safeguard taken
 * out (found by its requirement tag in the source, so the mutant follows the code), built with esbuild
 * and run through the harness, which must catch it. A harness that passes a mutant would be a test that
 * cannot fail.
 */
import { build, type Plugin } from 'esbuild';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { VitalsLog } from '../../firmware/core/log/index.js';
import { CUT_OUTCOMES } from '../../firmware/platform/node/nor-flash.js';
import { exhaustiveCuts, faultCampaign, type LogFactory } from '../portable/log-harness.js';
import { NorFlash } from '../../firmware/platform/node/nor-flash.js';
import { LogWorld } from '../portable/log-harness.js';
import { freedEraseCut, hostileAcks, tornDrops } from '../portable/log-faults.js';

interface Mutant {
  readonly name: string;
  readonly file: 'log.ts' | 'format.ts' | 'crc32.ts' | 'spare.ts' | 'recover.ts';
  readonly find: string | RegExp;
  readonly replace: string;
  /** A harness run that must report failures for this mutant. */
  readonly catchWith: (factory: LogFactory) => readonly string[];
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-mutants-'));

async function buildMutant(m: Mutant): Promise<LogFactory> {
  const plugin: Plugin = {
    name: 'mutate',
    setup(b) {
      b.onLoad({ filter: /firmware[\\/]core[\\/]log[\\/][a-z0-9]+\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!args.path.endsWith(m.file)) return { contents: source, loader: 'ts' };
        const mutated = source.replace(m.find, m.replace);
        if (mutated === source) throw new Error(`mutant ${m.name}: ${String(m.find)} is no longer in ${m.file}`);
        return { contents: mutated, loader: 'ts' };
      });
    },
  };
  const out = await build({
    entryPoints: [new URL('../../firmware/core/log/index.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    plugins: [plugin],
    logLevel: 'silent',
  });
  const file = join(dir, `${m.name}.mjs`);
  writeFileSync(file, out.outputFiles[0]!.text);
  const mod = (await import(pathToFileURL(file).href)) as { openLog: (f: never, b: Uint8Array) => VitalsLog };
  return mod.openLog as LogFactory;
}

const sweep = (factory: LogFactory, reorder: boolean) => exhaustiveCuts({ seed: 2, appends: 120, sectors: 3, reorder, outcomes: CUT_OUTCOMES, factory }).failures;

const mutants: Mutant[] = [
  { name: 'no-sync-per-append', file: 'spare.ts', find: 'ctx.flash.sync(); // [LOG-1]', replace: '// mutant: no sync', catchWith: (f) => sweep(f, true) },
  { name: 'no-drop-record', file: 'spare.ts', find: /writeRecord\(ctx, RecordType\.drop, ctx\.nextSeq\+\+, payload\); \/\/ \[LOG-3\]/, replace: 'ctx.nextSeq++; // mutant', catchWith: (f) => overflow(f) },
  { name: 'no-payload-crc', file: 'format.ts', find: "if (computed === crc) return 'ok';", replace: "return 'ok';", catchWith: (f) => sweep(f, false) },
  { name: 'no-header-crc', file: 'format.ts', find: 'if (computed !== stored) {\n    const bit = crc32LocateBit(12,', replace: 'if (false) {\n    const bit = crc32LocateBit(12,', catchWith: (f) => faultCampaign({ seed: 0xf1a5, scenarios: 1000, factory: f }).failures },
  { name: 'no-bit-correction', file: 'crc32.ts', find: 'if (s === 0) return -1;', replace: 'return -1;', catchWith: (f) => faultCampaign({ seed: 0xf1a5, scenarios: 1000, factory: f }).failures },
  { name: 'no-kill-before-erase', file: 'spare.ts', find: /ctx\.flash\.write\(sector \* ctx\.geo\.sectorSize, new Uint8Array\(KILL_BYTES\)\); \/\/ \[LOG-3\]/, replace: '// mutant: no kill', catchWith: (f) => freedEraseCut(f).failures },
  { name: 'no-torn-tail-filler', file: 'recover.ts', find: /ctx\.flash\.write\(pos\.sector \* ctx\.geo\.sectorSize \+ from, new Uint8Array\(end - from\)\);/, replace: '// mutant: no filler', catchWith: (f) => sweep(f, false) },
  { name: 'no-ack-clamp', file: 'log.ts', find: 't = ctx.nextSeq - 1;', replace: '// mutant: no clamp', catchWith: (f) => hostileAcks(f).failures },
  { name: 'no-freed-mark', file: 'log.ts', find: /ctx\.flash\.write\(left \* ctx\.geo\.sectorSize \+ FREED_OFFSET, mark\);/, replace: '// mutant: no mark', catchWith: (f) => faultCampaign({ seed: 0xf1a5, scenarios: 300, factory: f }).failures.concat(freedMarkMatters(f)) },
];

/** A long outage: the log fills and drops, then everything is drained after a reboot. */
function overflow(factory: LogFactory): string[] {
  try {
    const w = new LogWorld(new NorFlash({ sectors: 4 }), { factory });
    w.boot();
    for (let i = 0; i < 300; i++) w.append(100);
    w.boot();
    w.checkAfterReboot();
    return [];
  } catch (e) {
    return [String(e)];
  }
}

/** Without freed marks nothing is lost, only sent again: the duplicates bound catches it. */
function freedMarkMatters(factory: LogFactory): string[] {
  const r = exhaustiveCuts({ seed: 3, appends: 150, sectors: 4, reorder: false, outcomes: ['done'], factory });
  return r.maxDuplicates > 40 ? [`${r.maxDuplicates} records sent again after a reboot`] : [];
}

describe('the log harness catches a log with a safeguard taken out', () => {
  it('the unmutated log passes the same runs', async () => {
    const real = await buildMutant({ name: 'none', file: 'log.ts', find: 'export function openLog', replace: '/* unmutated */ export function openLog', catchWith: () => [] });
    expect(sweep(real, true)).toEqual([]);
    expect(sweep(real, false)).toEqual([]);
    expect(tornDrops(real).failures).toEqual([]);
    expect(overflow(real)).toEqual([]);
    expect(freedEraseCut(real).failures).toEqual([]);
    expect(hostileAcks(real).failures).toEqual([]);
    expect(freedMarkMatters(real)).toEqual([]);
    expect(faultCampaign({ seed: 0xf1a5, scenarios: 1000, factory: real }).failures).toEqual([]);
  }, 120_000);

  it.each(mutants.map((m) => [m.name, m] as const))('%s', async (_name, m) => {
    const factory = await buildMutant(m);
    const found = m.catchWith(factory);
    expect(found.length, `the harness did not catch mutant ${m.name}`).toBeGreaterThan(0);
  }, 180_000);
});
