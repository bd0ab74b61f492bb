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

/**
 * Who may co-sign a soft-limit override (the second signature of a COSE_Sign), as a grant of its own:
 * default deny. Nurses may change a pump's rate but not vouch for another nurse's override; the
 * roles that set the limits (physicians, pharmacists for pumps, respiratory therapists for
 * ventilators) and the charge nurse for pump rate and volume may. `vigil trust build --cosign` overrides.
 */
export const DEFAULT_COSIGN: ReadonlyMap<string, readonly string[]> = new Map([
  ['charge-nurse', ['pump.rate', 'pump.vtbi']],
  ['physician', ['pump.*', 'ventilator.*', 'monitor.*']],
  ['pharmacist', ['pump.*']],
  ['respiratory-therapist', ['ventilator.*']],
]);
