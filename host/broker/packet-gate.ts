/**
 * Packet size caps in front of the embedded broker. aedes (1.2) has none: a client may declare a
 * 200 MB packet and the broker buffers it, authenticated or not. The gate reads each packet's fixed
 * header as aedes reads the socket and ends the connection when a packet declares more than it may:
 * the first packet must be a CONNECT of at most MAX_CONNECT_BYTES, every later one at most
 * MAX_PACKET_BYTES (the protocol's largest payload, its topic and headers). Payload bounds per channel
 * are checked after authentication (embedded.ts, `authorizePublish`).
 *
 * It taps the socket's 'data' events, which Node emits for what aedes' own read() takes: the socket
 * stays aedes' connection (TLS peer certificates and all), and nothing is buffered here.
 */
import type { Socket } from 'node:net';
import { MAX_CONNECT_BYTES, MAX_PACKET_BYTES } from '../../firmware/core/protocol/index.js';

const CONNECT = 1;

export interface GateStats {
  oversized: number;
}

/** Watches `socket` and destroys it at the first packet over its cap. */
export function gatePackets(socket: Socket, stats: GateStats): void {
  let first = true;
  let headerAt = 0; // bytes of the current fixed header read (0: at a packet boundary)
  let type = 0;
  let length = 0;
  let shift = 0;
  let skip = 0; // bytes of the current packet's body still to pass

  const refuse = (why: string) => {
    stats.oversized++;
    socket.destroy(new Error(why));
  };

  socket.on('data', (chunk: Buffer) => {
    let i = 0;
    while (i < chunk.length && !socket.destroyed) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      const b = chunk[i++]!;
      if (headerAt === 0) {
        type = b >> 4;
        length = 0;
        shift = 0;
        headerAt = 1;
        if (first && type !== CONNECT) return refuse('the first packet must be a CONNECT');
        continue;
      }
      length += (b & 0x7f) * 2 ** shift;
      shift += 7;
      headerAt++;
      if (b & 0x80) {
        if (headerAt > 4) return refuse('malformed remaining length');
        continue;
      }
      const cap = first ? MAX_CONNECT_BYTES : MAX_PACKET_BYTES;
      if (length > cap) return refuse(`a ${first ? 'CONNECT' : 'packet'} of ${length} bytes; at most ${cap}`);
      first = false;
      headerAt = 0;
      skip = length;
    }
  });
}
