/**
 * The default grants of a trust list: which settings each clinical role may change, as
 * `<device kind>.<setting>` or `<device kind>.*`. A site overrides them with `vigil trust build --grant`.
 * Roles without clinical grants (biomed, admin) may not sign setting changes at all.
 */
export const DEFAULT_GRANTS: ReadonlyMap<string, readonly string[]> = new Map([
  ['nurse', ['pump.rate', 'pump.vtbi', 'monitor.*']],
  ['charge-nurse', ['pump.rate', 'pump.vtbi', 'pump.bolus', 'monitor.*']],
  ['physician', ['pump.*', 'ventilator.*', 'monitor.*']],
  ['pharmacist', ['pump.*']],
  ['respiratory-therapist', ['ventilator.*', 'monitor.*']],
]);

/** The person a key stands for when the trust list names nobody: derived from its kid. */
export function defaultPerson(kidHex: string): string {
  return `key-${kidHex}`;
}
