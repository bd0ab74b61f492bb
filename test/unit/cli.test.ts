import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/vigil.mjs', import.meta.url));
const vigil = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('the vigil command', () => {
  it('lists its subcommands with --help and exits 0', () => {
    const r = vigil('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: vigil <command>/);
    expect(r.stdout).toMatch(/^\s+start\s/m);
    expect(r.stdout).toMatch(/^\s+cbor\s/m);
  });

  it('names an unknown command and exits 2', () => {
    const r = vigil('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('prints CBOR in diagnostic notation through the strict decoder', () => {
    const ok = vigil('cbor', '--hex', 'a26161016162820203');
    expect([ok.status, ok.stdout.trim()]).toEqual([0, '{"a": 1, "b": [2, 3]}']);
    const bad = vigil('cbor', '--hex', 'a2616201616102');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unsorted-keys at offset 4/);
    const usage = vigil('cbor', '--hex', 'abc');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/even number of hex digits/);
  });
});
