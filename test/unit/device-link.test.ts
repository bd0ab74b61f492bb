import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cobsDecode, cobsEncode } from '../../firmware/core/device/cobs.js';
import { createLink } from '../../firmware/core/device/link.js';
import { decodeMessage, encodeMessage } from '../../firmware/core/device/messages.js';
import { runLinkFuzz } from '../portable/link-fuzz.js';

describe('COBS', () => {
  it('round-trips any bytes and never emits 0x00', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 700 }), (data) => {
      const enc = cobsEncode(data);
      return !enc.includes(0) && Buffer.from(cobsDecode(enc)!).equals(Buffer.from(data));
    }), { seed: 1, numRuns: 500 });
  });

  it('refuses frames that are not COBS', () => {
    expect(cobsDecode(Uint8Array.of(5, 1, 2))).toBeUndefined(); // code runs past the end
    expect(cobsDecode(Uint8Array.of(0))).toBeUndefined();
  });
});

describe('device link', () => {
  it('delivers in order across a clean line, split at awkward points', () => {
    const a = createLink({ session: 1 });
    const b = createLink({ session: 2 });
    const got: string[] = [];
    const wire: number[] = [];
    for (let i = 0; i < 5; i++) for (const e of a.send(Uint8Array.of(i, i, 0, i), 0)) if (e.type === 'write') wire.push(...e.bytes);
    // byte by byte: mid-frame, mid-CRC, mid-delimiter
    let t = 0;
    for (let round = 0; round < 10 && got.length < 5; round++) {
      for (const x of wire.splice(0)) {
        for (const e of b.receive(Uint8Array.of(x), t)) {
          if (e.type === 'deliver') got.push(Buffer.from(e.payload).toString('hex'));
          if (e.type === 'write') for (const f of a.receive(e.bytes, t)) if (f.type === 'write') wire.push(...f.bytes);
        }
      }
      t += 200;
      for (const e of a.tick(t)) if (e.type === 'write') wire.push(...e.bytes);
    }
    expect(got).toEqual(['00000000', '01010001', '02020002', '03030003', '04040004']);
  });

  it('refuses a payload over the frame limit, and counts a full queue', () => {
    const a = createLink({ queueCapacity: 2 });
    expect(() => a.send(new Uint8Array(513), 0)).toThrow(/at most 512/);
    a.send(Uint8Array.of(1), 0); // in flight
    a.send(Uint8Array.of(2), 0);
    a.send(Uint8Array.of(3), 0);
    expect(a.send(Uint8Array.of(4), 0)).toEqual([{ type: 'failed', detail: 'send queue full (2)' }]);
    expect(a.stats.queueFull).toBe(1);
  });

  it('fuzz: 1 % byte loss and random corruption; no corrupt frame accepted, every setting confirmed', () => {
    const r = runLinkFuzz({ seed: 9, commands: 300, faults: { loss: 0.01, corrupt: 0.005, duplicate: 0.002 } });
    expect(r.badDeliveries).toBe(0);
    expect(r.confirmed).toBe(300);
    expect(r.bytesLost).toBeGreaterThan(100); // the faults really happened
    expect(r.bytesCorrupted).toBeGreaterThan(50);
    expect(r.framesRejected).toBeGreaterThan(50);
  });

  it('fuzz, harsher: 5 % loss, 2 % corruption', () => {
    const r = runLinkFuzz({ seed: 10, commands: 100, faults: { loss: 0.05, corrupt: 0.02, duplicate: 0.01 } });
    expect(r.badDeliveries).toBe(0);
    expect(r.confirmed).toBe(100);
  });

  it('device messages decode strictly', () => {
    const m = encodeMessage({ k: 'set', id: 3, values: new Map([['rate', 12.5]]) });
    expect(decodeMessage(m)).toEqual({ k: 'set', id: 3, values: new Map([['rate', 12.5]]) });
    expect(decodeMessage(encodeMessage({ k: 'get' }))).toEqual({ k: 'get' });
    expect(decodeMessage(Uint8Array.of(0xa0))).toBeUndefined();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => (decodeMessage(b), true)), { seed: 2, numRuns: 1000 });
  });
});
