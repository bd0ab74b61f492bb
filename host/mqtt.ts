/**
 * The host's own MQTT connection: logs in as `host`, leaves `host/state` offline as its will,
 * subscribes to every gateway's publications (firmware/core/protocol), then publishes the trust list
 * and its retained `host/state` online, in that order, so no gateway starts draining before the host
 * listens. Acks and commands go out through it.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { encodeAck, encodeHostState, hostStateTopic, hostSubscriptions, topic, trustTopic } from '../firmware/core/protocol/index.js';
import { HOST_USER } from './broker/acl.js';
import { clientIdFor } from './broker/embedded.js';

export interface HostLink {
  ack(gateway: string, bootId: Uint8Array, through: number): void;
  command(gateway: string, payload: Uint8Array): void;
  /** A new trust list, retained: every gateway takes it now, and one connecting later gets it first. */
  publishTrust(bytes: Uint8Array): void;
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function connectHostLink(o: {
  readonly site: string;
  readonly hostId: string;
  readonly url: string;
  readonly secret: string;
  readonly ca?: string;
  /** The trust list in force when (re)connecting: published retained before the host says it is online. */
  readonly trustBytes: () => Uint8Array | undefined;
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly onMessage: (topic: string, payload: Uint8Array) => void;
}): HostLink {
  const state = (online: boolean) => Buffer.from(encodeHostState({ online, hostId: o.hostId, t: o.now() }));
  const client: MqttClient = mqtt.connect(o.url, {
    clientId: clientIdFor(o.site, { kind: 'host' }),
    username: HOST_USER,
    password: o.secret,
    clean: true,
    reconnectPeriod: 1000,
    ca: o.ca !== undefined ? readFileSync(o.ca) : undefined,
    will: { topic: hostStateTopic(o.site), payload: state(false), qos: 1, retain: true },
  });
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  const readyPromise = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  readyPromise.catch(() => undefined);
  client.on('connect', () => {
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true); // commands and acks are small: send at once
    void (async () => {
      await client.subscribeAsync(hostSubscriptions(o.site), { qos: 1 });
      const trust = o.trustBytes();
      if (trust !== undefined) await client.publishAsync(trustTopic(o.site), Buffer.from(trust), { qos: 1, retain: true });
      await client.publishAsync(hostStateTopic(o.site), state(true), { qos: 1, retain: true });
      o.log(`host: connected to ${o.url} as ${HOST_USER}, site ${o.site}`);
      readyResolve();
    })().catch((e: Error) => o.log(`host: subscribe failed: ${e.message}`));
  });
  client.on('error', (e) => {
    o.log(`host: MQTT: ${e.message}`);
    const code = (e as { code?: number }).code;
    if (code === 4 || code === 5) readyReject(new Error(`the broker at ${o.url} refused the host's login: ${e.message}`));
  });
  client.on('message', (name, buf) => o.onMessage(name, new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)));
  return {
    ack: (gateway, bootId, through) => void client.publish(topic(o.site, gateway, 'ack'), Buffer.from(encodeAck({ bootId, through })), { qos: 1 }),
    command: (gateway, payload) => void client.publish(topic(o.site, gateway, 'cmd'), Buffer.from(payload), { qos: 1 }),
    publishTrust: (bytes) => void client.publish(trustTopic(o.site), Buffer.from(bytes), { qos: 1, retain: true }),
    ready: () => readyPromise,
    async close() {
      if (client.connected) await client.publishAsync(hostStateTopic(o.site), state(false), { qos: 1, retain: true }).catch(() => undefined);
      await client.endAsync(true);
    },
  };
}
