/**
 * What the gateway core asks of its adapter (effects), what the adapter tells it (events), and the
 * small pieces every part of the core shares: the outbox a `handle()` call fills, the clock, and the
 * event channel with its offline queue.
 */
import type { CborMap, CborValue } from '../cbor/index.js';
import { encodeEvent } from '../protocol/index.js';
import type { Clock } from '../vitals/index.js';

export type GatewayEvent =
  | { readonly type: 'boot' }
  | { readonly type: 'network'; readonly up: boolean }
  | { readonly type: 'mqtt-connected' }
  | { readonly type: 'mqtt-lost' }
  | { readonly type: 'message'; readonly topic: string; readonly payload: Uint8Array }
  | { readonly type: 'device-bytes'; readonly bytes: Uint8Array }
  /** A trusted wall-clock reading (SNTP), Unix ms. */
  | { readonly type: 'clock'; readonly unixMs: number }
  | { readonly type: 'tick' };

export interface Publish {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

export type GatewayEffect =
  | { readonly type: 'mqtt-connect'; readonly clientId: string; readonly will: Publish }
  | { readonly type: 'mqtt-disconnect' }
  | { readonly type: 'subscribe'; readonly topics: readonly string[] }
  | ({ readonly type: 'publish' } & Publish)
  | { readonly type: 'serial-write'; readonly bytes: Uint8Array }
  | { readonly type: 'alarm-output'; readonly on: boolean }
  /** Call handle({ type: 'tick' }) at this monotonic time. */
  | { readonly type: 'wake'; readonly at: number };

export type EventClass = 'clinical' | 'technical' | 'security';
export type Priority = 'high' | 'medium' | 'low' | 'info';

export interface GatewayStats {
  published: number;
  historySent: number;
  eventsDropped: number;
  deviceFrames: number;
  deviceAnomalies: number;
  commands: number;
  /** Device reports taken into a batch, and those in batches the log has stored (append returned). */
  samplesTaken: number;
  samplesLogged: number;
}

/** The gateway's time: Unix ms once SNTP has spoken, monotonic ms since boot before. */
export interface TimeSource {
  time(now: number): { t: number; clock: Clock };
  /** Trusted Unix seconds, or undefined before SNTP. */
  unixSeconds(now: number): number | undefined;
  set(unixMs: number, now: number): void;
}

export function createTimeSource(): TimeSource {
  let offset: number | undefined; // unix ms - monotonic ms
  return {
    time: (now) => (offset === undefined ? { t: Math.max(0, Math.round(now)), clock: 'boot' } : { t: Math.round(now + offset), clock: 'utc' }),
    unixSeconds: (now) => (offset === undefined ? undefined : Math.floor((now + offset) / 1000)),
    set(unixMs, now) {
      offset = unixMs - now;
    },
  };
}

const EVENT_QUEUE = 32;
const UNCONFIRMED = 16;

/**
 * Events (docs/protocol.md `event`): published when the broker is there, otherwise queued (at most
 * 32, the rest counted and reported in the next birth) and sent on reconnect.
 *
 * A connection can die with an event in it (a dead switch: nothing tells the gateway until keepalive
 * gives up), so a published event stays unconfirmed, and is sent again on each new connection, until
 * the host acks a record appended after it: MQTT delivers one client's messages in order, so the host
 * had the event before that record. The host may see an event twice; never not at all (at most the 16
 * newest are kept unconfirmed).
 */
export interface EventChannel {
  emit(out: GatewayEffect[], now: number, cls: EventClass, code: string, priority: Priority, detail: ReadonlyArray<readonly [string, CborValue]> | CborMap): void;
  /** A new connection: sends again what is unconfirmed, then what was queued while offline. */
  flush(out: GatewayEffect[]): void;
  /** The host acked this boot's records through `through`. */
  confirm(through: number): void;
}

export function createEventChannel(deps: {
  readonly topic: string;
  readonly bootId: Uint8Array;
  readonly time: TimeSource;
  readonly stats: GatewayStats;
  readonly connected: () => boolean;
  /** The seq the log will give its next record. */
  readonly nextSeq: () => number;
}): EventChannel {
  const queue: Publish[] = [];
  /** Published, not yet known to have arrived: confirmed by an ack through `seq` or beyond. */
  let unconfirmed: Array<{ p: Publish; seq: number }> = [];
  const send = (out: GatewayEffect[], p: Publish) => {
    deps.stats.published++;
    out.push({ type: 'publish', ...p });
    unconfirmed.push({ p, seq: deps.nextSeq() });
    if (unconfirmed.length > UNCONFIRMED) unconfirmed.shift();
  };
  return {
    emit(out, now, cls, code, priority, detail) {
      const { t, clock } = deps.time.time(now);
      const p: Publish = {
        topic: deps.topic,
        payload: encodeEvent({ bootId: deps.bootId, t, clock, class: cls, code, priority, detail: detail instanceof Map ? detail : new Map(detail) }),
        qos: 1,
        retain: false,
      };
      if (deps.connected()) send(out, p);
      else if (queue.length < EVENT_QUEUE) queue.push(p);
      else deps.stats.eventsDropped++;
    },
    flush(out) {
      const again = unconfirmed;
      unconfirmed = [];
      for (const { p } of again) send(out, p);
      for (const p of queue.splice(0)) send(out, p);
    },
    confirm(through) {
      unconfirmed = unconfirmed.filter((u) => u.seq > through);
    },
  };
}
