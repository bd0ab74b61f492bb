/**
 * Everything gateways publish, routed by topic (firmware/core/protocol) to what handles it: records to
 * ingest, births and deaths to the gateway registry, events to storage and alarms, command results to
 * the command service. Each payload is parsed strictly by the protocol module; what fails is refused
 * (refusals.ts), never thrown.
 */
import type { CborValue } from '../firmware/core/cbor/index.js';
import { toHex } from '../firmware/core/hex.js';
import { parseCommandResult, parseEvent, parseState, parseTopic } from '../firmware/core/protocol/index.js';
import { alarmFromEvent } from './alarm-rules.js';
import type { Alarms } from './alarms.js';
import type { AuditLog } from './audit.js';
import type { CommandService } from './commands.js';
import type { Gateways } from './gateways.js';
import type { Ingest } from './ingest.js';
import { CONTROL_PER_WINDOW, CONTROL_WINDOW_MS, type Refusals } from './refusals.js';
import type { Db } from './store/db.js';
import { isStorageError, type Storage } from './storage.js';
import type { StreamMessage } from './types.js';

export interface InboundDeps {
  readonly site: string;
  readonly db: Db;
  readonly gateways: Gateways;
  readonly ingest: Ingest;
  readonly alarms: Alarms;
  readonly commands: CommandService;
  readonly refusals: Refusals;
  readonly storage: Storage;
  readonly audit: AuditLog;
  readonly emit: (m: StreamMessage) => void;
  readonly now: () => number;
}

export interface Inbound {
  /** One MQTT message from the broker. */
  handle(topic: string, payload: Uint8Array): void;
  /** A queued control message, inside ingest's commit (its savepoint): a storage error is rethrown, anything else refused. */
  commitControl(topic: string, payload: Uint8Array): void;
  /** Replays control messages kept while storage failed, if it may be tried now (call every second). */
  retry(): void;
}

/** The handler for the host's MQTT messages. */
export function createInbound(d: InboundDeps): Inbound {
  const insertEvent = d.db.prepare('INSERT INTO events (gateway, boot_id, t, clock, class, code, priority, detail, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');

  function onEvent(gateway: string, payload: Uint8Array): void {
    const e = parseEvent(payload);
    if (!e.ok) return d.refusals.refuse(gateway, 'event', e.error);
    const json = JSON.stringify(cborToJson(e.value.detail));
    const { bootId, t, clock, class: cls, code, priority } = e.value;
    insertEvent.run(gateway, bootId, t, clock, cls, code, priority, json, d.now());
    d.emit({ type: 'event', gateway, class: cls, code, priority, detail: JSON.parse(json) });
    alarmFromEvent(d.alarms, d.now(), gateway, cls, code, priority, JSON.parse(json) as Record<string, unknown>);
  }

  function onResult(gateway: string, payload: Uint8Array): void {
    const r = parseCommandResult(payload);
    if (!r.ok) return d.refusals.refuse(gateway, 'cmd/result', r.error);
    d.gateways.nonce(gateway, r.value.nonce);
    d.commands.result(d.now(), gateway, r.value.counter, r.value.status, r.value.reason);
  }

  function onState(gateway: string, payload: Uint8Array): void {
    const s = parseState(payload);
    if (!s.ok) return d.refusals.refuse(gateway, 'state', s.error);
    d.gateways.state(gateway, s.value);
  }

  const control = d.db.transaction((channel: 'state' | 'event' | 'cmd/result', gateway: string, payload: Uint8Array) => {
    if (channel === 'state') onState(gateway, payload);
    else if (channel === 'event') onEvent(gateway, payload);
    else onResult(gateway, payload);
  });

  /** Handles a control message in its transaction; false when storage failed (nothing of it was kept). */
  function write(channel: 'state' | 'event' | 'cmd/result', gateway: string, payload: Uint8Array): boolean {
    try {
      control(channel, gateway, payload);
    } catch (e) {
      d.audit.resync(); // an entry appended inside the rolled-back transaction is gone
      if (!isStorageError(e)) throw e;
      d.storage.failed(`${gateway}/${channel}`, e);
      return false;
    }
    d.storage.succeeded();
    return true;
  }

  function retry(): void {
    if (d.storage.deferred === 0 || !d.storage.mayTry()) return;
    d.storage.replay((name, payload) => {
      const tp = parseTopic(name);
      if (tp?.kind !== 'gateway' || (tp.channel !== 'state' && tp.channel !== 'event' && tp.channel !== 'cmd/result')) return true;
      try {
        return write(tp.channel, tp.gateway, payload);
      } catch (e) {
        d.refusals.refuse(tp.gateway, tp.channel, `internal error: ${(e as Error).message}`);
        return true;
      }
    });
  }

  function handle(name: string, payload: Uint8Array): void {
    const tp = parseTopic(name);
    if (tp?.kind === 'host-state') return; // the host's own retained state, echoed by the `+/state` subscription
    const parts = name.split('/');
    const gateway = tp?.kind === 'gateway' ? tp.gateway : parts[3] || '?';
    const channel = tp?.kind === 'gateway' ? tp.channel : parts.slice(4).join('/') || '?';
    try {
      if (tp?.kind !== 'gateway' || tp.site !== d.site) return d.refusals.refuse(gateway, channel, `topic ${name} names no valid gateway channel of site ${d.site}`);
      d.gateways.seen(gateway);
      switch (tp.channel) {
        case 'vitals':
        case 'history': {
          const bad = d.ingest.receive(gateway, tp.channel, payload);
          if (bad !== undefined) d.refusals.refuse(gateway, tp.channel, bad.error, bad.alarmed !== true);
          return;
        }
        case 'state':
        case 'event':
        case 'cmd/result':
          if (!d.refusals.withinRate(gateway, tp.channel)) return d.refusals.refuse(gateway, tp.channel, `more than ${CONTROL_PER_WINDOW} ${tp.channel} messages in ${CONTROL_WINDOW_MS / 1000} s: dropped`);
          retry();
          // in order: behind what is already waiting while storage is failing; otherwise in the next
          // commit, with the records that came meanwhile (one fsync for all of them)
          if (d.storage.deferred > 0 || !d.storage.ok) d.storage.defer(name, payload);
          else d.ingest.queueControl(name, payload);
          return;
        default:
          return d.refusals.refuse(gateway, tp.channel, `gateways do not publish on ${tp.channel}`);
      }
    } catch (e) {
      // a bug here must not take the ward's host down: count it as a refusal and keep going
      d.refusals.refuse(gateway, channel, `internal error: ${(e as Error).message}`);
    }
  }

  function commitControl(name: string, payload: Uint8Array): void {
    const tp = parseTopic(name);
    if (tp?.kind !== 'gateway' || (tp.channel !== 'state' && tp.channel !== 'event' && tp.channel !== 'cmd/result')) return;
    try {
      control(tp.channel, tp.gateway, payload);
    } catch (e) {
      if (isStorageError(e)) throw e;
      d.refusals.refuse(tp.gateway, tp.channel, `internal error: ${(e as Error).message}`);
    }
  }

  return { handle, retry, commitControl };
}

/** CBOR detail maps as JSON (byte strings as hex) for storage and the API. */
export function cborToJson(v: CborValue): unknown {
  if (v instanceof Uint8Array) return toHex(v);
  if (Array.isArray(v)) return v.map(cborToJson);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), cborToJson(x)]));
  if (typeof v === 'bigint') return v.toString();
  return v;
}
