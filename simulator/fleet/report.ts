/**
 * The report of a `vigil sim` run: per gateway and in total, every sample a device made against
 * every sample the host stored, duplicates the host suppressed, the largest backlog and its drain,
 * attacks attempted against blocked and alarmed, signed commands sent against applied, and for a
 * drill what the nursing station should have seen and when. Its invariants decide the exit code.
 *
 * How samples are counted (docs/simulator.md): `produced` by the device; `taken` into a batch by the
 * gateway, over all its boots; `logged`, in batches its flash log stored (append returned); `stored`,
 * rows of batches the host holds. Loss is anything logged that the host does not hold. A power cut
 * takes what only the gateway's RAM held (the batch being filled, up to one batch period, and a batch
 * torn mid-write) and what the device made while the gateway was off: those are counted and bounded,
 * not hidden.
 */
import { DRIVERS } from '../../firmware/core/device/drivers.js';
import type { GatewayConfig } from '../../firmware/core/gateway/index.js';
import type { AttackResult } from './attacks.js';
import type { BedReport } from './messages.js';
import { bedsOf, type Scenario, type Step } from './scenario.js';

export interface CommandOutcome {
  readonly bed: number;
  readonly gateway: string;
  readonly setting: string;
  readonly value: number;
  readonly status: string;
}

/** Something the station saw (t: real ms since the run began). */
export interface StationEvent {
  readonly t: number;
  readonly what: string;
  readonly gateway?: string;
  readonly detail: string;
  readonly code?: string;
}

export interface BedLine {
  readonly id: string;
  readonly bed: number;
  readonly kind: string;
  readonly produced: number;
  readonly stored: number;
  readonly taken: number;
  readonly logged: number;
  /** Logged by the gateway, not at the host: must be 0. */
  readonly lost: number;
  /** Made while the gateway was off, or held only in its RAM when the power went. */
  readonly lostToPowerCuts: number;
  readonly powerCuts: number;
  /** Device messages the serial link gave up on or could not queue. */
  readonly linkDropped: number;
  readonly maxBacklogKb: number;
  readonly drainSeconds: number | null;
  readonly applied: number;
  readonly deviceAlarms: number;
}

