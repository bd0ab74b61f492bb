/**
 * Plausible, correlated physiology for the simulated devices, deterministic from a seed. Pure (no
 * clock, no I/O): `next(settings)` gives one report's values and the device's own alarm conditions;
 * the device calls it once per sample period. Time is counted in reports, so the same seed gives the
 * same patient at any simulation speed.
 *
 * - monitor (1 s): heart rate and SpO2 as slow random walks around the patient's baselines with beat
 *   noise; desaturation episodes (SpO2 down to 80–88 % over a minute, heart rate up with it); apnoea
 *   (no breaths: respiration 0, EtCO2 0, SpO2 falling after 10 s, heart rate slowing, then a
 *   recovery breath); non-invasive blood pressure measured every 5 minutes (null between cuffs),
 *   following a slow daily cycle; temperature drifting by tenths.
 * - pump (10 s): the rate reported is the rate set; volume to be infused falls by rate × time;
 *   occlusions (the pump stops, `occlusion` alarm, cleared when it is relieved), air in line (a short
 *   stop, `air-in-line`), and `infusion-complete` when the volume runs out.
 * - ventilator (4 s): breath-by-breath values averaged over the report: peak pressure from tidal
 *   volume over compliance plus PEEP, exhaled volume near the set tidal volume, rate and FiO2 as set,
 *   minute volume; coughs push peak pressure past the limit (`high-pressure`); a disconnection drops
 *   exhaled volume and pressure to nothing (`disconnection`) until the circuit is reconnected.
 */
import type { SettingValue } from '../../firmware/core/command/claims.js';
import type { DeviceKind } from '../../firmware/core/command/profile.js';

export interface Report {
  readonly values: Map<string, number | null>;
  /** Alarm conditions the device has now (its own alarm codes). */
  readonly alarms: ReadonlySet<string>;
}

export interface Physiology {
  next(settings: ReadonlyMap<string, SettingValue>): Report;
}

const round = (v: number, step = 0.1) => Math.round(v / step) * step;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const num = (s: ReadonlyMap<string, SettingValue>, name: string, fallback: number): number => {
  const v = s.get(name);
  return typeof v === 'number' ? v : fallback;
};

