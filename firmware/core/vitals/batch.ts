/**
 * Compact vitals batches: the samples of one device over a few seconds, one column per metric.
 *
 * A column holds its samples as scaled integers (value = integer x 10^scale), delta-coded against the
 * previous sample, zigzag-mapped and written as LEB128 varints: a heart rate that moves a little costs
 * one byte a sample. A zero delta is followed by a varint counting the further zero deltas that come
 * straight after it, so a value that holds (NIBP between cuff cycles, a pump rate) costs two bytes a
 * run. Missing samples (a probe off, NIBP not yet measured) are marked in a bitmap and take no room in
 * the values. Units, scales and sample intervals are written only where they differ from the metric's
 * (metrics.ts) or the batch's defaults; map keys are small integers and an MDC code of partition 2
 * (SCADA) takes 3 bytes, so a one-second batch stays small. The whole batch is CBOR under Vigil's
 * profile, and it is the record the gateway stores in flash and the host stores as it arrives;
 * docs/protocol.md gives the CDDL (written from `batchBody` below).
 */
import { decode, encode, type CborValue } from '../cbor/index.js';
import type { Result } from '../cbor/errors.js';
import { array, bytes, int, isProblem, literal, map, named, opt, req, text, uint, type Schema } from '../protocol/schema.js';
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

/** MDC codes of partition 2 (SCADA) are written XOR this, so they fit 16 bits (3 bytes of CBOR). */
const MDC_SCADA = 0x20000;
const MAX_COLUMNS = 32;

export const column = named(
  'column',
  map({
    mdc: req(uint(), 'MDC code XOR 0x20000: partition 2 (SCADA) codes fit 16 bits', 1),
    v: req(bytes(undefined, 8192), 'samples: zigzag LEB128 varints of deltas of scaled integers; a 0 is followed by a varint counting further 0 deltas', 2),
    dt: opt(uint(86_400_000), "ms between samples, when not the batch's", 3),
    unit: opt(text(24), "UCUM, when not the metric's default", 4),
    scale: opt(int(-9, 9), "value = integer * 10^scale, when not the metric's default", 5),
    gaps: opt(bytes(undefined, 512), 'bitmap, bit i set: sample i missing (takes no room in v)', 6),
    n: opt(uint(MAX_SAMPLES), 'number of samples, with gaps', 7),
  }),
);

export const batchBody = named(
  'batch-body',
  map({
    t0: req(uint(), 'time-ms of the first sample', 1),
    boot: opt(literal(1), 'present when t0 counts from boot (clock "boot"); absent: UTC', 2),
    serial: req(text(64), 'device serial', 3),
    columns: req(array(column, MAX_COLUMNS, 1), 'one per metric', 4),
    dt: req(uint(86_400_000), 'ms between samples, for every column that gives none', 5),
  }),
);

type ColumnMap = typeof column extends Schema<infer T> ? T : never;

function encodeColumn(c: Column, batchDt: number): ColumnMap {
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
    const scaled = v === null ? NaN : Math.round(v * factor);
    // a value no integer at this scale holds is not a sample: missing (the gateway's boundary checks
    // ranges first, with an event, so this is only a last guard that keeps the codec total)
    if (!Number.isSafeInteger(scaled)) {
      gaps[i >> 3] = gaps[i >> 3]! | (1 << (i & 7));
      anyGap = true;
      return;
    }
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
  return {
    mdc: c.mdc ^ MDC_SCADA,
    v: Uint8Array.from(bytes),
    ...(c.dt !== batchDt ? { dt: c.dt } : {}),
    ...(spec === undefined || spec.unit !== c.unit ? { unit: c.unit } : {}),
    ...(spec === undefined || spec.scale !== c.scale ? { scale: c.scale } : {}),
    ...(anyGap ? { gaps, n: c.values.length } : {}),
  };
}

/** The most common sample interval among the columns: the batch's default. */
function commonDt(columns: readonly Column[]): number {
  const counts = new Map<number, number>();
  let best = columns[0]?.dt ?? 1000;
  for (const c of columns) {
    const n = (counts.get(c.dt) ?? 0) + 1;
    counts.set(c.dt, n);
    if (n > (counts.get(best) ?? 0)) best = c.dt;
  }
  return best;
}

