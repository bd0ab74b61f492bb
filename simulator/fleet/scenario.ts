/**
 * Scenario files for `vigil sim`: a ward and a timeline of faults, attacks and commands, in JSON or
 * YAML (docs/simulator.md gives the schema). `parseScenario` checks every field and names the one that
 * is wrong, with its path, so a bad file is a clear error before anything starts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { DeviceKind } from '../../firmware/core/command/index.js';
import type { CutOutcome } from '../../firmware/platform/node/nor-flash.js';
import type { LineFaults } from '../line.js';

export const ATTACKS = [
  'forged-signature',
  'replayed-command',
  'expired-command',
  'other-bed-command',
  'out-of-range',
  'over-step',
  'soft-limit-single-signature',
  'revoked-key',
  'old-epoch',
  'command-flood',
  'rogue-publish',
  'rogue-subscribe',
  'malformed-cbor',
  'oversized-payload',
  'tampered-device',
  'cloned-gateway',
  'swapped-device',
] as const;
export type AttackName = (typeof ATTACKS)[number];

/** Which beds a step acts on: all of them, bed numbers (1-based), or a share of the ward. */
export type Beds = { readonly all: true } | { readonly list: readonly number[] } | { readonly share: number };

export type Step =
  | { readonly at: number; readonly fault: 'partition'; readonly beds: Beds; readonly for: number; readonly silent: boolean }
  | { readonly at: number; readonly fault: 'flap'; readonly beds: Beds; readonly for: number; readonly period: number }
  | { readonly at: number; readonly fault: 'broker-restart' }
  | { readonly at: number; readonly fault: 'host-kill'; readonly down: number }
  | { readonly at: number; readonly fault: 'serial-noise'; readonly beds: Beds; readonly for: number; readonly line: LineFaults }
  | { readonly at: number; readonly fault: 'power-cut'; readonly beds: Beds; readonly off: number; readonly outcome: CutOutcome }
  | { readonly at: number; readonly attack: AttackName; readonly bed: number }
  | { readonly at: number; readonly command: { readonly bed: number; readonly setting: string; readonly value: number; readonly unit?: string; readonly by: string } }
  | { readonly at: number; readonly mark: string };

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Beds in the ward (one gateway and one device each). */
  readonly gateways: number;
  /** Device kinds in proportion: a ward of 12 with {monitor: 6, pump: 4, ventilator: 2} has exactly that. */
  readonly mix: Readonly<Record<DeviceKind, number>>;
  /** Scenario seconds. */
  readonly duration: number;
  /** How many scenario seconds pass in one real second (1: real time). */
  readonly speed: number;
  readonly seed: number;
  /** The serial line's faults at every bed, all the time. */
  readonly serial: LineFaults;
  readonly timeline: readonly Step[];
  /** A drill: the report lists what the nursing station should have seen, and when. */
  readonly drill: boolean;
}

export class ScenarioError extends Error {}

const KINDS: readonly DeviceKind[] = ['monitor', 'pump', 'ventilator'];
const OUTCOMES: readonly CutOutcome[] = ['not-done', 'done', 'half', 'torn', 'torn-suffix'];
const UNITS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600 };

type Obj = Record<string, unknown>;

function fail(path: string, problem: string): never {
  throw new ScenarioError(`${path}: ${problem}`);
}

function object(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `expected an object, got ${describe(v)}`);
  return v as Obj;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `"${v.slice(0, 40)}"`;
  return typeof v === 'object' ? 'an object' : String(v);
}

