/**
 * Compact vitals batches: the samples of one device over a few seconds, one column per metric.
 *
 * A column holds its samples as scaled integers (value = integer x 10^scale), delta-coded against the
 * previous sample, zigzag-mapped and written as LEB128 varints: a heart rate that moves a little costs
 * one byte a sample. A zero delta is followed by a varint counting the further zero deltas that come
 * straight after it, so a value that holds (NIBP between cuff cycles, a pump rate) costs two bytes a run. Missing samples (a probe off, NIBP not yet measured) are marked in a bitmap and take no
 * room in the values. Units and scales are written only where they differ from the metric's defaults
 * (metrics.ts). The whole batch is CBOR under Vigil's profile; docs/protocol.md gives the CDDL.
 */
import { decode, encode, type CborValue } from '../cbor/index.js';
import type { Result } from '../cbor/errors.js';
import { metricByMdc } from './metrics.js';

export type Clock = 'utc' | 'boot';

export interface Column {
  readonly mdc: number;
  readonly unit: string;
  readonly scale: number;
  /** Milliseconds between samples. */
  readonly dt: number;
  /** Sample values in the unit; null where the device reported none. */
  readonly values: ReadonlyArray<number | null>;
}

export interface VitalsBatch {
  /** Time of the first sample: epoch ms when `clock` is 'utc', ms since boot otherwise. */
  readonly t0: number;
  readonly clock: Clock;
  readonly serial: string;
  readonly columns: readonly Column[];
}

export interface VitalsError {
  readonly type: 'malformed' | 'out-of-range';
  readonly detail: string;
}

const MAX_SAMPLES = 3600;

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** LEB128 of a non-negative safe integer (arithmetic, not bit operations: values may exceed 2^31). */
function putVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function encodeColumn(c: Column): Map<string, CborValue> {
  const factor = Math.pow(10, -c.scale);
  const bytes: number[] = [];
  const gaps = new Uint8Array(Math.ceil(c.values.length / 8));
  let anyGap = false;
  let prev = 0;
  let zeros = 0; // zero deltas pending, written as 0 and a repeat count
  const flushZeros = () => {
    if (zeros > 0) {
      bytes.push(0);
      putVarint(bytes, zeros - 1);
      zeros = 0;
    }
  };
  c.values.forEach((v, i) => {
    if (v === null) {
      gaps[i >> 3] = gaps[i >> 3]! | (1 << (i & 7));
      anyGap = true;
      return;
    }
    const scaled = Math.round(v * factor);
    if (!Number.isSafeInteger(scaled)) throw new RangeError(`sample ${v} of MDC ${c.mdc} does not fit at scale ${c.scale}`);
    if (scaled === prev) {
      zeros++;
    } else {
      flushZeros();
      putVarint(bytes, zigzag(scaled - prev));
    }
    prev = scaled;
  });
  flushZeros();
  const spec = metricByMdc(c.mdc);
  const m = new Map<string, CborValue>([['mdc', c.mdc], ['v', Uint8Array.from(bytes)]]);
  if (spec === undefined || spec.unit !== c.unit) m.set('unit', c.unit);
  if (spec === undefined || spec.scale !== c.scale) m.set('scale', c.scale);
  m.set('dt', c.dt);
  if (anyGap) {
    m.set('gaps', gaps);
    m.set('n', c.values.length);
  }
  return m;
}

export function encodeBatch(b: VitalsBatch): Uint8Array {
  return encode(
    new Map<string, CborValue>([
      ['t0', b.t0],
      ['clock', b.clock],
      ['serial', b.serial],
      ['metrics', b.columns.map(encodeColumn)],
    ]),
  );
}

export function decodeBatch(bytes: Uint8Array): Result<VitalsBatch, VitalsError> {
  const r = decode(bytes, { maxDepth: 4, maxLength: 4096 });
  if (!r.ok) return { ok: false, error: { type: 'malformed', detail: `CBOR: ${r.error.type}` } };
  return batchFromMap(r.value);
}

