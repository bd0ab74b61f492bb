/**
 * A TCP proxy between a gateway and its broker, standing in for the network: `cut()` drops every
 * connection and refuses new ones (an outage), `restore()` lets them through again. It reads the
 * broker-to-gateway MQTT stream only to keep each PUBLISH packet it carried (an eavesdropper's
 * capture), and `inject()` writes captured bytes to the gateway as if the broker sent them (a replay
 * on the wire). MQTT framing only: fixed header, remaining length, topic.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface CapturedPublish {
  readonly topic: string;
  /** The whole MQTT packet, as it crossed the wire. */
  readonly packet: Buffer;
}

export interface MqttProxy {
  readonly port: number;
  readonly captured: CapturedPublish[];
  cut(): void;
  restore(): void;
  /** Writes bytes to every connected gateway. */
  inject(packet: Buffer): number;
  close(): Promise<void>;
}

/** Splits an MQTT byte stream into whole packets; the rest waits for more bytes. */
function packets(buffer: Buffer): { whole: Buffer[]; rest: Buffer } {
  const whole: Buffer[] = [];
  let at = 0;
  for (;;) {
    let length = 0;
    let multiplier = 1;
    let i = at + 1;
    for (; i < buffer.length && i < at + 5; i++) {
      length += (buffer[i]! & 0x7f) * multiplier;
      multiplier *= 128;
      if ((buffer[i]! & 0x80) === 0) break;
    }
    if (i >= buffer.length || i === at + 5) break;
    const end = i + 1 + length;
    if (end > buffer.length) break;
    whole.push(buffer.subarray(at, end));
    at = end;
  }
  return { whole, rest: buffer.subarray(at) };
}

function publishTopic(packet: Buffer): string | undefined {
  if (packet[0]! >> 4 !== 3) return undefined;
  let i = 1;
  while (packet[i]! & 0x80) i++;
  i++;
  const n = packet.readUInt16BE(i);
  return packet.subarray(i + 2, i + 2 + n).toString('utf8');
}

export async function startMqttProxy(target: { host: string; port: number }): Promise<MqttProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const captured: CapturedPublish[] = [];
  let down = false;
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    let pending = Buffer.alloc(0);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      const { whole, rest } = packets(Buffer.concat([pending, chunk]));
      pending = Buffer.from(rest);
      for (const p of whole) {
        const topic = publishTopic(p);
        if (topic !== undefined) captured.push({ topic, packet: Buffer.from(p) });
      }
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    captured,
    cut() {
      down = true;
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
    },
    restore() {
      down = false;
    },
    inject(packet) {
      for (const p of pairs) p.client.write(packet);
      return pairs.size;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const p of pairs) {
          p.client.destroy();
          p.upstream.destroy();
        }
        server.close(() => r());
      }),
  };
}