function onlyKeys(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${path}.${k}`, `unknown field (allowed here: ${allowed.join(', ')})`);
}

/** A duration: seconds as a number, or a string such as "90s", "10m", "8h", "250ms". */
export function duration(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)$/.exec(v.trim());
    if (m) return Number(m[1]) * UNITS[m[2]!]!;
  }
  return fail(path, `expected a duration (seconds, or "90s", "10m", "8h"), got ${describe(v)}`);
}

function count(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, `expected a whole number from ${min} to ${max}, got ${describe(v)}`);
  return v;
}

function probability(v: unknown, path: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 0.5)) fail(path, `expected a probability from 0 to 0.5, got ${describe(v)}`);
  return v;
}

function line(v: unknown, path: string): LineFaults {
  const o = object(v, path);
  onlyKeys(o, path, ['loss', 'corrupt', 'duplicate']);
  return { loss: probability(o.loss ?? 0, `${path}.loss`), corrupt: probability(o.corrupt ?? 0, `${path}.corrupt`), duplicate: probability(o.duplicate ?? 0, `${path}.duplicate`) };
}

function beds(v: unknown, path: string, ward: number): Beds {
  if (v === 'all' || v === undefined) return { all: true };
  if (typeof v === 'string' && /^\d+(\.\d+)?%$/.test(v)) {
    const share = Number(v.slice(0, -1)) / 100;
    if (share <= 0 || share > 1) fail(path, `a share of the ward is from 1% to 100%, got ${v}`);
    return { share };
  }
  if (Array.isArray(v) && v.length > 0) return { list: v.map((b, i) => count(b, `${path}[${i}]`, 1, ward)) };
  return fail(path, `expected "all", a share such as "50%", or a list of bed numbers from 1 to ${ward}, got ${describe(v)}`);
}

function step(v: unknown, path: string, ward: number, end: number): Step {
  const o = object(v, path);
  const at = duration(o.at, `${path}.at`);
  if (at > end) fail(`${path}.at`, `${at} s is after the scenario ends (${end} s)`);
  const kinds = ['fault', 'attack', 'command', 'mark'].filter((k) => k in o);
  if (kinds.length !== 1) fail(path, `a step has exactly one of fault, attack, command or mark (it has ${kinds.length === 0 ? 'none' : kinds.join(' and ')})`);
  if ('mark' in o) {
    onlyKeys(o, path, ['at', 'mark']);
    if (typeof o.mark !== 'string' || o.mark.length === 0) fail(`${path}.mark`, 'expected a label');
    return { at, mark: o.mark };
  }
  if ('attack' in o) {
    onlyKeys(o, path, ['at', 'attack', 'bed']);
    if (!ATTACKS.includes(o.attack as AttackName)) fail(`${path}.attack`, `unknown attack ${describe(o.attack)} (known: ${ATTACKS.join(', ')})`);
    return { at, attack: o.attack as AttackName, bed: count(o.bed ?? 1, `${path}.bed`, 1, ward) };
  }
  if ('command' in o) {
    onlyKeys(o, path, ['at', 'command']);
    const c = object(o.command, `${path}.command`);
    onlyKeys(c, `${path}.command`, ['bed', 'setting', 'value', 'unit', 'by']);
    if (typeof c.setting !== 'string') fail(`${path}.command.setting`, 'expected a setting name, such as "rate"');
    if (typeof c.value !== 'number' || !Number.isFinite(c.value)) fail(`${path}.command.value`, `expected a number, got ${describe(c.value)}`);
    if (c.unit !== undefined && typeof c.unit !== 'string') fail(`${path}.command.unit`, 'expected a UCUM unit, such as "mL/h"');
    if (c.by !== undefined && typeof c.by !== 'string') fail(`${path}.command.by`, 'expected a demo clinician: ben (physician), ana (nurse), cleo (charge nurse)');
    return { at, command: { bed: count(c.bed, `${path}.command.bed`, 1, ward), setting: c.setting, value: c.value, ...(c.unit === undefined ? {} : { unit: c.unit as string }), by: (c.by as string | undefined) ?? 'ben' } };
  }
  const fault = o.fault;
  switch (fault) {
    case 'partition':
      onlyKeys(o, path, ['at', 'fault', 'beds', 'for', 'silent']);
      if (o.silent !== undefined && typeof o.silent !== 'boolean') fail(`${path}.silent`, 'expected true (packets vanish, no reset) or false (connections refused and reset)');
      return { at, fault, beds: beds(o.beds, `${path}.beds`, ward), for: duration(o.for, `${path}.for`), silent: o.silent === true };
    case 'flap': {
      onlyKeys(o, path, ['at', 'fault', 'beds', 'for', 'period']);
      const period = duration(o.period ?? 30, `${path}.period`);
      if (period < 1) fail(`${path}.period`, 'a flapping link changes at most once a second');
      return { at, fault, beds: beds(o.beds, `${path}.beds`, ward), for: duration(o.for, `${path}.for`), period };
    }
    case 'broker-restart':
      onlyKeys(o, path, ['at', 'fault']);
      return { at, fault };
    case 'host-kill':
      onlyKeys(o, path, ['at', 'fault', 'down']);
      return { at, fault, down: duration(o.down ?? 5, `${path}.down`) };
    case 'serial-noise':
      onlyKeys(o, path, ['at', 'fault', 'beds', 'for', 'line']);
      return { at, fault, beds: beds(o.beds, `${path}.beds`, ward), for: duration(o.for, `${path}.for`), line: line(o.line ?? { loss: 0.01, corrupt: 0.005 }, `${path}.line`) };
    case 'power-cut': {
      onlyKeys(o, path, ['at', 'fault', 'beds', 'off', 'outcome']);
      const outcome = o.outcome ?? 'torn';
      if (!OUTCOMES.includes(outcome as CutOutcome)) fail(`${path}.outcome`, `expected one of ${OUTCOMES.join(', ')} (what the flash operation the power fails during leaves)`);
      return { at, fault, beds: beds(o.beds, `${path}.beds`, ward), off: duration(o.off ?? 10, `${path}.off`), outcome: outcome as CutOutcome };
    }
    default:
      return fail(`${path}.fault`, `unknown fault ${describe(fault)} (known: partition, flap, broker-restart, host-kill, serial-noise, power-cut)`);
  }
}

/** Checks a parsed file; `where` names it in errors. */
export function parseScenario(value: unknown, where: string): Scenario {
  const o = object(value, where);
  onlyKeys(o, where, ['name', 'description', 'gateways', 'mix', 'duration', 'speed', 'seed', 'serial', 'timeline', 'drill']);
  if (typeof o.name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,40}$/.test(o.name)) fail(`${where}.name`, 'expected a short lower-case name');
  const gateways = count(o.gateways ?? 12, `${where}.gateways`, 1, 5000);
  const mixObj = object(o.mix ?? { monitor: 6, pump: 4, ventilator: 2 }, `${where}.mix`);
  onlyKeys(mixObj, `${where}.mix`, KINDS);
  const mix = Object.fromEntries(KINDS.map((k) => [k, mixObj[k] === undefined ? 0 : count(mixObj[k], `${where}.mix.${k}`, 0, 1000)])) as Record<DeviceKind, number>;
  if (KINDS.every((k) => mix[k] === 0)) fail(`${where}.mix`, 'at least one device kind needs a share');
  const d = duration(o.duration, `${where}.duration`);
  if (d < 10) fail(`${where}.duration`, 'a scenario runs for at least 10 s');
  const speed = o.speed === undefined ? 1 : typeof o.speed === 'number' && o.speed >= 1 && o.speed <= 600 ? o.speed : fail(`${where}.speed`, `expected scenario seconds per real second, from 1 to 600, got ${describe(o.speed)}`);
  if (o.drill !== undefined && typeof o.drill !== 'boolean') fail(`${where}.drill`, 'expected true or false');
  if (o.timeline !== undefined && !Array.isArray(o.timeline)) fail(`${where}.timeline`, 'expected a list of steps');
  const timeline = ((o.timeline as unknown[] | undefined) ?? []).map((s, i) => step(s, `${where}.timeline[${i}]`, gateways, d));
  return {
    name: o.name,
    description: typeof o.description === 'string' ? o.description : '',
    gateways,
    mix,
    duration: d,
    speed,
    seed: o.seed === undefined ? 1 : count(o.seed, `${where}.seed`, 0, 2 ** 31),
    serial: o.serial === undefined ? { loss: 0, corrupt: 0, duplicate: 0 } : line(o.serial, `${where}.serial`),
    timeline: [...timeline].sort((a, b) => a.at - b.at),
    drill: o.drill === true,
  };
}

/** Commands and attacks carry a signed expiry in the host's real clock: they need real time. */
export function checkSpeed(s: Scenario, speed: number): void {
  const timed = s.timeline.find((x) => 'attack' in x || 'command' in x);
  if (speed !== 1 && timed !== undefined) {
    throw new ScenarioError(`${s.name}: commands and attacks need real time (speed 1): the host signs commands with its own clock, and a gateway on compressed time would find them expired`);
  }
}

export const BUILT_IN_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));

export function builtInScenarios(): string[] {
  return readdirSync(BUILT_IN_DIR)
    .filter((f) => /\.(json|ya?ml)$/.test(f))
    .map((f) => basename(f, extname(f)))
    .sort();
}

/** A built-in scenario by name, or a JSON or YAML file by path. */
export function loadScenario(nameOrPath: string): Scenario {
  const builtIn = readdirSync(BUILT_IN_DIR).find((f) => basename(f, extname(f)) === nameOrPath);
  const path = builtIn !== undefined ? join(BUILT_IN_DIR, builtIn) : nameOrPath;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ScenarioError(`no scenario "${nameOrPath}": not a built-in one (${builtInScenarios().join(', ')}) nor a readable file`);
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text, { maxAliasCount: 100 }) : JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(`${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseScenario(value, basename(path));
}

/** The ward's beds, in order: kinds dealt out in proportion to the mix (bed 1 is the first kind). */
export function wardKinds(n: number, mix: Readonly<Record<DeviceKind, number>>): DeviceKind[] {
  const total = KINDS.reduce((a, k) => a + mix[k], 0);
  const out: DeviceKind[] = [];
  const given: Record<DeviceKind, number> = { monitor: 0, pump: 0, ventilator: 0 };
  for (let i = 0; i < n; i++) {
    // the kind furthest behind its share so far: a 12-bed ward with 6/4/2 gets exactly 6, 4 and 2
    let best = KINDS.find((k) => mix[k] > 0)!;
    for (const k of KINDS) if (mix[k] > 0 && (i + 1) * (mix[k] / total) - given[k] > (i + 1) * (mix[best] / total) - given[best]) best = k;
    given[best]++;
    out.push(best);
  }
  return out;
}

/** The bed numbers (1-based) a step names. */
export function bedsOf(b: Beds, ward: number): number[] {
  if ('all' in b) return Array.from({ length: ward }, (_, i) => i + 1);
  if ('list' in b) return [...new Set(b.list)];
  return Array.from({ length: Math.max(1, Math.round(ward * b.share)) }, (_, i) => i + 1);
}
