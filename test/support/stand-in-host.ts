/**
 * A minimal stand-in for the host service, for gateway tests: it says it is online (retained
 * host/state), commits every vitals and history record it receives (in memory), and acks per boot the
 * highest contiguous seq committed, counting seqs below the log's low-water mark as resolved. Every
 * payload is parsed and built by firmware/core/protocol: a gateway message that does not parse fails
 * the test that sent it.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { toHex } from '../../firmware/core/hex.js';
import {
  encodeAck,
  encodeHostState,
  hostStateTopic,
  hostSubscriptions,
  parseCommandResult,
  parseEvent,
  parseHistory,
  parseState,
  parseTopic,
  parseVitals,
  topic,
  type CommandResult,
  type EventMessage,
  type StateMessage,
} from '../../firmware/core/protocol/index.js';
import { decodeBatch } from '../../firmware/core/vitals/index.js';

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
  readonly events: EventMessage[] = [];
  readonly results: CommandResult[] = [];
  readonly states: StateMessage[] = [];
  /** Payloads that did not parse: a test fails on any. */
  readonly malformed: string[] = [];
  private client!: MqttClient;

  constructor(readonly url: string, readonly site: string) {}

  async start(): Promise<void> {
    this.client = mqtt.connect(this.url, {
      clientId: `host-${this.site}`,
      will: { topic: hostStateTopic(this.site), payload: Buffer.from(encodeHostState({ online: false, hostId: 'stand-in', t: 0 })), qos: 1, retain: true },
    });
    await new Promise<void>((resolve, reject) => {
      this.client.once('connect', () => resolve());
      this.client.once('error', reject);
    });
    this.client.on('message', (name, payload) => this.onMessage(name, new Uint8Array(payload)));
    // after every reconnect (an outage), say so again: the will has marked the host offline meanwhile
    this.client.on('connect', () => void this.announce());
    await this.client.subscribeAsync(hostSubscriptions(this.site), { qos: 1 });
    await this.announce();
  }

  private announce(): Promise<unknown> {
    return this.client.publishAsync(hostStateTopic(this.site), Buffer.from(encodeHostState({ online: true, hostId: 'stand-in', t: Date.now() })), { qos: 1, retain: true });
  }

  publish(name: string, payload: Uint8Array): Promise<unknown> {
    return this.client.publishAsync(name, Buffer.from(payload), { qos: 1 });
  }

  private onMessage(name: string, payload: Uint8Array): void {
    const tp = parseTopic(name);
    if (tp?.kind !== 'gateway') return;
    const bad = (error: string) => void this.malformed.push(`${tp.channel}: ${error}`);
    if (tp.channel === 'event') {
      const e = parseEvent(payload);
      return e.ok ? void this.events.push(e.value) : bad(e.error);
    }
    if (tp.channel === 'state') {
      const s = parseState(payload);
      return s.ok ? void this.states.push(s.value) : bad(s.error);
    }
    if (tp.channel === 'cmd/result') {
      const r = parseCommandResult(payload);
      return r.ok ? void this.results.push(r.value) : bad(r.error);
    }
    if (tp.channel !== 'vitals' && tp.channel !== 'history') return;
    const rec = tp.channel === 'vitals' ? parseVitals(payload) : parseHistory(payload);
    if (!rec.ok) return bad(rec.error);
    const { bootId, seq } = rec.value;
    const boot = toHex(bootId);
    let t0: number | undefined;
    let samples = 0;
    if (rec.value.body !== undefined) {
      const b = decodeBatch(rec.value.body);
      if (!b.ok) return bad(b.error.detail);
      t0 = b.value.t0;
      samples = b.value.columns.length;
    }
    this.received.push({ topic: tp.channel, bootId: boot, seq, at: performance.now(), t0, samples });
    let set = this.committed.get(boot);
    if (set === undefined) this.committed.set(boot, (set = new Set()));
    set.add(seq);
    let through = this.through.get(boot) ?? -1;
    const low = 'lowWater' in rec.value ? rec.value.lowWater : undefined;
    const lowSeq = typeof low === 'number' ? low : 0;
    while (set.has(through + 1) || through + 1 < lowSeq) through++;
    this.through.set(boot, through);
    // committed (in memory here; SQLite in the real host): only now is the ack sent
    if (through >= 0) void this.client.publishAsync(topic(this.site, tp.gateway, 'ack'), Buffer.from(encodeAck({ bootId, through })), { qos: 1 });
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }
}
