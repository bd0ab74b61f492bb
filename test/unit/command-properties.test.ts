import { describe, expect, it } from 'vitest';
import { runCommandProperties } from '../portable/command-properties.js';

describe('command gate properties (the same ones run in XS)', () => {
  it.each(runCommandProperties(0xc0de, 400).map((r) => [r.name, r] as const))('%s', (_name, r) => {
    expect(r, `counterexample ${r.counterexample}: ${r.error}`).toMatchObject({ failed: false });
    expect(r.numRuns).toBeGreaterThanOrEqual(100);
  });
});