/** The batch in an already decoded map (a record's other keys, such as bootId and seq, are left alone). */
export function batchFromMap(m: CborValue): Result<VitalsBatch, VitalsError> {
  const bad = (detail: string) => ({ ok: false as const, error: { type: 'malformed' as const, detail } });
  if (!(m instanceof Map)) return bad('a batch is a map');
  const t0 = m.get('t0');
  const clock = m.get('clock');
  const serial = m.get('serial');
  const metrics = m.get('metrics');
  if (typeof t0 !== 'number' || !Number.isSafeInteger(t0) || t0 < 0) return bad('t0 must be a time in ms');
  if (clock !== 'utc' && clock !== 'boot') return bad('clock must be "utc" or "boot"');
  if (typeof serial !== 'string' || serial.length === 0) return bad('serial is required');
  if (!Array.isArray(metrics)) return bad('metrics must be an array');
  const columns: Column[] = [];
  for (const [i, c] of (metrics as readonly CborValue[]).entries()) {
    if (!(c instanceof Map)) return bad(`metrics[${i}] is not a map`);
    const mdc = c.get('mdc');
    const v = c.get('v');
    const dt = c.get('dt');
    if (typeof mdc !== 'number' || !Number.isSafeInteger(mdc) || mdc < 0 || !(v instanceof Uint8Array) || typeof dt !== 'number' || !Number.isSafeInteger(dt) || dt <= 0) {
      return bad(`metrics[${i}] needs mdc, v and dt`);
    }
    const spec = metricByMdc(mdc);
    const unit = c.get('unit') ?? spec?.unit;
    const scale = c.get('scale') ?? spec?.scale;
    if (typeof unit !== 'string' || typeof scale !== 'number' || !Number.isSafeInteger(scale) || scale < -9 || scale > 9) {
      return bad(`metrics[${i}] (MDC ${mdc}) needs a unit and scale`);
    }
    const gaps = c.get('gaps');
    const n = c.get('n');
    if ((gaps === undefined) !== (n === undefined) || (gaps !== undefined && !(gaps instanceof Uint8Array)) || (n !== undefined && (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_SAMPLES))) {
      return bad(`metrics[${i}]: gaps and n go together`);
    }
    // varints → scaled integers
    const present: number[] = [];
    let prev = 0;
    let acc = 0;
    let mul = 1;
    let repeat = false; // the next varint counts further zero deltas
    for (let k = 0; k < v.length; k++) {
      const byte = v[k]!;
      acc += (byte & 0x7f) * mul;
      mul *= 0x80;
      if (mul > 2 ** 56) return bad(`metrics[${i}]: a varint is too long`);
      if ((byte & 0x80) !== 0) continue;
      if (repeat) {
        if (present.length + acc > MAX_SAMPLES) return { ok: false, error: { type: 'out-of-range', detail: `metrics[${i}]: more than ${MAX_SAMPLES} samples` } };
        for (let z = 0; z < acc; z++) present.push(prev);
        repeat = false;
      } else if (acc === 0) {
        present.push(prev);
        repeat = true;
      } else {
        prev += unzigzag(acc);
        if (!Number.isSafeInteger(prev)) return bad(`metrics[${i}]: a sample overflows`);
        present.push(prev);
      }
      if (present.length > MAX_SAMPLES) return { ok: false, error: { type: 'out-of-range', detail: `metrics[${i}]: more than ${MAX_SAMPLES} samples` } };
      acc = 0;
      mul = 1;
    }
    if (mul !== 1 || repeat) return bad(`metrics[${i}]: the samples are cut short`);
    const total = n === undefined ? present.length : (n as number);
    const gapBits = gaps as Uint8Array | undefined;
    const values: Array<number | null> = [];
    let p = 0;
    for (let k = 0; k < total; k++) {
      const missing = gapBits !== undefined && ((gapBits[k >> 3] ?? 0) >> (k & 7)) & 1;
      if (missing) values.push(null);
      else {
        const x = present[p++];
        if (x === undefined) return bad(`metrics[${i}]: fewer samples than n`);
        values.push(scale < 0 ? x / Math.pow(10, -scale) : x * Math.pow(10, scale));
      }
    }
    if (p !== present.length) return bad(`metrics[${i}]: more samples than n`);
    if (values.length > MAX_SAMPLES) return { ok: false, error: { type: 'out-of-range', detail: `metrics[${i}]: more than ${MAX_SAMPLES} samples` } };
    columns.push({ mdc, unit, scale, dt, values });
  }
  return { ok: true, value: { t0, clock, serial, columns } };
}
