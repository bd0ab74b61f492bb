/**
 * Issue 14: the attack and power scenarios in CI, as users run them (`vigil sim --scenario attack`,
 * `--scenario power`: their own speeds, the gateways' default settings), on a smaller ward.
 */
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../simulator/fleet/report.js';
import { runSimulation } from '../../simulator/fleet/run.js';
import { ATTACKS, loadScenario } from '../../simulator/fleet/scenario.js';

describe('the attack scenario', () => {
  it('every attack is blocked and raises an alarm at the station; the real command is applied; no vitals lost', async () => {
    const report = await runSimulation({ scenario: loadScenario('attack'), gateways: 6 });
    const text = renderReport(report);
    expect(report.ok, text).toBe(true);
    expect(report.attacks.map((a) => a.attack).sort()).toEqual([...ATTACKS].sort());
    for (const a of report.attacks) expect({ attack: a.attack, blocked: a.blocked, alarmed: a.alarmed }, a.evidence).toEqual({ attack: a.attack, blocked: true, alarmed: true });
    expect(report.commands).toMatchObject({ sent: 1, applied: 1 });
    expect(report.totals.stored, text).toBe(report.totals.produced);
  });
});

describe('the power scenario', () => {
  it('power cuts mid-write, online, in an outage and during the drain: nothing a gateway stored is lost, the rest bounded and counted', async () => {
    const report = await runSimulation({ scenario: loadScenario('power') });
    const text = renderReport(report);
    expect(report.ok, text).toBe(true);
    expect(report.totals.lost).toBe(0);
    // every bed lost power several times (each is named by at least four of the eight cuts)
    for (const b of report.beds) expect(b.powerCuts, text).toBeGreaterThanOrEqual(4);
    // what a cut may cost is counted, not hidden: made = at host + not recorded
    for (const b of report.beds) expect(b.produced, text).toBe(b.stored + b.lostToPowerCuts);
  });
});
