/**
 * A TCP proxy between a gateway and its broker, standing in for the network: `cut()` drops every
 * connection and refuses new ones (an outage with resets), `cut({silent: true})` stops every byte
 * both ways without a reset (a dead switch: only keepalives find it), `restore()` lets them through
 * again. It reads the broker-to-gateway MQTT stream only to keep the PUBLISH packets it carried (an
 * eavesdropper's capture: the last `keep` of them, on topics `capture` accepts), and `inject()` writes
 * bytes to the gateway as if the broker sent them (a replay, or a forgery, on the wire). MQTT framing
 * only: fixed header, remaining length, topic.
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
  cut(how?: { silent?: boolean }): void;
  restore(): void;
  /** Whether the network is cut now. */
  readonly down: boolean;
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

/** The application payload of a PUBLISH packet (QoS 0 or 1). */
export function publishPayload(packet: Buffer): Buffer {
  let i = 1;
  while (packet[i]! & 0x80) i++;
  i++;
  const n = packet.readUInt16BE(i);
  const qos = (packet[0]! >> 1) & 3;
  return packet.subarray(i + 2 + n + (qos > 0 ? 2 : 0));
}

/** An MQTT 3.1.1 PUBLISH packet at QoS 0, as a broker would send it. */
export function publishPacket(topic: string, payload: Uint8Array): Buffer {
  const t = Buffer.from(topic, 'utf8');
  let remaining = 2 + t.length + payload.length;
  const length: number[] = [];
  do {
    let byte = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) byte |= 0x80;
    length.push(byte);
  } while (remaining > 0);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(t.length);
  return Buffer.concat([Buffer.from([0x30, ...length]), head, t, Buffer.from(payload)]);
}

export interface ProxyOptions {
  /** Which captured topics to keep (all by default). */
  readonly capture?: (topic: string) => boolean;
  /** How many captured packets to keep, newest last (all by default). */
  readonly keep?: number;
}

export async function startMqttProxy(target: { host: string; port: number }, options: ProxyOptions = {}): Promise<MqttProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const captured: CapturedPublish[] = [];
  let down = false;
  let silent = false;
  const server: Server = createServer((client) => {
    if (down && !silent) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    let pending = Buffer.alloc(0);
    if (silent) {
      // a silent partition: like TCP across a dead switch, nothing moves and nothing is reset
      client.pause();
      upstream.pause();
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      const { whole, rest } = packets(Buffer.concat([pending, chunk]));
      pending = Buffer.from(rest);
      for (const p of whole) {
        const topic = publishTopic(p);
        if (topic === undefined || (options.capture !== undefined && !options.capture(topic))) continue;
        captured.push({ topic, packet: Buffer.from(p) });
        if (options.keep !== undefined && captured.length > options.keep) captured.shift();
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
    cut(how = {}) {
      down = true;
      silent = how.silent === true;
      if (silent) {
        // connections stay open and nothing crosses them, until keepalives give up or restore()
        for (const p of pairs) {
          p.client.pause();
          p.upstream.pause();
        }
        return;
      }
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
    },
    restore() {
      down = false;
      if (silent) {
        for (const p of pairs) {
          p.client.resume();
          p.upstream.resume();
        }
      }
      silent = false;
    },
    get down() {
      return down;
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
