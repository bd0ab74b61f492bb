/** Vitals and history records exactly as a gateway publishes them (docs/protocol.md), for host tests and the benchmark. */
import { encodeHistory, encodeVitals, encodeDrop } from '../../firmware/core/protocol/index.js';
import { encodeBatch } from '../../firmware/core/vitals/index.js';
import { sampleBatch, type DeviceKindName } from '../portable/vitals-samples.js';

export function record(o: { bootId: Uint8Array; seq: number; kind?: DeviceKindName; seconds?: number; history?: { lowWater: [Uint8Array, number] }; t0?: number; seed?: number }): Uint8Array {
  const body = encodeBatch(sampleBatch(o.kind ?? 'monitor', o.seconds ?? 5, o.t0, o.seed ?? o.seq + 1));
  if (o.history === undefined) return encodeVitals({ bootId: o.bootId, seq: o.seq, body });
  return encodeHistory({ bootId: o.bootId, seq: o.seq, lowWater: o.history.lowWater, body });
}

export function dropRecord(o: { bootId: Uint8Array; seq: number; lowWater: [Uint8Array, number]; dropped: number; ranges: Array<[Uint8Array, number, number]>; more?: boolean }): Uint8Array {
  const drop = encodeDrop({ dropped: o.dropped, ranges: o.ranges, more: o.more ?? false });
  return encodeHistory({ bootId: o.bootId, seq: o.seq, lowWater: o.lowWater, drop });
}
