/**
 * HL7 v2.6 ORU^R01 in the IHE PCD-01 (Communicate PCD Data) form, for an EHR feed: MSH, PID, PV1, OBR,
 * then per metric an OBX with the MDC code (coding system MDC), the value, the UCUM unit, the
 * observation time and the equipment identifier. Segments end with carriage returns, as v2 requires.
 */
import type { VitalsBatch } from '../../firmware/core/vitals/index.js';
import { metricByMdc } from '../../firmware/core/vitals/index.js';

function ts(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+0000`;
}

/** Escapes HL7 v2 delimiters in a field value. */
export function esc(s: string): string {
  return s.replace(/\\/g, '\\E\\').replace(/\|/g, '\\F\\').replace(/\^/g, '\\S\\').replace(/&/g, '\\T\\').replace(/~/g, '\\R\\').replace(/\r|\n/g, ' ');
}

export interface Oru {
  readonly gateway: string;
  readonly bed: string | null;
  readonly batch: VitalsBatch;
  readonly controlId: string;
  readonly nowMs: number;
  readonly site: string;
}

export function oruR01(o: Oru): string {
  const b = o.batch;
  const when = b.clock === 'utc' ? ts(b.t0) : ts(o.nowMs);
  // OBX-18: the device serial, with the gateway as namespace; "L" (local), since Vigil knows no EUI-64 for the device
  const equipment = `${esc(b.serial)}^^${esc(o.gateway)}^L`;
  const segs = [
    `MSH|^~\\&|VIGIL^${esc(o.site)}^L|${esc(o.site)}|||${ts(o.nowMs)}||ORU^R01^ORU_R01|${esc(o.controlId)}|P|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO`,
    `PID|||${esc(o.bed ?? o.gateway)}^^^VIGIL^BED||^^^^^^U`,
    `PV1||I|${esc(o.bed ?? o.gateway)}`,
    `OBR|1|${esc(o.controlId)}^VIGIL|${esc(o.controlId)}^VIGIL|182777000^monitoring of patient^SCT|||${when}`,
  ];
  let n = 0;
  for (const c of b.columns) {
    const spec = metricByMdc(c.mdc);
    let last = c.values.length - 1;
    while (last >= 0 && c.values[last] === null) last--;
    if (last < 0) continue;
    const at = b.clock === 'utc' ? ts(b.t0 + c.dt * last) : when;
    n++;
    segs.push(`OBX|${n}|NM|${c.mdc}^${esc(spec?.refId ?? String(c.mdc))}^MDC|1.0.0.${n}|${c.values[last]}|${esc(c.unit)}^${esc(c.unit)}^UCUM|||||R|||${at}||||${equipment}`);
  }
  return segs.join('\r') + '\r';
}
