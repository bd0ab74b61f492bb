/**
 * Plays one step of a scenario's timeline on a running ward: a fault carried out by the bed workers
 * or on the host process, an attack (judged in the background), a clinician's signed command through
 * the host's API (followed to its end in the background), or a mark. What it starts and has not yet
 * finished goes into `pending` and `attacks`, for the run to wait on before it settles.
 */
import type { SettingValue } from '../../firmware/core/command/index.js';
import { attack, commanded, type AttackResult, type Battlefield } from './attacks.js';
import type { HostProcess } from './host-proc.js';
import type { BedSpec } from './messages.js';
import type { CommandOutcome } from './report.js';
import { bedsOf, type Scenario, type Step } from './scenario.js';
import type { SimSite } from './site.js';
import type { Api } from './station.js';
import type { Ward } from './ward.js';

export interface Play {
  readonly scenario: Scenario;
  readonly beds: readonly BedSpec[];
  readonly ward: Ward;
  readonly site: SimSite;
  readonly host: HostProcess | undefined;
  /** The host's API as this demo user. */
  api(user: string): Api;
  readonly battlefield: Battlefield;
  /** Real ms for scenario seconds, and a wait until scenario second `s`. */
  realMs(s: number): number;
  at(s: number): Promise<void>;
  /** A line in the report's timeline. */
  note(what: string, detail: string): void;
  log(line: string): void;
  readonly pending: Promise<unknown>[];
  readonly attacks: Promise<AttackResult>[];
  readonly commands: CommandOutcome[];
  /** Settings the run's commands set: bed/setting → value. */
  readonly current: Map<string, SettingValue>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function fmtDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function failedAttack(name: AttackResult['attack'], bed: number, evidence: string): AttackResult {
  return { attack: name, bed, gateway: '?', defence: '?', blocked: false, alarm: '?', alarmed: false, evidence, at: Date.now() };
}

export async function playStep(p: Play, x: Step): Promise<void> {
  if ('mark' in x) return p.note('mark', x.mark);
  if ('attack' in x) return startAttack(p, x);
  if ('command' in x) return startCommand(p, x);
  const ids = 'beds' in x ? bedsOf(x.beds, p.beds.length).map((b) => p.beds[b - 1]!.id) : [];
  switch (x.fault) {
    case 'partition':
      p.note('fault', `network lost at ${ids.length} bed(s)${x.silent ? ' (silently)' : ''} for ${fmtDuration(x.for)}`);
      p.ward.toBeds(ids, (mine) => ({ type: 'partition', ids: mine, down: true, silent: x.silent }));
      p.pending.push(
        p.at(x.at + x.for).then(() => {
          p.note('restore', `network back at ${ids.length} bed(s)`);
          p.ward.toBeds(ids, (mine) => ({ type: 'partition', ids: mine, down: false, silent: x.silent }));
        }),
      );
      return;
    case 'flap':
      p.note('fault', `flapping links at ${ids.length} bed(s) for ${fmtDuration(x.for)}`);
      p.pending.push(
        (async () => {
          for (let t = x.at, down = true; t < x.at + x.for; t += x.period / 2, down = !down) {
            await p.at(t);
            p.ward.toBeds(ids, (mine) => ({ type: 'partition', ids: mine, down, silent: false }));
          }
          await p.at(x.at + x.for);
          p.ward.toBeds(ids, (mine) => ({ type: 'partition', ids: mine, down: false, silent: false }));
        })(),
      );
      return;
    case 'serial-noise':
      p.note('fault', `serial noise at ${ids.length} bed(s) for ${fmtDuration(x.for)}`);
      p.ward.toBeds(ids, (mine) => ({ type: 'serial-noise', ids: mine, line: x.line }));
      p.pending.push(p.at(x.at + x.for).then(() => p.ward.toBeds(ids, (mine) => ({ type: 'serial-noise', ids: mine, line: p.scenario.serial }))));
      return;
    case 'power-cut':
      p.note('fault', `power cut at ${ids.length} gateway(s) at their next flash write (${x.outcome}), off ${fmtDuration(x.off)}`);
      p.ward.toBeds(ids, (mine) => ({ type: 'power-cut', ids: mine, offMs: p.realMs(x.off), outcome: x.outcome }));
      return;
    case 'host-kill':
    case 'broker-restart': {
      const kill = x.fault === 'host-kill';
      const host = p.host!;
      p.note('fault', kill ? `host killed (SIGKILL), down ${fmtDuration(x.down)}` : 'broker restarted (the embedded broker: the host process stops cleanly and starts again)');
      p.pending.push(
        (async () => {
          await host.stop(kill ? 'SIGKILL' : 'SIGTERM');
          if (kill) await sleep(p.realMs(x.down));
          await host.start();
          p.note('restore', 'host back');
        })(),
      );
      return;
    }
  }
}

function startAttack(p: Play, x: Extract<Step, { attack: unknown }>): void {
  p.note('attack', `${x.attack} at bed ${x.bed}`);
  const limit = p.battlefield.alarmWaitMs() + 60_000;
  p.attacks.push(
    Promise.race([
      attack(p.battlefield, x.attack, x.bed).catch((e: unknown) => failedAttack(x.attack, x.bed, `the attack could not be carried out: ${(e as Error).message}`)),
      sleep(limit).then(() => failedAttack(x.attack, x.bed, `no verdict within ${Math.round(limit / 1000)} s`)),
    ]).then((r) => {
      p.log(`attack ${r.attack} at bed ${r.bed}: ${r.blocked ? 'blocked' : 'NOT BLOCKED'}, ${r.alarmed ? `alarm ${r.alarm}` : 'NO ALARM'} (${r.evidence})`);
      return r;
    }),
  );
}

/** A clinician's signed command through the host's API, followed until it is applied or fails. */
function startCommand(p: Play, x: Extract<Step, { command: unknown }>): void {
  const c = x.command;
  const id = p.beds[c.bed - 1]!.id;
  const api = p.api(c.by);
  const outcome = (status: string) => p.commands.push({ bed: c.bed, gateway: id, setting: c.setting, value: c.value, status });
  p.note('command', `${c.by} sets ${c.setting} = ${c.value} at bed ${c.bed}`);
  p.pending.push(
    (async () => {
      const value = c.unit === undefined ? { value: c.value } : { value: c.value, unit: c.unit };
      const r = await api('POST', '/api/commands', { gateway: id, orderId: `SIM-${c.bed}-${Math.round(x.at)}`, params: { [c.setting]: value }, passphrase: p.site.logins.passphrases[c.by] });
      if (r.status !== 201 && r.status !== 202) return void outcome(`refused by the host: ${r.status} ${r.json?.error ?? ''}`);
      commanded(id);
      let status = r.json.status as string;
      const end = performance.now() + 45_000;
      while (!['applied', 'failed', 'rejected', 'timed-out', 'withdrawn'].includes(status) && performance.now() < end) {
        await sleep(250);
        status = (await api('GET', `/api/commands/${r.json.id}`)).json?.status ?? status;
      }
      if (status === 'applied') p.current.set(`${c.bed}/${c.setting}`, c.value);
      outcome(status);
    })(),
  );
}
