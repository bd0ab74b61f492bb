/**
 * The device link: frames between the gateway and the pump, ventilator or monitor over a UART with
 * no flow control (the ESP32 reads a 128-byte FIFO and JS can pause for seconds), so bytes get lost,
 * corrupted and duplicated. docs/device-link.md describes it.
 *
 * Frame on the wire: COBS(type u8 | seq u8 | payload … | CRC-32 of type, seq and payload) then 0x00.
 *   DATA (1) carries a payload; SYN (3) is a DATA whose first payload byte is the sender's session (a
 *   random byte per start) and which resets the receiver's sequence; ACK (2) acknowledges the seq it
 *   names and has no payload. A repeated SYN of the same session (its ack was lost) is a duplicate.
 *   RST (4) answers a DATA that arrives before any SYN (this end restarted): the peer resends it as SYN.
 * Reliability: stop-and-wait per direction. A DATA is resent after `retransmitMs` until acked, up to
 * `maxRetries` times, then the link reports failure and moves to the next payload. The receiver
 * delivers a seq once, in order, and acks duplicates again. A frame whose CRC does not match is never
 * delivered (CRC-32: a corrupted frame passes with probability 2^-32).
 *
 * Sans-I/O: calls return effects (bytes to write, payloads delivered, the next wake-up time).
 */
import { crc32 } from '../log/crc32.js';
import { cobsDecode, cobsEncode } from './cobs.js';

export const MAX_PAYLOAD = 512;
const DATA = 1;
const ACK = 2;
const SYN = 3;
const RST = 4;

export interface LinkConfig {
  readonly retransmitMs?: number;
  readonly maxRetries?: number;
  /** Payloads waiting to be sent; beyond it `send` refuses (counted), never grows. */
  readonly queueCapacity?: number;
  /** A random byte per start of this end, so the peer tells a restart from a repeated SYN. */
  readonly session?: number;
}

export type LinkEffect =
  | { readonly type: 'write'; readonly bytes: Uint8Array }
  | { readonly type: 'deliver'; readonly payload: Uint8Array }
  | { readonly type: 'failed'; readonly detail: string };

export interface LinkStats {
  framesSent: number;
  retransmits: number;
  delivered: number;
  duplicates: number;
  badFrames: number;
  overflows: number;
  queueFull: number;
  failures: number;
}

export interface Link {
  send(payload: Uint8Array, now: number): LinkEffect[];
  receive(bytes: Uint8Array, now: number): LinkEffect[];
  /** Call at or after `wakeAt`: retransmits. */
  tick(now: number): LinkEffect[];
  /** When the link next needs `tick`, or undefined. */
  readonly wakeAt: number | undefined;
  readonly stats: Readonly<LinkStats>;
  /** Payloads queued or in flight. */
  readonly pending: number;
}

function frame(type: number, seq: number, payload: Uint8Array): Uint8Array {
  const body = new Uint8Array(2 + payload.length + 4);
  body[0] = type;
  body[1] = seq;
  body.set(payload, 2);
  const c = crc32(body.subarray(0, 2 + payload.length));
  const at = 2 + payload.length;
  body[at] = c & 0xff;
  body[at + 1] = (c >>> 8) & 0xff;
  body[at + 2] = (c >>> 16) & 0xff;
  body[at + 3] = c >>> 24;
  const encoded = cobsEncode(body);
  const out = new Uint8Array(encoded.length + 1);
  out.set(encoded);
  return out; // the last byte stays 0x00: the delimiter
}

