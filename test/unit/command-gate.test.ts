import { describe, expect, it } from 'vitest';
import { REJECT_REASONS } from '../../firmware/core/command/index.js';
import { attackCases } from '../portable/command-attacks.js';
import { commandCases } from '../portable/command-cases.js';

const cases = commandCases();

describe('the command gate (cases shared with XS)', () => {
  it.each(cases.map((k) => [k.name, k] as const))('%s', (_name, k) => {
    const out = k.run();
    if (k.expect === 'accepted') {
      expect(out).toMatchObject({ accepted: true, reason: null });
      // persisted before forwarded: the order the adapter must keep
      expect(out.effects).toEqual(['persist-state', 'forward', 'result']);
    } else {
      expect(out).toMatchObject({ accepted: false, reason: k.expect });
      expect(out.effects).toEqual(['result', 'security-event']);
    }
  });

  it('reaches every rejection reason in docs/commands.md', () => {
    const reached = new Set<string>([...cases.map((k) => k.expect), ...attackCases().map((k) => k.expect)]);
    expect(REJECT_REASONS.filter((r) => !reached.has(r))).toEqual([]);
  });
});