/** The one encode of a batch: its bytes go to flash, then on the wire as they are. Never throws for a well-typed batch. */
export function encodeBatch(b: VitalsBatch): Uint8Array {
  const dt = commonDt(b.columns);
  return encode(
    batchBody.toCbor({
      t0: b.t0,
      ...(b.clock === 'boot' ? { boot: 1 as const } : {}),
      serial: b.serial,
      columns: b.columns.map((c) => encodeColumn(c, dt)),
      dt,
    }),
  );
}

export function decodeBatch(bytes: Uint8Array): Result<VitalsBatch, VitalsError> {
  const r = decode(bytes, { maxDepth: 4, maxLength: 8192 });
  if (!r.ok) return { ok: false, error: { type: 'malformed', detail: `CBOR: ${r.error.message} (at byte ${r.error.offset})` } };
  return batchFromMap(r.value);
}

/** The batch in an already decoded value. */
export function batchFromMap(m: CborValue): Result<VitalsBatch, VitalsError> {
  const bad = (detail: string) => ({ ok: false as const, error: { type: 'malformed' as const, detail } });
  const body = batchBody.parse(m, 'batch');
  if (isProblem(body)) return bad(body.detail);
  const columns: Column[] = [];
  for (const [i, c] of body.columns.entries()) {
    const mdc = c.mdc ^ MDC_SCADA;
    const spec = metricByMdc(mdc);
    const unit = c.unit ?? spec?.unit;
    const scale = c.scale ?? spec?.scale;
    if (unit === undefined || scale === undefined) return bad(`batch.columns[${i}] (MDC ${mdc}): an unknown metric needs its unit and scale`);
    if ((c.gaps === undefined) !== (c.n === undefined)) return bad(`batch.columns[${i}]: gaps and n go together`);
    const values = decodeSamples(c.v, c.gaps, c.n, scale);
    if (typeof values === 'string') return values.startsWith('more than') ? { ok: false, error: { type: 'out-of-range', detail: `batch.columns[${i}]: ${values}` } } : bad(`batch.columns[${i}]: ${values}`);
    columns.push({ mdc, unit, scale, dt: c.dt ?? body.dt, values });
  }
  return { ok: true, value: { t0: body.t0, clock: body.boot === 1 ? 'boot' : 'utc', serial: body.serial, columns } };
}

/** Varints → values, with the gaps bitmap; a string says what is wrong. */
function decodeSamples(v: Uint8Array, gapBits: Uint8Array | undefined, n: number | undefined, scale: number): Array<number | null> | string {
  const present: number[] = [];
  let prev = 0;
  let acc = 0;
  let mul = 1;
  let repeat = false; // the next varint counts further zero deltas
  for (let k = 0; k < v.length; k++) {
    const byte = v[k]!;
    acc += (byte & 0x7f) * mul;
    mul *= 0x80;
    if (mul > 2 ** 56) return 'a varint is too long';
    if ((byte & 0x80) !== 0) continue;
    if (repeat) {
      if (present.length + acc > MAX_SAMPLES) return `more than ${MAX_SAMPLES} samples`;
      for (let z = 0; z < acc; z++) present.push(prev);
      repeat = false;
    } else if (acc === 0) {
      present.push(prev);
      repeat = true;
    } else {
      prev += unzigzag(acc);
      if (!Number.isSafeInteger(prev)) return 'a sample overflows';
      present.push(prev);
    }
    if (present.length > MAX_SAMPLES) return `more than ${MAX_SAMPLES} samples`;
    acc = 0;
    mul = 1;
  }
  if (mul !== 1 || repeat) return 'the samples are cut short';
  const total = n ?? present.length;
  const values: Array<number | null> = [];
  let p = 0;
  for (let k = 0; k < total; k++) {
    const missing = gapBits !== undefined && ((gapBits[k >> 3] ?? 0) >> (k & 7)) & 1;
    if (missing) values.push(null);
    else {
      const x = present[p++];
      if (x === undefined) return 'fewer samples than n';
      values.push(scale < 0 ? x / Math.pow(10, -scale) : x * Math.pow(10, scale));
    }
  }
  if (p !== present.length) return 'more samples than n';
  return values;
}
