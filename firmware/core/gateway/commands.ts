/**
 * The gateway's command path: the trust list it holds (stored in NVS, replaced only by a newer one the
 * root key signed), the command gate for the identified device, each command's result, the device's
 * read-back of what was set, and command floods. Nothing reaches the device that the gate did not
 * accept; the counter is durable before the forward (docs/commands.md).
 */
import { decode, encode } from '../cbor/index.js';
import { acceptTrustList, createCommandGate, type CommandGate, type DeviceProfile, type Ed25519Verify, type SettingValue, type TrustList } from '../command/index.js';
import { toHex } from '../hex.js';
import { encodeCommandResult } from '../protocol/index.js';
import type { EventChannel, GatewayEffect, GatewayStats, Publish, TimeSource } from './effects.js';
import type { KeyValueStore } from './ports.js';

const READBACK_TIMEOUT_MS = 10_000;
const FLOOD_PER_MINUTE = 20;
/** NVS values are at most 4000 bytes: a trust list of about 45 signers. */
const TRUST_MAX_BYTES = 4000;

export interface CommandPath {
  /** The challenge nonce the next command must carry (published in the birth). */
  readonly nonce: Uint8Array;
  /** The device identified itself: a gate for its profile (none for an unknown model). */
  device(serial: string, profile: DeviceProfile | undefined): void;
  /** The device's present settings as it last reported them (published in the birth). */
  readonly current: ReadonlyMap<string, SettingValue>;
  /** The device's present settings, and the read-back of a forwarded command. Returns whether any value changed. */
  settings(out: GatewayEffect[], now: number, id: number | undefined, values: ReadonlyMap<string, SettingValue>): boolean;
  /** A `cmd` payload. Returns true when a command was accepted (the nonce moved on). */
  command(out: GatewayEffect[], now: number, bytes: Uint8Array): boolean;
  /** A retained trust list. */
  trustList(out: GatewayEffect[], now: number, payload: Uint8Array): void;
  tick(out: GatewayEffect[], now: number): void;
  wakeAt(): number;
}