export function createLink(config: LinkConfig = {}): Link {
  const retransmitMs = config.retransmitMs ?? 150;
  const maxRetries = config.maxRetries ?? 20;
  const capacity = config.queueCapacity ?? 16;
  const stats: LinkStats = { framesSent: 0, retransmits: 0, delivered: 0, duplicates: 0, badFrames: 0, overflows: 0, queueFull: 0, failures: 0 };
  const queue: Uint8Array[] = [];
  let inFlight: { seq: number; payload: Uint8Array; bytes: Uint8Array; tries: number; due: number } | undefined;
  let nextSeq = 0;
  let synced = false; // our first DATA goes out as SYN
  let expect: number | undefined; // the next seq we deliver; undefined until a SYN arrives
  let peerSession: number | undefined;
  const session = (config.session ?? 0) & 0xff;
  const rx = new Uint8Array(2 * MAX_PAYLOAD + 16);
  let rxLen = 0;
  let rxOverflow = false;

  function startNext(now: number, out: LinkEffect[]): void {
    if (inFlight !== undefined) return;
    const payload = queue.shift();
    if (payload === undefined) return;
    const seq = nextSeq;
    nextSeq = (nextSeq + 1) & 0xff;
    const bytes = dataFrame(seq, payload);
    inFlight = { seq, payload, bytes, tries: 1, due: now + retransmitMs };
    stats.framesSent++;
    out.push({ type: 'write', bytes });
  }

  function dataFrame(seq: number, payload: Uint8Array): Uint8Array {
    if (synced) return frame(DATA, seq, payload);
    const withSession = new Uint8Array(payload.length + 1);
    withSession[0] = session;
    withSession.set(payload, 1);
    return frame(SYN, seq, withSession);
  }

  function onFrame(body: Uint8Array, now: number, out: LinkEffect[]): void {
    if (body.length < 6) {
      stats.badFrames++;
      return;
    }
    const n = body.length - 4;
    const stored = (body[n]! | (body[n + 1]! << 8) | (body[n + 2]! << 16) | (body[n + 3]! << 24)) >>> 0;
    if (crc32(body.subarray(0, n)) !== stored) {
      stats.badFrames++;
      return;
    }
    const type = body[0]!;
    const seq = body[1]!;
    if (type === ACK) {
      if (n !== 2) {
        stats.badFrames++;
        return;
      }
      if (inFlight !== undefined && inFlight.seq === seq) {
        if (!synced) synced = true;
        inFlight = undefined;
        startNext(now, out);
      }
      return;
    }
    if (type === RST) {
      if (inFlight !== undefined && inFlight.seq === seq) {
        synced = false; // the peer restarted: resend this payload as SYN now
        inFlight.bytes = dataFrame(inFlight.seq, inFlight.payload);
        inFlight.due = now + retransmitMs;
        out.push({ type: 'write', bytes: inFlight.bytes });
      }
      return;
    }
    if (type !== DATA && type !== SYN) {
      stats.badFrames++;
      return;
    }
    let start = 2;
    if (type === SYN) {
      if (n < 3) {
        stats.badFrames++;
        return;
      }
      const s = body[2]!;
      start = 3;
      const repeat = s === peerSession && expect !== undefined && seq === ((expect - 1) & 0xff);
      if (!repeat) {
        expect = seq; // the peer (re)started: take its numbering
        peerSession = s;
      }
    }
    if (expect === undefined) {
      out.push({ type: 'write', bytes: frame(RST, seq, new Uint8Array(0)) }); // data before any SYN
      return;
    }
    out.push({ type: 'write', bytes: frame(ACK, seq, new Uint8Array(0)) });
    if (seq === expect) {
      expect = (expect + 1) & 0xff;
      stats.delivered++;
      out.push({ type: 'deliver', payload: body.slice(start, n) });
    } else {
      stats.duplicates++; // an earlier frame whose ack was lost: acked again, not delivered again
    }
  }

  return {
    send(payload, now) {
      const out: LinkEffect[] = [];
      if (payload.length > MAX_PAYLOAD) throw new RangeError(`a link payload is at most ${MAX_PAYLOAD} bytes, got ${payload.length}`);
      if (queue.length >= capacity) {
        stats.queueFull++;
        out.push({ type: 'failed', detail: `send queue full (${capacity})` });
        return out;
      }
      queue.push(payload.slice());
      startNext(now, out);
      return out;
    },
    receive(bytes, now) {
      const out: LinkEffect[] = [];
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i]!;
        if (b === 0) {
          if (!rxOverflow && rxLen > 0) {
            const body = cobsDecode(rx.subarray(0, rxLen));
            if (body === undefined) stats.badFrames++;
            else onFrame(body, now, out);
          }
          rxLen = 0;
          rxOverflow = false;
        } else if (rxLen < rx.length) {
          rx[rxLen++] = b;
        } else if (!rxOverflow) {
          rxOverflow = true; // a lost delimiter: drop until the next one
          stats.overflows++;
        }
      }
      return out;
    },
    tick(now) {
      const out: LinkEffect[] = [];
      if (inFlight !== undefined && now >= inFlight.due) {
        if (inFlight.tries > maxRetries) {
          stats.failures++;
          out.push({ type: 'failed', detail: `no ack for seq ${inFlight.seq} after ${inFlight.tries} tries` });
          inFlight = undefined;
          synced = false; // the peer may have restarted: our next frame resets its numbering
          startNext(now, out);
        } else {
          inFlight.tries++;
          inFlight.due = now + retransmitMs;
          stats.retransmits++;
          out.push({ type: 'write', bytes: inFlight.bytes });
        }
      }
      return out;
    },
    get wakeAt() {
      return inFlight?.due;
    },
    stats,
    get pending() {
      return queue.length + (inFlight === undefined ? 0 : 1);
    },
  };
}
