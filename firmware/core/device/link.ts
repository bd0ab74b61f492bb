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
  | { readonly type: 'failed'; readonly detail: string }
  /** The peer answered RST: it restarted (a gateway after a power cut). A device says hello again. */
  | { readonly type: 'peer-restarted' };

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

/** A checked frame: its type, seq and payload (the CRC stripped), or undefined when it fails a check. */
function parseFrame(body: Uint8Array): { type: number; seq: number; payload: Uint8Array } | undefined {
  if (body.length < 6) return undefined;
  const n = body.length - 4;
  const stored = (body[n]! | (body[n + 1]! << 8) | (body[n + 2]! << 16) | (body[n + 3]! << 24)) >>> 0;
  if (crc32(body.subarray(0, n)) !== stored) return undefined;
  return { type: body[0]!, seq: body[1]!, payload: body.subarray(2, n) };
}

/** Collects bytes up to each 0x00 delimiter and hands over the COBS-decoded body; drops overlong frames. */
function createFrameReader(stats: LinkStats, onBody: (body: Uint8Array) => void): (bytes: Uint8Array) => void {
  const rx = new Uint8Array(2 * MAX_PAYLOAD + 16);
  let rxLen = 0;
  let rxOverflow = false;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === 0) {
        if (!rxOverflow && rxLen > 0) {
          const body = cobsDecode(rx.subarray(0, rxLen));
          if (body === undefined) stats.badFrames++;
          else onBody(body);
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
  };
}

interface InFlight {
  readonly seq: number;
  readonly payload: Uint8Array;
  bytes: Uint8Array;
  tries: number;
  due: number;
}

/** The sending half: a bounded queue, one DATA in flight, resent until acked or given up. */
function createSender(config: LinkConfig, stats: LinkStats) {
  const retransmitMs = config.retransmitMs ?? 150;
  const maxRetries = config.maxRetries ?? 20;
  const capacity = config.queueCapacity ?? 16;
  const session = (config.session ?? 0) & 0xff;
  const queue: Uint8Array[] = [];
  let inFlight: InFlight | undefined;
  let nextSeq = 0;
  let synced = false; // our first DATA goes out as SYN

  function dataFrame(seq: number, payload: Uint8Array): Uint8Array {
    if (synced) return frame(DATA, seq, payload);
    const withSession = new Uint8Array(payload.length + 1);
    withSession[0] = session;
    withSession.set(payload, 1);
    return frame(SYN, seq, withSession);
  }

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

  return {
    send(payload: Uint8Array, now: number, out: LinkEffect[]): void {
      if (payload.length > MAX_PAYLOAD) throw new RangeError(`a link payload is at most ${MAX_PAYLOAD} bytes, got ${payload.length}`);
      if (queue.length >= capacity) {
        stats.queueFull++;
        out.push({ type: 'failed', detail: `send queue full (${capacity})` });
        return;
      }
      queue.push(payload.slice());
      startNext(now, out);
    },
    acked(seq: number, now: number, out: LinkEffect[]): void {
      if (inFlight === undefined || inFlight.seq !== seq) return;
      synced = true;
      inFlight = undefined;
      startNext(now, out);
    },
    /** The peer restarted and had no SYN for this seq: resend the payload as SYN now. */
    reset(seq: number, now: number, out: LinkEffect[]): void {
      if (inFlight === undefined || inFlight.seq !== seq) return;
      synced = false;
      inFlight.bytes = dataFrame(inFlight.seq, inFlight.payload);
      inFlight.due = now + retransmitMs;
      out.push({ type: 'write', bytes: inFlight.bytes }, { type: 'peer-restarted' });
    },
    tick(now: number, out: LinkEffect[]): void {
      if (inFlight === undefined || now < inFlight.due) return;
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
    },
    get wakeAt(): number | undefined {
      return inFlight?.due;
    },
    get pending(): number {
      return queue.length + (inFlight === undefined ? 0 : 1);
    },
  };
}

/** The receiving half: delivers each seq once and in order, acks every DATA, answers RST before a SYN. */
function createReceiver(stats: LinkStats) {
  let expect: number | undefined; // the next seq we deliver; undefined until a SYN arrives
  let peerSession: number | undefined;
  return (type: number, seq: number, payload: Uint8Array, out: LinkEffect[]): void => {
    let data = payload;
    if (type === SYN) {
      if (payload.length < 1) {
        stats.badFrames++;
        return;
      }
      const s = payload[0]!;
      data = payload.subarray(1);
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
      out.push({ type: 'deliver', payload: data.slice() });
    } else {
      stats.duplicates++; // an earlier frame whose ack was lost: acked again, not delivered again
    }
  };
}

export function createLink(config: LinkConfig = {}): Link {
  const stats: LinkStats = { framesSent: 0, retransmits: 0, delivered: 0, duplicates: 0, badFrames: 0, overflows: 0, queueFull: 0, failures: 0 };
  const sender = createSender(config, stats);
  const receive = createReceiver(stats);
  let now = 0;
  let out: LinkEffect[] = [];

  const read = createFrameReader(stats, (body) => {
    const f = parseFrame(body);
    if (f === undefined) {
      stats.badFrames++;
      return;
    }
    if (f.type === ACK) {
      if (f.payload.length !== 0) stats.badFrames++;
      else sender.acked(f.seq, now, out);
    } else if (f.type === RST) {
      sender.reset(f.seq, now, out);
    } else if (f.type === DATA || f.type === SYN) {
      receive(f.type, f.seq, f.payload, out);
    } else {
      stats.badFrames++;
    }
  });

  return {
    send(payload, at) {
      const effects: LinkEffect[] = [];
      sender.send(payload, at, effects);
      return effects;
    },
    receive(bytes, at) {
      now = at;
      out = [];
      read(bytes);
      return out;
    },
    tick(at) {
      const effects: LinkEffect[] = [];
      sender.tick(at, effects);
      return effects;
    },
    get wakeAt() {
      return sender.wakeAt;
    },
    stats,
    get pending() {
      return sender.pending;
    },
  };
}
