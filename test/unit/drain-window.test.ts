/** The backlog drain's window (firmware/core/gateway/drain-window.ts): bounded, and following the ack round trip. */
import { describe, expect, it } from 'vitest';
import { createDrainWindow } from '../../firmware/core/gateway/drain-window.js';

const A = new Uint8Array(16).fill(1);
const B = new Uint8Array(16).fill(2);

describe('the drain window', () => {
  it('lets at most `size` records be in flight', () => {
    const w = createDrainWindow({ initial: 4 });
    for (let s = 0; s < 4; s++) w.sent(A, s, 0);
    expect(w.room()).toBe(0);
    w.acked(A, 1, 100);
    expect(w.inFlight).toBe(2);
    expect(w.room()).toBe(w.size - 2);
  });

  it('widens by one for a quick ack, halves for a late one, within its bounds', () => {
    const w = createDrainWindow({ initial: 8, min: 1, max: 10, targetMs: 1000 });
    let seq = 0;
    for (let i = 0; i < 5; i++) {
      w.sent(A, seq, i * 10);
      w.acked(A, seq++, i * 10 + 50);
    }
    expect(w.size).toBe(10); // 8 + 5, capped at 10
    w.sent(A, seq, 1000);
    w.acked(A, seq++, 3000); // 2 s round trip
    expect(w.size).toBe(5);
    for (let i = 0; i < 10; i++) {
      w.sent(A, seq, 0);
      w.acked(A, seq++, 5000);
    }
    expect(w.size).toBe(1);
  });

  it('an ack for another boot, or below what was sent, frees nothing and changes nothing', () => {
    const w = createDrainWindow({ initial: 4 });
    w.sent(A, 10, 0);
    w.acked(B, 10, 5000);
    w.acked(A, 9, 5000);
    expect(w.inFlight).toBe(1);
    expect(w.size).toBe(4);
  });

  it('a rewind empties it: the records go again', () => {
    const w = createDrainWindow({ initial: 3 });
    for (let s = 0; s < 3; s++) w.sent(A, s, 0);
    w.reset();
    expect(w.room()).toBe(3);
  });
});