export function createCommandPath(deps: {
  readonly gateway: string;
  readonly rootKey: Uint8Array;
  readonly store: KeyValueStore;
  readonly verify: Ed25519Verify;
  readonly random: (n: number) => Uint8Array;
  readonly resultTopic: string;
  readonly time: TimeSource;
  readonly stats: GatewayStats;
  readonly events: EventChannel;
  readonly publish: (out: GatewayEffect[], p: Publish) => boolean;
  /** Sends a `set` to the device over the link. */
  readonly forward: (out: GatewayEffect[], now: number, counter: number, values: ReadonlyMap<string, SettingValue>) => void;
}): CommandPath {
  let trust: TrustList | undefined = loadTrust();
  let gate: CommandGate | undefined;
  let nonce = deps.random(16);
  const current = new Map<string, SettingValue>(); // the device's read-back values
  let pending: { counter: number; orderId: string; values: ReadonlyMap<string, SettingValue>; since: number } | undefined;
  const flood = createFloodWatch(deps.events);

  function loadTrust(): TrustList | undefined {
    const b = deps.store.get('trust');
    if (b === undefined) return undefined;
    const r = acceptTrustList(b, deps.rootKey, undefined, deps.verify);
    return r.ok ? r.value : undefined;
  }

  function storedCounter(): number {
    const b = deps.store.get('counter');
    const r = b === undefined ? undefined : decode(b);
    return r !== undefined && r.ok && typeof r.value === 'number' ? r.value : 0;
  }

  function result(out: GatewayEffect[], now: number, counter: number | undefined, orderId: string | undefined, status: 'accepted' | 'rejected' | 'applied' | 'failed', reason: string | undefined): void {
    const { t, clock } = deps.time.time(now);
    const payload = encodeCommandResult({
      ...(counter !== undefined ? { counter } : {}),
      ...(orderId !== undefined && orderId.length > 0 ? { orderId } : {}),
      status,
      ...(reason !== undefined ? { reason } : {}),
      t,
      clock,
      nonce,
    });
    deps.publish(out, { topic: deps.resultTopic, payload, qos: 1, retain: false });
  }

  return {
    get nonce() {
      return nonce;
    },
    device(serial, profile) {
      gate = profile === undefined ? undefined : createCommandGate({ gateway: deps.gateway, serial, profile, verify: deps.verify }, { lastCounter: storedCounter(), nonce }, trust);
    },
    current,
    settings(out, now, id, values) {
      const before = new Map(current);
      for (const [k, v] of values) current.set(k, v);
      const changed = [...values].some(([k, v]) => before.get(k) !== v);
      if (pending !== undefined && id === pending.counter) {
        const p = pending;
        const mismatch = [...p.values].filter(([k, v]) => values.get(k) !== v).map(([k]) => k);
        result(out, now, p.counter, p.orderId, mismatch.length === 0 ? 'applied' : 'failed', mismatch.length === 0 ? undefined : `device read back other values for ${mismatch.join(', ')}`);
        pending = undefined;
      } else {
        reportLocalChange(deps.events, out, now, before, values);
      }
      return changed;
    },
    command(out, now, bytes) {
      deps.stats.commands++;
      flood(out, now);
      if (gate === undefined) {
        result(out, now, undefined, undefined, 'rejected', 'wrong-device');
        deps.events.emit(out, now, 'security', 'cmd-rejected', 'medium', [['reason', 'wrong-device'], ['detail', 'no device identified on the link yet']]);
        return false;
      }
      const d = gate.submit({ bytes, nowUnix: deps.time.unixSeconds(now), nowMs: now, current, freshNonce: deps.random(16) });
      for (const e of d.effects) {
        if (e.type === 'persist-state') {
          deps.store.set('counter', encode(e.state.lastCounter)); // durable before the forward below
          nonce = e.state.nonce;
        } else if (e.type === 'forward') {
          pending = { counter: e.counter, orderId: e.orderId, values: e.settings, since: now };
          deps.forward(out, now, e.counter, e.settings);
        } else if (e.type === 'result') {
          result(out, now, e.result.counter, e.result.orderId, e.result.status, e.result.reason);
        } else {
          deps.events.emit(out, now, 'security', 'cmd-rejected', 'medium', [['reason', e.reason], ['detail', e.detail], ['signer', e.signer ?? null]]);
        }
      }
      return d.accepted;
    },
    trustList(out, now, payload) {
      if (payload.length > TRUST_MAX_BYTES) {
        deps.events.emit(out, now, 'security', 'trust-rejected', 'high', [['reason', 'too-large'], ['detail', `${payload.length} bytes; the store holds ${TRUST_MAX_BYTES}`]]);
        return;
      }
      const r = acceptTrustList(payload, deps.rootKey, trust, deps.verify);
      if (!r.ok) {
        deps.events.emit(out, now, 'security', 'trust-rejected', 'high', [['reason', r.error.type], ['detail', r.error.detail]]);
        return;
      }
      if (trust === undefined || toHex(r.value.bytes) !== toHex(trust.bytes)) {
        deps.store.set('trust', payload);
        trust = r.value;
        gate?.setTrust(r.value);
      }
    },
    tick(out, now) {
      if (pending !== undefined && now - pending.since > READBACK_TIMEOUT_MS) {
        result(out, now, pending.counter, pending.orderId, 'failed', 'device-no-readback');
        deps.events.emit(out, now, 'technical', 'device-no-readback', 'high', [['counter', pending.counter]]);
        pending = undefined;
      }
    },
    wakeAt: () => (pending === undefined ? Infinity : pending.since + READBACK_TIMEOUT_MS),
  };
}

/** Counts commands in the last minute; beyond FLOOD_PER_MINUTE, one `command-flood` event a minute. */
function createFloodWatch(events: EventChannel): (out: GatewayEffect[], now: number) => void {
  const times: number[] = [];
  let reportedAt = -Infinity;
  return (out, now) => {
    times.push(now);
    while (times.length > 0 && now - times[0]! > 60_000) times.shift();
    if (times.length > FLOOD_PER_MINUTE && now - reportedAt > 60_000) {
      reportedAt = now;
      events.emit(out, now, 'security', 'command-flood', 'high', [['perMinute', times.length]]);
    }
  };
}

/**
 * A setting the device reports changed without a command of ours (a nurse at the pump): legitimate,
 * but it must be visible and audited. The first report after boot only sets what is known.
 */
function reportLocalChange(events: EventChannel, out: GatewayEffect[], now: number, before: ReadonlyMap<string, SettingValue>, values: ReadonlyMap<string, SettingValue>): void {
  if (before.size === 0) return;
  const changed = [...values].filter(([k, v]) => before.has(k) && before.get(k) !== v);
  if (changed.length > 0) events.emit(out, now, 'security', 'local-setting-change', 'medium', changed.map(([k, v]) => [k, [before.get(k)!, v]] as const));
}
