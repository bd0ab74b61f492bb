/**
 * FHIR R4 views of a bed: the gateway's device as a Device resource, and vitals as Observation
 * resources coded with MDC (urn:iso:std:iso:11073:10101) and, where a mapping exists, LOINC.
 * Values in UCUM. One Observation per metric per batch, its value the batch's last sample, with the
 * whole series as a SampledData component so no sample is left out.
 */
import type { Column, VitalsBatch } from '../../firmware/core/vitals/index.js';
import { metricByMdc } from '../../firmware/core/vitals/index.js';
import type { GatewayRow } from '../types.js';

const MDC = 'urn:iso:std:iso:11073:10101';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

/** LOINC codes for the metrics that have a well-known vital-signs mapping. */
export const LOINC_FOR: Readonly<Record<string, { code: string; display: string }>> = {
  hr: { code: '8867-4', display: 'Heart rate' },
  spo2: { code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry' },
  rr: { code: '9279-1', display: 'Respiratory rate' },
  nibpSys: { code: '8480-6', display: 'Systolic blood pressure' },
  nibpDia: { code: '8462-4', display: 'Diastolic blood pressure' },
  nibpMean: { code: '8478-0', display: 'Mean blood pressure' },
  temp: { code: '8310-5', display: 'Body temperature' },
  etco2: { code: '19889-5', display: 'Carbon dioxide/Gas.total.at end expiration in Exhaled gas' },
  fio2: { code: '3150-0', display: 'Inhaled oxygen concentration' },
};

export function deviceResource(g: GatewayRow): Record<string, unknown> {
  return {
    resourceType: 'Device',
    id: g.id,
    identifier: [{ system: 'urn:vigil:gateway', value: g.id }, ...(g.device_serial ? [{ system: 'urn:vigil:device-serial', value: g.device_serial }] : [])],
    status: g.presence === 'offline' ? 'inactive' : 'active',
    serialNumber: g.device_serial ?? undefined,
    modelNumber: g.device_model ?? undefined,
    deviceName: [{ name: g.device_model ?? g.id, type: 'model-name' }],
    type: g.device_kind ? { coding: [{ system: 'urn:vigil:device-kind', code: g.device_kind }], text: g.device_kind } : undefined,
    version: g.firmware ? [{ type: { text: 'gateway firmware' }, value: g.firmware }] : undefined,
    location: g.bed ? { display: g.bed } : undefined,
  };
}

function iso(batch: VitalsBatch, offsetMs: number): string | undefined {
  return batch.clock === 'utc' ? new Date(batch.t0 + offsetMs).toISOString() : undefined;
}

function observation(gateway: string, bootHex: string, seq: number, batch: VitalsBatch, c: Column, historical: boolean): Record<string, unknown> | undefined {
  const spec = metricByMdc(c.mdc);
  const values = c.values;
  let lastIdx = values.length - 1;
  while (lastIdx >= 0 && values[lastIdx] === null) lastIdx--;
  const coding = [{ system: MDC, code: String(c.mdc), display: spec?.refId }];
  const loinc = spec === undefined ? undefined : LOINC_FOR[spec.key];
  if (loinc !== undefined) coding.push({ system: LOINC, code: loinc.code, display: loinc.display });
  const start = iso(batch, 0);
  const end = iso(batch, c.dt * Math.max(0, values.length - 1));
  return {
    resourceType: 'Observation',
    id: `${gateway}-${bootHex.slice(0, 8)}-${seq}-${c.mdc}`,
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding, text: spec?.key },
    device: { reference: `Device/${gateway}` },
    effectivePeriod: start === undefined ? undefined : { start, end },
    valueQuantity: lastIdx < 0 ? undefined : { value: values[lastIdx], unit: c.unit, system: UCUM, code: c.unit },
    dataAbsentReason: lastIdx < 0 ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'not-performed' }] } : undefined,
    component: [
      {
        code: { coding, text: `${spec?.key ?? c.mdc} series` },
        valueSampledData: {
          origin: { value: 0, unit: c.unit, system: UCUM, code: c.unit },
          period: c.dt,
          dimensions: 1,
          data: values.map((v) => (v === null ? 'E' : String(v))).join(' '),
        },
      },
    ],
    meta: historical ? { tag: [{ system: 'urn:vigil:tag', code: 'historical', display: 'replayed from the gateway buffer after an outage' }] } : undefined,
  };
}

export function observationBundle(gateway: string, rows: ReadonlyArray<{ bootHex: string; seq: number; batch: VitalsBatch; historical: boolean }>): Record<string, unknown> {
  const entry = rows.flatMap((r) => r.batch.columns.map((c) => observation(gateway, r.bootHex, r.seq, r.batch, c, r.historical))).filter((x) => x !== undefined).map((resource) => ({ resource }));
  return { resourceType: 'Bundle', type: 'searchset', total: entry.length, entry };
}
