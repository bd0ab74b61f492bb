/**
 * The CBOR profile against cbor-x (a mature, speed-tuned general codec) on the same payload, in the
 * same process. Vigil's decoder does more (strict canonical checks) and must also run on XS, so the
 * ratio shows what the strictness costs on the host.
 */
import { Decoder, Encoder } from 'cbor-x';
import { decode, encode, type CborValue } from '../firmware/core/cbor/index.js';
import { compare, fmt, table } from './measure.js';

function samplePayload(): CborValue {
  // a birth-certificate-sized map plus a column of integers, like a vitals batch
  return new Map<string | number, CborValue>([
    ['bootId', new Uint8Array(16).fill(7)],
    ['seq', 123456],
    ['t0', 1767225600000],
    ['dt', 1000],
    ['site', 'ward-7'],
    ['metrics', Array.from({ length: 8 }, (_, m) => new Map<string | number, CborValue>([[1, 147842 + m], [2, 'bpm'], [3, Array.from({ length: 30 }, (_, i) => 60 + ((i * 7 + m) % 13))]]))],
  ]);
}

export function benchCbor(): string {
  const value = samplePayload();
  const bytes = encode(value);
  const cx = new Decoder({ mapsAsObjects: false, useRecords: false } as never);
  const cxe = new Encoder({ mapsAsObjects: false, useRecords: false } as never);
  const d = compare(() => decode(bytes), () => cx.decode(bytes));
  const e = compare(() => encode(value), () => cxe.encode(value));
  return [
    `CBOR profile vs cbor-x, payload of ${bytes.length} bytes (ops/s, best of 3 interleaved rounds)`,
    table([
      ['operation', 'vigil', 'cbor-x', 'vigil / cbor-x'],
      ['strict decode', fmt(d.a), fmt(d.b), d.ratio.toFixed(2)],
      ['deterministic encode', fmt(e.a), fmt(e.b), e.ratio.toFixed(2)],
    ]),
  ].join('\n');
}