export interface Invariant {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface DrillLine {
  readonly at: string;
  readonly expect: string;
  readonly seen: string;
  readonly ok: boolean;
}

export interface SimReport {
  readonly scenario: string;
  readonly description: string;
  readonly seed: number;
  readonly gateways: number;
  readonly speed: number;
  readonly scenarioSeconds: number;
  readonly realSeconds: number;
  readonly beds: readonly BedLine[];
  readonly totals: {
    readonly produced: number;
    readonly stored: number;
    readonly lost: number;
    readonly lostToPowerCuts: number;
    readonly duplicatesSuppressed: number;
    readonly maxBacklogKb: number;
    readonly maxDrainSeconds: number | null;
    readonly powerCuts: number;
    readonly deviceAlarms: number;
    readonly latencyMs: { readonly n: number; readonly p50: number | null; readonly p99: number | null; readonly max: number | null };
  };
  readonly attacks: readonly AttackResult[];
  readonly commands: { readonly sent: number; readonly applied: number; readonly list: readonly CommandOutcome[] };
  readonly faults: readonly StationEvent[];
  readonly drill: readonly DrillLine[] | null;
  readonly invariants: readonly Invariant[];
  readonly ok: boolean;
}

export interface ReportInput {
  readonly scenario: Scenario;
  readonly ward: number;
  readonly seed: number;
  readonly speed: number;
  readonly duration: number;
  readonly realSeconds: number;
  readonly beds: readonly BedReport[];
  /** Gateways still busy when the settle time ran out, each with why. */
  readonly busy: readonly string[];
  readonly stored: ReadonlyMap<string, number>;
  readonly duplicates: number;
  readonly latencies: readonly number[];
  readonly attacks: readonly AttackResult[];
  readonly commands: readonly CommandOutcome[];
  readonly station: readonly StationEvent[];
  readonly faults: readonly StationEvent[];
  readonly steps: readonly Step[];
  readonly config: Partial<GatewayConfig>;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The most a power cut may cost a bed: the batch in RAM (one outage batch period), the time off, the reboot. */
function powerCutBound(kind: keyof typeof DRIVERS, cuts: number, offS: number, config: Partial<GatewayConfig>): number {
  const sampleS = DRIVERS[kind].sampleMs / 1000;
  const batchS = Math.max(config.batchMs ?? 5000, config.outageBatchMs ?? 60_000) / 1000;
  return cuts * (Math.ceil(batchS / sampleS) + Math.ceil((offS + 15) / sampleS) + 2);
}

export function buildReport(r: ReportInput): SimReport {
  const cutSteps = r.steps.filter((x): x is Extract<Step, { fault: 'power-cut' }> => 'fault' in x && x.fault === 'power-cut');
  const beds: BedLine[] = r.beds
    .map((b) => {
      const stored = r.stored.get(b.id) ?? 0;
      return {
        id: b.id,
        bed: b.bed,
        kind: b.kind,
        produced: b.produced,
        stored,
        taken: b.taken,
        logged: b.logged,
        lost: Math.max(0, b.logged - stored),
        lostToPowerCuts: b.powerCuts > 0 ? Math.max(0, b.produced - Math.max(stored, b.logged)) : 0,
        powerCuts: b.powerCuts,
        linkDropped: b.linkDropped,
        maxBacklogKb: Math.round(b.maxBacklog / 102.4) / 10,
        drainSeconds: b.drains.length === 0 ? null : Math.max(...b.drains) / 1000,
        applied: b.applied,
        deviceAlarms: b.deviceAlarms,
      };
    })
    .sort((a, b) => a.bed - b.bed);

  const invariants: Invariant[] = [];
  const check = (name: string, bad: string[], okDetail: string) => invariants.push({ name, ok: bad.length === 0, detail: bad.length === 0 ? okDetail : bad.slice(0, 12).join('; ') + (bad.length > 12 ? `; and ${bad.length - 12} more` : '') });

  check('zero loss: every sample a gateway stored in its flash is at the host', beds.filter((b) => b.lost > 0).map((b) => `${b.id}: ${b.lost} of ${b.logged} logged samples missing at the host`), `${sum(beds, 'logged')} samples logged, all at the host`);
  check('nothing invented: the host holds no sample a gateway did not take', beds.filter((b) => b.stored > b.taken).map((b) => `${b.id}: host holds ${b.stored}, the gateway took ${b.taken}`), 'every stored sample came from a device');
  check(
    'without a power cut, every sample a device made is at the host',
    beds.filter((b) => b.powerCuts === 0 && b.stored !== b.produced).map((b) => `${b.id}: device made ${b.produced}, the gateway took ${b.taken}, the host holds ${b.stored}; device messages the serial link gave up on: ${b.linkDropped}`),
    `${beds.filter((b) => b.powerCuts === 0).length} beds: made = stored`,
  );
  check(
    'a power cut costs at most what only the gateway held: one batch in RAM and the time it was off',
    beds
      .filter((b) => b.powerCuts > 0)
      .filter((b) => {
        const off = Math.max(0, ...cutSteps.filter((x) => bedsOf(x.beds, r.ward).includes(b.bed)).map((x) => x.off));
        return b.produced - b.stored > powerCutBound(b.kind as keyof typeof DRIVERS, b.powerCuts, off, r.config);
      })
      .map((b) => `${b.id}: ${b.produced - b.stored} samples short after ${b.powerCuts} cut(s)`),
    `${sum(beds, 'powerCuts')} power cuts, ${sum(beds, 'lostToPowerCuts')} samples not recorded while gateways were off or in their RAM`,
  );
  if (cutSteps.length > 0) check('power cuts happened', sum(beds, 'powerCuts') === 0 ? ['no gateway lost power: the cuts were armed but no flash operation came'] : [], `${sum(beds, 'powerCuts')} cuts`);
  check('the ward settled: every gateway flushed and drained its backlog', r.busy.map((why) => `${why} still busy`), 'all gateways online with empty backlogs');
  if (r.attacks.length > 0) {
    check('every attack blocked', r.attacks.filter((a) => !a.blocked).map((a) => `${a.attack} at bed ${a.bed}: ${a.evidence}`), `${r.attacks.length} of ${r.attacks.length}`);
    check('every attack raised an alarm at the station', r.attacks.filter((a) => !a.alarmed).map((a) => `${a.attack}: no ${a.alarm} alarm for ${a.gateway}`), `${r.attacks.length} of ${r.attacks.length}`);
  }
  if (r.commands.length > 0) check('every signed command applied', r.commands.filter((c) => c.status !== 'applied').map((c) => `bed ${c.bed} ${c.setting}=${c.value}: ${c.status}`), `${r.commands.length} of ${r.commands.length}`);

  const drill = r.scenario.drill ? drillLines(r) : null;
  if (drill !== null) check('the drill: the station saw what it should, when it should', drill.filter((d) => !d.ok).map((d) => `${d.at} ${d.expect}: ${d.seen}`), `${drill.length} expectations met`);

  const sorted = [...r.latencies].sort((a, b) => a - b);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  const drains = beds.map((b) => b.drainSeconds).filter((d): d is number => d !== null);
  return {
    scenario: r.scenario.name,
    description: r.scenario.description,
    seed: r.seed,
    gateways: r.ward,
    speed: r.speed,
    scenarioSeconds: Math.round(r.duration),
    realSeconds: Math.round(r.realSeconds),
    beds,
    totals: {
      produced: sum(beds, 'produced'),
      stored: sum(beds, 'stored'),
      lost: sum(beds, 'lost'),
      lostToPowerCuts: sum(beds, 'lostToPowerCuts'),
      duplicatesSuppressed: Math.max(0, r.duplicates),
      maxBacklogKb: Math.max(0, ...beds.map((b) => b.maxBacklogKb)),
      maxDrainSeconds: drains.length === 0 ? null : Math.max(...drains),
      powerCuts: sum(beds, 'powerCuts'),
      deviceAlarms: sum(beds, 'deviceAlarms'),
      latencyMs: { n: sorted.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? null) },
    },
    attacks: r.attacks,
    commands: { sent: r.commands.length, applied: r.commands.filter((c) => c.status === 'applied').length, list: r.commands },
    faults: r.faults,
    drill,
    invariants,
    ok: invariants.every((i) => i.ok),
  };
}

function sum<K extends keyof BedLine>(beds: readonly BedLine[], k: K): number {
  return beds.reduce((a, b) => a + (b[k] as number), 0);
}

const clock = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `T+${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** What a nurse at the station should have seen, from the timeline, against what the stream showed. */
function drillLines(r: ReportInput): DrillLine[] {
  const lines: DrillLine[] = [];
  const realMs = (s: number) => (s * 1000) / r.speed;
  const ids = (beds: number[]) => beds.map((b) => `gw-bed-${b}`);
  const firstPresence = (gateway: string, states: string[], from: number, within: number) => r.station.find((e) => e.what === 'presence' && e.gateway === gateway && states.includes(e.detail) && e.t >= from && e.t <= from + within);
  for (const x of r.steps) {
    if ('fault' in x && x.fault === 'partition') {
      const gws = ids(bedsOf(x.beds, r.ward));
      const from = realMs(x.at);
      const seen = gws.map((g) => firstPresence(g, ['offline', 'degraded'], from - 500, 120_000));
      const missing = gws.filter((_, i) => seen[i] === undefined);
      const last = Math.max(...seen.map((e) => e?.t ?? 0));
      lines.push({ at: clock(from), expect: `${gws.length} bed(s) shown offline (network lost): the station's degraded banner; start the downtime procedure (paper charting of vitals, bedside checks of every pump and ventilator)`, seen: missing.length === 0 ? `all shown offline by ${clock(last)}` : `not shown offline: ${missing.join(', ')}`, ok: missing.length === 0 });
      const back = realMs(x.at + x.for);
      const again = gws.map((g) => firstPresence(g, ['online'], back - 500, 120_000));
      const still = gws.filter((_, i) => again[i] === undefined);
      lines.push({ at: clock(back), expect: `${gws.length} bed(s) back online; the gap backfilled from the gateways' flash (no data lost); end the downtime procedure, reconcile the paper charts`, seen: still.length === 0 ? `all online by ${clock(Math.max(...again.map((e) => e?.t ?? 0)))}` : `still not online: ${still.join(', ')}`, ok: still.length === 0 });
    } else if ('fault' in x && x.fault === 'host-kill') {
      const from = realMs(x.at);
      const lost = r.station.find((e) => e.what === 'stream' && e.detail.includes('lost') && e.t >= from - 500 && e.t <= from + 10_000);
      lines.push({ at: clock(from), expect: 'the station loses the host: its connection-lost banner; every bed\'s data unknown until it is back (downtime procedure)', seen: lost === undefined ? 'the station never lost the host' : `lost at ${clock(lost.t)}`, ok: lost !== undefined });
      const back = r.station.find((e) => e.what === 'stream' && e.detail.includes('connected') && e.t > (lost?.t ?? from));
      lines.push({ at: clock(from + realMs(x.down)), expect: 'the host back: the station reconnects and shows every bed again', seen: back === undefined ? 'never reconnected' : `reconnected at ${clock(back.t)}`, ok: back !== undefined });
    } else if ('attack' in x) {
      const a = r.attacks.find((y) => y.attack === x.attack && y.bed === x.bed);
      const alarm = r.station.find((e) => e.what === 'alarm' && e.code === a?.alarm && e.gateway === a?.gateway && e.t >= realMs(x.at) - 500);
      lines.push({
        at: clock(realMs(x.at)),
        expect: `a security alarm for bed ${x.bed} (${x.attack}: blocked by ${a?.defence ?? '?'}): acknowledge it, check the bed, call biomed and IT security`,
        seen: alarm !== undefined ? `${alarm.detail} at ${clock(alarm.t)}` : a?.alarmed ? 'alarm active (raised earlier)' : 'no alarm',
        ok: a?.alarmed === true && a.blocked,
      });
    }
  }
  return lines;
}

