/** Argument checks shared by the `vigil` subcommands; each failure is a UsageError naming the option. */
import { idProblem } from '../firmware/core/protocol/topics.js';
import { UsageError } from './command.js';

export function required(value: string | undefined, option: string): string {
  if (value === undefined || value === '') throw new UsageError(`${option} is required`);
  return value;
}

export function wholeNumber(value: string | undefined, option: string, min = 0): number {
  const text = required(value, option);
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${option} expects a whole number >= ${min}, got "${text}"`);
  return n;
}

/** `name=value` pairs; values that look like numbers become numbers. */
export function assignments(values: readonly string[] | undefined, option: string): Array<[string, string]> {
  return (values ?? []).map((v) => {
    const i = v.indexOf('=');
    if (i <= 0 || i === v.length - 1) throw new UsageError(`${option} expects name=value, got "${v}"`);
    return [v.slice(0, i), v.slice(i + 1)];
  });
}

/** A number when the text looks like one (-0 becomes 0: docs/commands.md, "Numbers"), else the text. */
export function numberOrText(text: string): number | string {
  if (!/^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) return text;
  const n = Number(text);
  return n === 0 ? 0 : n;
}

/** --site and --gateway, checked against the protocol's id rules (docs/protocol.md). */
export function siteAndGateway(values: { site?: string | undefined; gateway?: string | undefined }): { site: string; gateway: string } {
  const site = required(values.site, '--site');
  const gateway = required(values.gateway, '--gateway');
  for (const [id, kind] of [[site, 'site'], [gateway, 'gateway']] as const) {
    const problem = idProblem(id, kind);
    if (problem !== undefined) throw new UsageError(problem);
  }
  return { site, gateway };
}

/** The arguments after `<command> <verb>`, for a command that has one verb today (`vigil keys new`). */
export function afterVerb(args: readonly string[], command: string, verb: string): string[] {
  const [given, ...rest] = args;
  if (given !== verb) throw new UsageError(`expected "${command} ${verb}", got "${command} ${given ?? ''}"`);
  return rest;
}
