/**
 * Flow control for the backlog drain. A gateway back from an outage holds hours of records; fifty
 * such gateways draining at a fixed pace would bury the host, delay every bed's live data, and get
 * records sent twice when acks come late. So at most `window` history records are in flight (sent,
 * not yet acked), and the window follows the ack round trip (additive increase, multiplicative
 * decrease, as TCP): an ack that comes within `targetMs` of the record it frees widens the window by
 * one, a later one halves it. Live records are not counted: they always go first.
 *
 * Memory: one entry per record in flight, at most `max` (64 by default).
 */
export interface DrainWindowOptions {
  readonly initial?: number;
  readonly min?: number;
  readonly max?: number;
  /** The ack round trip the window aims at (ms). */
  readonly targetMs?: number;
}

export interface DrainWindow {
  /** How many more history records may be sent now. */
  room(): number;
  readonly size: number;
  readonly inFlight: number;
  sent(bootId: Uint8Array, seq: number, now: number): void;
  /** The host acked `through` for this boot. */
  acked(bootId: Uint8Array, through: number, now: number): void;
  /** The drain starts again from the oldest unacked record (a rewind): nothing is in flight. */
  reset(): void;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function createDrainWindow(o: DrainWindowOptions = {}): DrainWindow {
  const min = o.min ?? 1;
  const max = o.max ?? 64;
  const targetMs = o.targetMs ?? 1000;
  let size = Math.min(max, Math.max(min, o.initial ?? 8));
  let flight: Array<{ readonly bootId: Uint8Array; readonly seq: number; readonly at: number }> = [];

  return {
    room: () => Math.max(0, size - flight.length),
    get size() {
      return size;
    },
    get inFlight() {
      return flight.length;
    },
    sent(bootId, seq, now) {
      if (flight.length < max) flight.push({ bootId, seq, at: now });
    },
    acked(bootId, through, now) {
      let oldest = Infinity;
      const left = flight.filter((f) => {
        if (!sameBytes(f.bootId, bootId) || f.seq > through) return true;
        oldest = Math.min(oldest, f.at);
        return false;
      });
      if (left.length === flight.length) return;
      flight = left;
      size = now - oldest <= targetMs ? Math.min(max, size + 1) : Math.max(min, Math.floor(size / 2));
    },
    reset() {
      flight = [];
    },
  };
}
