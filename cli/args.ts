/** Argument checks shared by the `vigil` subcommands; each failure is a UsageError naming the option. */
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

export function numberOrText(text: string): number | string {
  return /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : text;
}
