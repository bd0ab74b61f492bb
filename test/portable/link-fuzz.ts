/**
 * The device link under a faulty line: a gateway end sends setting changes to a simulated pump over
 * a line that loses, corrupts and duplicates bytes, and waits for each read-back. Checks that every
 * payload delivered at either end is byte for byte one the other end sent, in order, once; and that
 * every setting change is confirmed by the device's read-back.
 */
import { toHex } from '../../firmware/core/hex.js';
import { createLink } from '../../firmware/core/device/link.js';
import { decodeMessage, encodeMessage } from '../../firmware/core/device/messages.js';
import { createLine, type LineFaults } from '../../simulator/line.js';
import { createSimulatedDevice } from '../../simulator/devices/device.js';

export interface FuzzReport {
  readonly commands: number;
  readonly confirmed: number;
  /** Payloads delivered that no one sent, or out of order, or twice. Must be 0. */
  readonly badDeliveries: number;
  readonly framesRejected: number;
  readonly retransmits: number;
  readonly bytesLost: number;
  readonly bytesCorrupted: number;
  readonly simulatedMs: number;
}

/** Checks that `delivered` is an in-order subsequence of `sent` (nothing invented, nothing twice). */
function badDeliveries(sent: readonly string[], delivered: readonly string[]): number {
  let bad = 0;
  let i = 0;
  for (const d of delivered) {
    while (i < sent.length && sent[i] !== d) i++;
    if (i === sent.length) bad++;
    else i++;
  }
  return bad;
}

export function runLinkFuzz(opts: { seed: number; commands: number; faults: LineFaults }): FuzzReport {
  const toDevice = createLine(opts.faults, opts.seed);
  const toGateway = createLine(opts.faults, opts.seed + 1);
  const device = createSimulatedDevice({ kind: 'pump', serial: 'PUMP-F', seed: opts.seed + 2, record: true });
  const gw = createLink({ session: 77 });
  const gwSent: string[] = [];
  const gwDelivered: string[] = [];
  const deviceDelivered: string[] = [];
  let now = 0;
  let confirmed = 0;
  let id = 0;
  let waiting: { id: number; rate: number; since: number } | undefined;

  // bytes in transit, each way; pumped until both are empty (no re-entrant calls between the ends)
  const towardDevice: Uint8Array[] = [];
  const towardGateway: Uint8Array[] = [];
  const toDev = (chunks: Uint8Array[]) => towardDevice.push(...chunks);
  const pump = () => {
    while (towardDevice.length > 0 || towardGateway.length > 0) {
      const d = towardDevice.shift();
      if (d !== undefined) towardGateway.push(...device.receive(toDevice.pass(d), now));
      const g = towardGateway.shift();
      if (g !== undefined) deliverToGateway(g);
    }
  };
  const deliverToGateway = (bytes: Uint8Array) => {
    for (const e of gw.receive(toGateway.pass(bytes), now)) {
      if (e.type === 'write') toDev([e.bytes]);
      else if (e.type === 'deliver') {
        gwDelivered.push(toHex(e.payload));
        const m = decodeMessage(e.payload);
        if (m?.k === 'settings' && waiting !== undefined && m.id === waiting.id && m.values.get('rate') === waiting.rate) {
          confirmed++;
          waiting = undefined;
        }
      }
    }
  };
  const sendSet = () => {
    const rate = 10 + (id % 40);
    const payload = encodeMessage({ k: 'set', id, values: new Map([['rate', rate]]) });
    gwSent.push(toHex(payload));
    waiting = { id, rate, since: now };
    for (const e of gw.send(payload, now)) if (e.type === 'write') toDev([e.bytes]);
  };

  // the device end records what its link delivers, to check the other direction
  const link = device.link as { receive: typeof device.link.receive };
  const linkReceive = link.receive;
  link.receive = (bytes, t) => {
    const effects = linkReceive(bytes, t);
    for (const e of effects) if (e.type === 'deliver') deviceDelivered.push(toHex(e.payload));
    return effects;
  };

  towardGateway.push(...device.start(now));
  pump();
  while (confirmed < opts.commands && now < opts.commands * 60_000) {
    if (waiting === undefined) {
      id++;
      sendSet();
    } else if (now - waiting.since > 5000) {
      // no read-back within 5 s (the link gave up on a frame): ask again with a new id
      id++;
      sendSet();
    }
    pump();
    now += 10;
    for (const e of gw.tick(now)) if (e.type === 'write') toDev([e.bytes]);
    towardGateway.push(...device.tick(now));
    pump();
  }
  const deviceSent = device.sent.map((m) => toHex(encodeMessage(m)));
  return {
    commands: opts.commands,
    confirmed,
    badDeliveries: badDeliveries(deviceSent, gwDelivered) + badDeliveries(gwSent, deviceDelivered),
    framesRejected: gw.stats.badFrames + device.link.stats.badFrames,
    retransmits: gw.stats.retransmits + device.link.stats.retransmits,
    bytesLost: toDevice.stats.lost + toGateway.stats.lost,
    bytesCorrupted: toDevice.stats.corrupted + toGateway.stats.corrupted,
    simulatedMs: now,
  };
}
