/** Vitals and history records exactly as a gateway publishes them (docs/protocol.md), for host tests and the benchmark. */
import { decode, encode, type CborValue } from '../../firmware/core/cbor/index.js';
import { encodeBatch } from '../../firmware/core/vitals/index.js';
import { sampleBatch, type DeviceKindName } from '../portable/vitals-samples.js';

export function record(o: { bootId: Uint8Array; seq: number; kind?: DeviceKindName; seconds?: number; history?: { lowWater: [Uint8Array, number] }; t0?: number; seed?: number }): Uint8Array {
  const body = decode(encodeBatch(sampleBatch(o.kind ?? 'monitor', o.seconds ?? 5, o.t0, o.seed ?? o.seq + 1)));
  if (!body.ok) throw new Error('sample batch does not decode');
  const m = new Map<string, CborValue>(body.value as Map<string, CborValue>);
  m.set('bootId', o.bootId);
  m.set('seq', o.seq);
  if (o.history !== undefined) {
    m.set('historical', true);
    m.set('lowWater', o.history.lowWater);
  }
  return encode(m);
}

export function dropRecord(o: { bootId: Uint8Array; seq: number; lowWater: [Uint8Array, number]; dropped: number; ranges: Array<[Uint8Array, number, number]>; more?: boolean }): Uint8Array {
  return encode(
    new Map<string, CborValue>([
      ['bootId', o.bootId],
      ['seq', o.seq],
      ['historical', true],
      ['lowWater', o.lowWater],
      ['dropped', new Map<string, CborValue>([['dropped', o.dropped], ['ranges', o.ranges], ['more', o.more ?? false]])],
    ]),
  );
}
