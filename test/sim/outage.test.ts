/**
 * Issue 14: the outage scenario in CI, as users run it (`vigil sim --scenario outage`: its own speed,
 * the gateways' default settings) on a smaller ward; and the same scenario against a deliberately
 * broken host (acks sent before the commit, test/support/broken-host.ts), which the report must catch.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../simulator/fleet/report.js';
import { runSimulation } from '../../simulator/fleet/run.js';
import { loadScenario } from '../../simulator/fleet/scenario.js';

const BROKEN = fileURLToPath(new URL('../support/broken-host.ts', import.meta.url));

describe('the outage scenario', () => {
  it('an 8-hour outage of the whole ward, a silent one of half of it, a host crash in the drain: zero loss, every backlog drained', async () => {
    const report = await runSimulation({ scenario: loadScenario('outage'), gateways: 6 });
    const text = renderReport(report);
    expect(report.ok, text).toBe(true);
    expect(report.totals.lost).toBe(0);
    expect(report.totals.stored, text).toBe(report.totals.produced);
    // it was a real 8-hour backlog: a monitor's 480 one-minute batches in flash, drained after
    const monitor = report.beds.find((b) => b.kind === 'monitor')!;
    expect(monitor.produced, text).toBeGreaterThan(9 * 3600);
    expect(monitor.maxBacklogKb, text).toBeGreaterThan(200);
    expect(report.beds.every((b) => b.drainSeconds !== null), text).toBe(true);
    expect(report.faults.map((f) => f.detail).join('\n')).toMatch(/host killed \(SIGKILL\)/);
  });

  it('against a host that acks before it commits, the same scenario reports the loss and fails', async () => {
    const report = await runSimulation({ scenario: loadScenario('outage'), gateways: 4, hostEntry: BROKEN });
    const text = renderReport(report);
    expect(report.ok, text).toBe(false);
    const zeroLoss = report.invariants.find((i) => i.name.startsWith('zero loss'))!;
    expect(zeroLoss.ok, text).toBe(false);
    expect(report.totals.lost, text).toBeGreaterThan(0);
  });
});
