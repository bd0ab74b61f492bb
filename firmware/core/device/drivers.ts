/**
 * Device drivers: one per device kind behind one interface, mapping the device's own observation
 * names to MDC-coded metrics and building its setting commands. Settings use the profile's names.
 */
import type { DeviceKind } from '../command/profile.js';
import { metricByKey } from '../vitals/metrics.js';

export interface DeviceDriver {
  readonly kind: DeviceKind;
  /** How often the device reports observations, ms. */
  readonly sampleMs: number;
  /** Device-native observation name → metric key of firmware/core/vitals/metrics.ts. */
  readonly observations: ReadonlyMap<string, string>;
  /** MDC code of each metric the device reports, in column order. */
  readonly mdcs: readonly number[];
}

function driver(kind: DeviceKind, sampleMs: number, names: Record<string, string>): DeviceDriver {
  const observations = new Map(Object.entries(names));
  const mdcs = [...observations.values()].map((key) => {
    const spec = metricByKey(key);
    if (spec === undefined) throw new Error(`driver ${kind}: no metric ${key}`);
    return spec.mdc;
  });
  return Object.freeze({ kind, sampleMs, observations, mdcs });
}

export const DRIVERS: Readonly<Record<DeviceKind, DeviceDriver>> = Object.freeze({
  monitor: driver('monitor', 1000, { HR: 'hr', SPO2: 'spo2', RESP: 'rr', NBP_SYS: 'nibpSys', NBP_DIA: 'nibpDia', NBP_MEAN: 'nibpMean', ETCO2: 'etco2', TEMP: 'temp' }),
  pump: driver('pump', 10_000, { RATE: 'pumpRate', VTBI_LEFT: 'vtbiRemain' }),
  ventilator: driver('ventilator', 4000, { PPEAK: 'ppeak', PEEP: 'peep', VTE: 'vte', RR: 'ventRate', FIO2: 'fio2', MV: 'mv' }),
});
