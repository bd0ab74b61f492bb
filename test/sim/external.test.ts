/**
 * Issue 14: `vigil sim --host … --broker … --data-dir <its site>` against a host that is already
 * running (here `vigil host` on a site the simulator made), with the live progress lines a terminal
 * shows; and the faults that need the simulator's own host refused with a clear error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostProcess, type HostProcess } from '../../simulator/fleet/host-proc.js';
import { renderReport } from '../../simulator/fleet/report.js';
import { runSimulation } from '../../simulator/fleet/run.js';
import { parseScenario } from '../../simulator/fleet/scenario.js';
import { openSimSite } from '../../simulator/fleet/site.js';
import { apiAs } from '../../simulator/fleet/station.js';

let dir: string;
let host: HostProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-sim-ext-'));
  await openSimSite(dir, 'ward-ext');
  host = await startHostProcess(dir);
});

afterAll(async () => {
  await host?.stop('SIGTERM');
  for (const d of [dir, `${dir}-audit`]) rmSync(d, { recursive: true, force: true });
});

describe('against a running host', () => {
  it('provisions its beds in the host\'s site, runs the ward there (a drill, declared to every station), and counts every sample at that host', async () => {
    const scenario = parseScenario({ name: 'short', description: 'A short drill. More text.', drill: true, gateways: 3, duration: 20, timeline: [{ at: 5, fault: 'partition', beds: [2], for: 8 }] }, 'short');
    const lines: string[] = [];
    const report = await runSimulation({ scenario, dataDir: dir, external: { hostUrl: host.httpUrl, brokerUrl: `mqtt://127.0.0.1:${host.brokerPort}` }, progress: (l) => lines.push(l) });
    const text = renderReport(report);
    expect(report.ok, text).toBe(true);
    expect(report.totals.produced, text).toBeGreaterThan(20);
    expect(report.totals.stored).toBe(report.totals.produced);
    expect(lines.some((l) => /^0:00:\d\d \/ 0:00:20 ×1 \| .*\d+ online.* \| samples made \d+/.test(l)), lines.join('\n')).toBe(true);
    // the drill's banner: declared by the charge nurse when the timeline began, ended with it
    const site = await openSimSite(dir, 'ward-ext');
    const notices = (await apiAs(() => host.httpUrl, 'cleo', site.logins.passwords.cleo!)('GET', '/api/notices?active=0')).json as Array<{ kind: string; message: string; started_by: string; ended: number | null }>;
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ kind: 'drill', message: 'A short drill', started_by: 'cleo' });
    expect(notices[0]!.ended).not.toBeNull();
  });

  it('refuses a host crash or broker restart it cannot carry out, before anything starts', async () => {
    const scenario = parseScenario({ name: 'crash', gateways: 1, duration: 20, timeline: [{ at: 5, fault: 'host-kill' }] }, 'crash');
    await expect(runSimulation({ scenario, dataDir: dir, external: { hostUrl: host.httpUrl, brokerUrl: `mqtt://127.0.0.1:${host.brokerPort}` } })).rejects.toThrow(/host-kill needs the host this run starts \(not --host\)/);
  });
});