/** A Gaussian from two uniforms (Box–Muller). */
function gauss(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export function createPhysiology(kind: DeviceKind, random: () => number): Physiology {
  if (kind === 'monitor') return monitor(random);
  if (kind === 'pump') return pump(random);
  return ventilator(random);
}

function monitor(random: () => number): Physiology {
  const hrBase = 62 + random() * 30;
  const spo2Base = 95 + random() * 3.5;
  const rrBase = 12 + random() * 6;
  const sysBase = 105 + random() * 35;
  const tempBase = 36.5 + random() * 0.7;
  let t = Math.floor(random() * 86_400); // seconds into the patient's day
  let hrDrift = 0;
  let spo2Drift = 0;
  let temp = tempBase;
  let desat = 0; // seconds left in a desaturation episode
  let desatDepth = 0;
  let desatLength = 0;
  let apnoea = 0; // seconds of apnoea so far (0: breathing)
  let apnoeaLength = 0;
  let spo2 = spo2Base;
  let hr = hrBase;
  let sys = sysBase;
  let etco2 = 38;
  return {
    next() {
      t++;
      hrDrift = clamp(0.98 * hrDrift + gauss(random) * 0.6, -12, 12);
      spo2Drift = clamp(0.97 * spo2Drift + gauss(random) * 0.15, -1.5, 1.5);
      temp = clamp(temp + gauss(random) * 0.004 + (tempBase - temp) * 0.001, 35.5, 39);
      if (desat === 0 && apnoea === 0 && random() < 1 / 1800) {
        desatLength = 40 + Math.floor(random() * 80);
        desat = desatLength;
        desatDepth = 8 + random() * 9;
      }
      if (apnoea === 0 && desat === 0 && random() < 1 / 3600) apnoeaLength = 15 + Math.floor(random() * 25);
      if (apnoeaLength > 0) apnoea++;
      // how far SpO2 is pulled down now: a desaturation's triangle, or apnoea after 10 s without a breath
      let pull = 0;
      if (desat > 0) {
        const into = desatLength - desat;
        pull = desatDepth * Math.min(1, into / (desatLength / 2), desat / (desatLength / 2));
        desat--;
      }
      if (apnoea > 10) pull = Math.max(pull, (apnoea - 10) * 0.6);
      const target = spo2Base + spo2Drift - pull;
      spo2 = clamp(spo2 + clamp(target - spo2, -4, 4) + gauss(random) * 0.3, 70, 100);
      const hrTarget = hrBase + hrDrift + (desat > 0 ? pull * 1.2 : 0) - (apnoea > 15 ? 8 : 0);
      hr = clamp(hr + clamp(hrTarget - hr, -6, 6) + gauss(random) * 1.2, 35, 180);
      const breathing = apnoea === 0;
      const rr = breathing ? clamp(rrBase + gauss(random) * 1.2 + (pull > 4 ? 3 : 0), 6, 40) : 0;
      // the capnogram flattens within a few seconds of the last breath and comes back as quickly
      const etco2Target = breathing ? clamp(38 + gauss(random) * 1.5, 25, 50) : 0;
      etco2 = clamp(etco2 + clamp(etco2Target - etco2, -20, 20), 0, 50);
      if (apnoeaLength > 0 && apnoea >= apnoeaLength) {
        apnoea = 0; // a recovery breath
        apnoeaLength = 0;
      }
      // the cuff inflates every 5 minutes; a slow daily swing and some beat-to-beat spread
      let nbp: [number | null, number | null, number | null] = [null, null, null];
      if (t % 300 === 0) {
        sys = clamp(sysBase + 10 * Math.sin((2 * Math.PI * t) / 86_400) + gauss(random) * 6, 70, 210);
        const dia = sys * (0.6 + random() * 0.06);
        nbp = [Math.round(sys), Math.round(dia), Math.round(dia + (sys - dia) / 3)];
      }
      const values = new Map<string, number | null>([
        ['HR', Math.round(hr)],
        ['SPO2', Math.round(spo2)],
        ['RESP', Math.round(rr)],
        ['NBP_SYS', nbp[0]],
        ['NBP_DIA', nbp[1]],
        ['NBP_MEAN', nbp[2]],
        ['ETCO2', Math.round(etco2)],
        ['TEMP', round(temp)],
      ]);
      return { values, alarms: new Set(apnoea > 20 ? ['apnoea'] : []) };
    },
  };
}

function pump(random: () => number): Physiology {
  let infused = 0; // mL since the volume to be infused was set
  let vtbiSet: number | undefined;
  let occluded = 0; // reports left until an occlusion is relieved
  let air = 0;
  return {
    next(settings) {
      const rate = num(settings, 'rate', 0);
      const vtbi = num(settings, 'vtbi', 0);
      if (vtbiSet !== vtbi) {
        vtbiSet = vtbi; // a new bag: the count starts again
        infused = 0;
      }
      if (occluded === 0 && air === 0 && random() < 1 / 2000) occluded = 6 + Math.floor(random() * 18);
      else if (occluded === 0 && air === 0 && random() < 1 / 4000) air = 2 + Math.floor(random() * 4);
      const complete = infused >= vtbi;
      const running = occluded === 0 && air === 0 && !complete;
      if (running) infused = Math.min(vtbi, infused + (rate * 10) / 3600);
      const alarms = new Set<string>();
      if (occluded > 0) {
        alarms.add('occlusion');
        occluded--;
      }
      if (air > 0) {
        alarms.add('air-in-line');
        air--;
      }
      if (complete) alarms.add('infusion-complete');
      const values = new Map<string, number | null>([
        ['RATE', running ? rate : 0],
        ['VTBI_LEFT', round(Math.max(0, vtbi - infused))],
      ]);
      return { values, alarms };
    },
  };
}

function ventilator(random: () => number): Physiology {
  const compliance = 35 + random() * 25; // mL/cmH2O
  let cough = 0;
  let disconnected = 0;
  return {
    next(settings) {
      const vt = num(settings, 'tidalVolume', 450);
      const rate = num(settings, 'rate', 15);
      const peep = num(settings, 'peep', 5);
      const fio2 = num(settings, 'fio2', 40);
      const limit = num(settings, 'pinspLimit', 35);
      if (disconnected === 0 && random() < 1 / 3000) disconnected = 5 + Math.floor(random() * 10);
      if (cough === 0 && random() < 1 / 400) cough = 1;
      const breaths = Math.max(1, Math.round((rate * 4) / 60));
      let peak = 0;
      let vte = 0;
      for (let b = 0; b < breaths; b++) {
        const v = disconnected > 0 ? 0 : vt * (1 + gauss(random) * 0.03);
        const p = disconnected > 0 ? 1 : v / compliance + peep + gauss(random) * 0.5 + (cough > 0 && b === 0 ? limit - peep + 4 : 0);
        peak = Math.max(peak, p);
        vte += v / breaths;
      }
      const off = disconnected > 0;
      const alarms = new Set<string>();
      if (off) {
        alarms.add('disconnection');
        disconnected--;
      }
      if (peak >= limit) alarms.add('high-pressure');
      cough = 0;
      const values = new Map<string, number | null>([
        ['PPEAK', round(peak)],
        ['PEEP', off ? 0 : peep],
        ['VTE', Math.round(vte)],
        ['RR', rate],
        ['FIO2', fio2],
        ['MV', round((vte * rate) / 1000)],
      ]);
      return { values, alarms };
    },
  };
}
