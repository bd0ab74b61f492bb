/**
 * Light simulated gateways for the ward benchmark: each is an MQTT client that speaks the protocol as
 * a gateway does (retained birth, a heartbeat every 30 s, a vitals record every second, acks taken),
 * without a device or a flash of its own, so one process can play two thousand of them. The record is
 * a real one-second monitor batch (firmware/core/vitals) in the real envelope (firmware/core/protocol).
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { encodeBirth, encodeDeath, encodeVitals, parseAck, topic } from '../../firmware/core/protocol/index.js';
import { encodeBatch } from '../../firmware/core/vitals/index.js';
import { issueSecret } from '../../host/broker/passwd.js';
import { sampleBatch } from '../../test/portable/vitals-samples.js';

export interface LightGateway {
  readonly id: string;
  readonly client: MqttClient;
  readonly bootId: Uint8Array;
  seq: number;
  acked: number;
  stop(): Promise<void>;
}

export interface WardTarget {
  readonly brokerUrl: string;
  readonly site: string;
  readonly passwdFile: string;
}

/** Publish times of records not yet seen on the stream, by `gateway/seq`. */
export type Sent = Map<string, number>;

function birth(id: string, bootId: Uint8Array, bdSeq: number): Uint8Array {
  return encodeBirth({
    online: true,
    bdSeq,
    bootId,
    firmware: '0.2.0',
    device: { kind: 'monitor', model: 'generic-monitor-v1', serial: `MONITOR-${id}` },
    nonce: new Uint8Array(randomBytes(16)),
    mode: 'online',
    buffer: { used: 0, capacity: 983_040, dropped: 0 },
    t: Date.now(),
    clock: 'utc',
  });
}

export async function connectLight(t: WardTarget, id: string): Promise<LightGateway> {
  const secret = issueSecret(t.passwdFile, id);
  const bootId = new Uint8Array(randomBytes(16));
  const client = await mqtt.connectAsync(t.brokerUrl, {
    clientId: `vigil-${t.site}-${id}`,
    username: id,
    password: secret,
    reconnectPeriod: 0,
    connectTimeout: 60_000,
    will: { topic: topic(t.site, id, 'state'), payload: Buffer.from(encodeDeath({ online: false, bdSeq: 1 })), qos: 1, retain: true },
  });
  const g: LightGateway = {
    id,
    client,
    bootId,
    seq: 0,
    acked: -1,
    async stop() {
      await client.endAsync(true);
    },
  };
  client.on('message', (_t, payload) => {
    const a = parseAck(payload);
    if (a.ok) g.acked = Math.max(g.acked, a.value.through);
  });
  client.on('error', () => undefined);
  await client.subscribeAsync(topic(t.site, id, 'ack'), { qos: 1 });
  await client.publishAsync(topic(t.site, id, 'state'), Buffer.from(birth(id, bootId, 1)), { qos: 1, retain: true });
  return g;
}

/** Connects `ids` a few at a time, as a ward's gateways come up after a power cut. */
export async function connectAll(t: WardTarget, ids: readonly string[], parallel = 50): Promise<LightGateway[]> {
  const out: LightGateway[] = [];
  for (let i = 0; i < ids.length; i += parallel) out.push(...(await Promise.all(ids.slice(i, i + parallel).map((id) => connectLight(t, id)))));
  return out;
}

/**
 * Every gateway publishes one record a second, spread evenly over the second, and a birth as its
 * heartbeat every 30 s. Returns a stop function.
 */
export function run1Hz(t: WardTarget, gws: readonly LightGateway[], sent: Sent, counts: { published: number }): () => void {
  const batch = sampleBatch('monitor', 1);
  const timers: NodeJS.Timeout[] = [];
  gws.forEach((g, i) => {
    const offset = Math.floor((i / gws.length) * 1000);
    const start = setTimeout(() => {
      const tick = () => {
        const body = encodeBatch({ ...batch, t0: Date.now() - 1000, serial: `MONITOR-${g.id}` });
        const seq = g.seq++;
        sent.set(`${g.id}/${seq}`, performance.now());
        counts.published++;
        g.client.publish(topic(t.site, g.id, 'vitals'), Buffer.from(encodeVitals({ bootId: g.bootId, seq, body })), { qos: 1 });
      };
      tick();
      timers.push(setInterval(tick, 1000));
      timers.push(setInterval(() => g.client.publish(topic(t.site, g.id, 'state'), Buffer.from(birth(g.id, g.bootId, 1)), { qos: 1, retain: true }), 30_000 + (i % 997)));
    }, offset);
    timers.push(start);
  });
  return () => timers.forEach((x) => clearTimeout(x));
}
