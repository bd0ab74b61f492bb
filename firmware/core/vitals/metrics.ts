/**
 * The metrics Vigil records, keyed by IEEE 11073-10101 (MDC) code, with UCUM units and the decimal
 * scale a value is stored at. Codes as used in IHE PCD-01 messages and published 11073 tables; a
 * site's biomed team should confirm them against the RTMMS before clinical use (docs/vitals-log.md).
 */
export interface MetricSpec {
  readonly key: string;
  readonly mdc: number;
  readonly refId: string;
  readonly unit: string;
  /** Stored as an integer times 10^scale: -1 keeps one decimal (36.6 Cel is stored as 366). */
  readonly scale: number;
}

const spec = (key: string, mdc: number, refId: string, unit: string, scale = 0): MetricSpec => Object.freeze({ key, mdc, refId, unit, scale });

export const METRICS: readonly MetricSpec[] = Object.freeze([
  // patient monitor
  spec('hr', 147842, 'MDC_ECG_HEART_RATE', '/min'),
  spec('spo2', 150456, 'MDC_PULS_OXIM_SAT_O2', '%'),
  spec('rr', 151562, 'MDC_RESP_RATE', '/min'),
  spec('nibpSys', 150021, 'MDC_PRESS_BLD_NONINV_SYS', 'mm[Hg]'),
  spec('nibpDia', 150022, 'MDC_PRESS_BLD_NONINV_DIA', 'mm[Hg]'),
  spec('nibpMean', 150023, 'MDC_PRESS_BLD_NONINV_MEAN', 'mm[Hg]'),
  spec('etco2', 151708, 'MDC_AWAY_CO2_ET', 'mm[Hg]'),
  spec('temp', 150364, 'MDC_TEMP_BODY', 'Cel', -1),
  // infusion pump
  spec('pumpRate', 157784, 'MDC_FLOW_FLUID_PUMP', 'mL/h', -1),
  spec('vtbiRemain', 157872, 'MDC_VOL_FLUID_TBI_REMAIN', 'mL', -1),
  // ventilator
  spec('ppeak', 151817, 'MDC_PRESS_AWAY_INSP_PEAK', 'cm[H2O]'),
  spec('peep', 151976, 'MDC_VENT_PRESS_AWAY_END_EXP_POS', 'cm[H2O]'),
  spec('vte', 152664, 'MDC_VOL_AWAY_TIDAL_EXP', 'mL'),
  spec('ventRate', 151586, 'MDC_VENT_RESP_RATE', '/min'),
  spec('fio2', 152196, 'MDC_CONC_AWAY_O2_INSP', '%'),
  spec('mv', 151996, 'MDC_VENT_VOL_MINUTE', 'L/min', -1),
]);

const BY_MDC = new Map(METRICS.map((m) => [m.mdc, m]));

export function metricByMdc(mdc: number): MetricSpec | undefined {
  return BY_MDC.get(mdc);
}

export function metricByKey(key: string): MetricSpec | undefined {
  return METRICS.find((m) => m.key === key);
}
