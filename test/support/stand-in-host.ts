/**
 * A minimal stand-in for the host service, for gateway tests: it says it is online (retained
 * host/state), commits every vitals and history record it receives (in memory), and acks per boot the
 * highest contiguous seq committed, counting seqs below the log's low-water mark as resolved.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { decode, encode, type CborValue } from '../../firmware/core/cbor/index.js';
import { toHex } from '../../firmware/core/hex.js';

export interface Received {
  readonly topic: 'vitals' | 'history';
  readonly bootId: string;
  readonly seq: number;
  readonly at: number;
  readonly t0: number | undefined;
  readonly samples: number;
}

export class StandInHost {
  readonly received: Received[] = [];
  readonly committed = new Map<string, Set<number>>();
  readonly through = new Map<string, number>();
  readonly events: Array<{ code: string; detail: unknown }> = [];
  readonly results: Array<Map<string, CborValue>> = [];
  states: Array<Map<string, CborValue>> = [];
  private client!: MqttClient;

  constructor(readonly url: string, readonly site: string) {}

  async start(): Promise<void> {
    this.client = mqtt.connect(this.url, {
      clientId: `host-${this.site}`,
      will: { topic: `vigil/v1/${this.site}/host/state`, payload: Buffer.from(encode(new Map<string, CborValue>([['online', false], ['hostId', 'stand-in'], ['t', 0]]))), qos: 1, retain: true },
    });
    await new Promise<void>((resolve, reject) => {
      this.client.once('connect', () => resolve());
      this.client.once('error', reject);
    });
    this.client.on('message', (topic, payload) => this.onMessage(topic, new Uint8Array(payload)));
    // after every reconnect (an outage), say so again: the will has marked the host offline meanwhile
    this.client.on('connect', () => void this.announce());
    await this.client.subscribeAsync([`vigil/v1/${this.site}/+/vitals`, `vigil/v1/${this.site}/+/history`, `vigil/v1/${this.site}/+/event`, `vigil/v1/${this.site}/+/state`, `vigil/v1/${this.site}/+/cmd/result`], { qos: 1 });
    await this.announce();
  }

  private announce(): Promise<unknown> {
    return this.client.publishAsync(`vigil/v1/${this.site}/host/state`, Buffer.from(encode(new Map<string, CborValue>([['online', true], ['hostId', 'stand-in'], ['t', Date.now()]]))), { qos: 1, retain: true });
  }

  publish(topic: string, payload: Uint8Array): Promise<unknown> {
    return this.client.publishAsync(topic, Buffer.from(payload), { qos: 1 });
  }

  private onMessage(topic: string, payload: Uint8Array): void {
    const parts = topic.split('/');
    const gateway = parts[3]!;
    const channel = parts.slice(4).join('/');
    const r = decode(payload, { maxDepth: 8, maxLength: 4096 });
    if (!r.ok || !(r.value instanceof Map)) return;
    const m = r.value;
    if (channel === 'event') {
      this.events.push({ code: String(m.get('code')), detail: m.get('detail') });
      return;
    }
    if (channel === 'state') {
      this.states.push(m as Map<string, CborValue>);
      return;
    }
    if (channel === 'cmd/result') {
      this.results.push(m as Map<string, CborValue>);
      return;
    }
    const bootId = m.get('bootId');
    const seq = m.get('seq');
    if (!(bootId instanceof Uint8Array) || typeof seq !== 'number') return;
    const boot = toHex(bootId);
    const metrics = m.get('metrics');
    const samples = Array.isArray(metrics) ? metrics.length : 0;
    const t0 = m.get('t0');
    this.received.push({ topic: channel as 'vitals' | 'history', bootId: boot, seq, at: performance.now(), t0: typeof t0 === 'number' ? t0 : undefined, samples });
    let set = this.committed.get(boot);
    if (set === undefined) this.committed.set(boot, (set = new Set()));
    set.add(seq);
    let through = this.through.get(boot) ?? -1;
    const low = m.get('lowWater');
    const lowSeq = Array.isArray(low) && toHex(low[0] as Uint8Array) === boot ? (low[1] as number) : 0;
    while (set.has(through + 1) || through + 1 < lowSeq) through++;
    this.through.set(boot, through);
    if (through >= 0) {
      // committed (in memory here; SQLite in the real host): only now is the ack sent
      void this.client.publishAsync(`vigil/v1/${this.site}/${gateway}/ack`, Buffer.from(encode(new Map<string, CborValue>([['bootId', bootId], ['through', through]]))), { qos: 1 });
    }
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }
}