/** The report for a terminal. */
export function renderReport(rep: SimReport): string {
  const out: string[] = [];
  const n = (v: number) => v.toLocaleString('en-US');
  out.push(`Vigil ward simulation: ${rep.scenario} (seed ${rep.seed}), ${rep.gateways} beds, ${fmt(rep.scenarioSeconds)} of ward time in ${fmt(rep.realSeconds)} (×${rep.speed})`);
  if (rep.description) out.push(rep.description);
  out.push('');
  if (rep.faults.length > 0) {
    out.push('Timeline:');
    for (const f of rep.faults) out.push(`  ${clock(f.t * rep.speed)}  ${f.what.padEnd(8)} ${f.detail}`);
    out.push('');
  }
  const shown = rep.beds.length > 40 ? rep.beds.filter((b) => b.lost > 0 || b.powerCuts > 0 || b.stored !== b.produced).slice(0, 40) : rep.beds;
  out.push(`${'gateway'.padEnd(12)} ${'device'.padEnd(10)} ${'made'.padStart(8)} ${'at host'.padStart(8)} ${'lost'.padStart(5)} ${'cuts'.padStart(5)} ${'not rec.'.padStart(8)} ${'backlog'.padStart(10)} ${'drain'.padStart(7)} ${'alarms'.padStart(6)}`);
  for (const b of shown) {
    out.push(`${b.id.padEnd(12)} ${b.kind.padEnd(10)} ${n(b.produced).padStart(8)} ${n(b.stored).padStart(8)} ${String(b.lost).padStart(5)} ${String(b.powerCuts).padStart(5)} ${String(b.lostToPowerCuts).padStart(8)} ${`${b.maxBacklogKb} KB`.padStart(10)} ${(b.drainSeconds === null ? '-' : `${b.drainSeconds.toFixed(1)} s`).padStart(7)} ${String(b.deviceAlarms).padStart(6)}`);
  }
  if (shown.length < rep.beds.length) out.push(`  (${rep.beds.length - shown.length} more beds with made = at host, no cuts: --json lists every bed)`);
  const t = rep.totals;
  out.push('');
  out.push(`Total: devices made ${n(t.produced)} samples, the host holds ${n(t.stored)}; lost ${t.lost}; not recorded during ${t.powerCuts} gateway power cuts ${t.lostToPowerCuts}; duplicates suppressed by the host ${n(t.duplicatesSuppressed)}`);
  out.push(`Backlog: largest ${t.maxBacklogKb} KB of flash; longest drain ${t.maxDrainSeconds === null ? '-' : `${t.maxDrainSeconds.toFixed(1)} s`}. Device alarms raised: ${t.deviceAlarms}.`);
  if (t.latencyMs.n > 0) out.push(`Live vitals after the first 30 s, gateway publish → nursing-station stream: p50 ${t.latencyMs.p50} ms, p99 ${t.latencyMs.p99} ms, max ${t.latencyMs.max} ms (${n(t.latencyMs.n)} batches)`);
  if (rep.commands.sent > 0) out.push(`Signed commands: ${rep.commands.sent} sent, ${rep.commands.applied} applied${rep.commands.list.filter((c) => c.status !== 'applied').map((c) => `; bed ${c.bed} ${c.setting}: ${c.status}`).join('')}`);
  if (rep.attacks.length > 0) {
    out.push('');
    out.push(`Attacks: ${rep.attacks.length} attempted, ${rep.attacks.filter((a) => a.blocked).length} blocked, ${rep.attacks.filter((a) => a.alarmed).length} alarmed`);
    for (const a of rep.attacks) out.push(`  ${a.blocked ? 'blocked' : 'NOT BLOCKED'} ${a.alarmed ? 'alarmed' : 'NO ALARM'}  ${a.attack} (bed ${a.bed}): ${a.defence}; alarm ${a.alarm} on ${a.gateway}. ${a.evidence}`);
  }
  if (rep.drill !== null) {
    out.push('');
    out.push('Drill: what the nursing station should have seen');
    for (const d of rep.drill) out.push(`  ${d.ok ? '✓' : '✗'} ${d.at}  ${d.expect}\n            seen: ${d.seen}`);
  }
  out.push('');
  for (const i of rep.invariants) out.push(`${i.ok ? 'PASS' : 'FAIL'}  ${i.name}: ${i.detail}`);
  out.push(rep.ok ? 'All invariants hold.' : 'AN INVARIANT IS BROKEN.');
  return out.join('\n');
}

function fmt(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}
