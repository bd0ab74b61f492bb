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
  /**
   * What a device can report for this metric at all (wider than physiology, see the gateway's
   * plausibility checks): a value outside is not a measurement. The gateway records it as missing and
   * raises an `implausible-value` event.
   */
  readonly range: readonly [number, number];
}

const spec = (key: string, mdc: number, refId: string, unit: string, range: readonly [number, number], scale = 0): MetricSpec =>
  Object.freeze({ key, mdc, refId, unit, scale, range: Object.freeze([range[0], range[1]] as const) });

export const METRICS: readonly MetricSpec[] = Object.freeze([
  // patient monitor
  spec('hr', 147842, 'MDC_ECG_HEART_RATE', '/min', [0, 400]),
  spec('spo2', 150456, 'MDC_PULS_OXIM_SAT_O2', '%', [0, 100]),
  spec('rr', 151562, 'MDC_RESP_RATE', '/min', [0, 200]),
  spec('nibpSys', 150021, 'MDC_PRESS_BLD_NONINV_SYS', 'mm[Hg]', [0, 400]),
  spec('nibpDia', 150022, 'MDC_PRESS_BLD_NONINV_DIA', 'mm[Hg]', [0, 400]),
  spec('nibpMean', 150023, 'MDC_PRESS_BLD_NONINV_MEAN', 'mm[Hg]', [0, 400]),
  spec('etco2', 151708, 'MDC_AWAY_CO2_ET', 'mm[Hg]', [0, 200]),
  spec('temp', 150364, 'MDC_TEMP_BODY', 'Cel', [0, 50], -1),
  // infusion pump
  spec('pumpRate', 157784, 'MDC_FLOW_FLUID_PUMP', 'mL/h', [0, 10_000], -1),
  spec('vtbiRemain', 157872, 'MDC_VOL_FLUID_TBI_REMAIN', 'mL', [0, 100_000], -1),
  // ventilator
  spec('ppeak', 151817, 'MDC_PRESS_AWAY_INSP_PEAK', 'cm[H2O]', [-50, 200]),
  spec('peep', 151976, 'MDC_VENT_PRESS_AWAY_END_EXP_POS', 'cm[H2O]', [0, 100]),
  spec('vte', 152664, 'MDC_VOL_AWAY_TIDAL_EXP', 'mL', [0, 5000]),
  spec('ventRate', 151586, 'MDC_VENT_RESP_RATE', '/min', [0, 200]),
  spec('fio2', 152196, 'MDC_CONC_AWAY_O2_INSP', '%', [0, 100]),
  spec('mv', 151996, 'MDC_VENT_VOL_MINUTE', 'L/min', [0, 100], -1),
]);

const BY_MDC = new Map(METRICS.map((m) => [m.mdc, m]));

export function metricByMdc(mdc: number): MetricSpec | undefined {
  return BY_MDC.get(mdc);
}

export function metricByKey(key: string): MetricSpec | undefined {
  return METRICS.find((m) => m.key === key);
}
