/**
 * Every MQTT payload of docs/protocol.md, defined once: a schema per message (schema.ts), and for each
 * a strict `parseX(bytes)` (CBOR under Vigil's profile, decoding limits per message, then the schema)
 * and an `encodeX(value)`. The gateway, the host, the broker tests and the simulator all use these.
 *
 * Vitals and history travel as a compact envelope with integer keys around the flash record exactly as
 * stored (`body`, or a DROP record's `drop`): the gateway never decodes a record to send it, and the
 * host stores `body` as it arrives. The other messages are rare and keep text keys.
 */
import { decode, encode, type CborMap, type CborValue, type Result } from '../cbor/index.js';
import {
  anyMap,
  array,
  bool,
  bytes,
  custom,
  either,
  isProblem,
  literal,
  map,
  named,
  nullable,
  oneOf,
  opt,
  Problem,
  req,
  text,
  tuple,
  tuple3,
  uint,
  type Schema,
} from './schema.js';
import { CHANNEL_MAX_BYTES } from './topics.js';

// ---- shared pieces ----

const U32 = 0xffffffff;
export const bootId = named('boot-id', bytes(16));
export const nonce = named('nonce', bytes(16));
export const timeMs = named('time-ms', uint());
export const clock = named('clock', oneOf('utc', 'boot'));
export const deviceIdentity = named(
  'device-identity',
  map({
    kind: req(oneOf('pump', 'ventilator', 'monitor')),
    model: req(text(64), 'names the device profile, e.g. "generic-pump-v1"'),
    serial: req(text(64)),
    firmware: opt(text(24), "the device's own firmware version as the device reports it (matched against security advisories)"),
  }),
);

// ---- state: birth (retained) and death (the MQTT will) ----

export const buffer = named(
  'buffer',
  map({
    used: req(uint(), 'bytes of flash from the oldest record the host has not committed'),
    capacity: req(uint(), 'bytes the vitals log can hold'),
    dropped: req(uint(), 'records lost to a full log since this boot, each named in a DROP record'),
  }),
);
export const mode = named('mode', oneOf('online', 'degraded', 'recovering'));
/** Bounds of a birth's device settings: with them the birth stays well inside the state channel's 1024 bytes. */
export const SETTINGS_BOUNDS = { count: 16, name: 24, text: 16 } as const;
const MAX_SETTINGS = SETTINGS_BOUNDS.count;
/** A device's present settings by the profile's names: at most 16, names of 1 to 24 characters, text values of 1 to 16. */
export const deviceSettings = named(
  'device-settings',
  custom<Readonly<Record<string, number | string>>>(
    `{ * tstr .size (1..${SETTINGS_BOUNDS.name}) => number / tstr .size (1..${SETTINGS_BOUNDS.text}) } ; at most ${MAX_SETTINGS}`,
    (v, at) => {
      if (!(v instanceof Map)) return new Problem(`${at}: expected a map, got ${v === undefined ? 'nothing' : typeof v}`);
      if (v.size > MAX_SETTINGS) return new Problem(`${at}: more than ${MAX_SETTINGS} settings`);
      const out: Record<string, number | string> = {};
      for (const [k, x] of v) {
        if (typeof k !== 'string' || k.length === 0 || k.length > SETTINGS_BOUNDS.name) return new Problem(`${at}: a setting name must be text of 1 to ${SETTINGS_BOUNDS.name} characters`);
        if (typeof x === 'number' ? !Number.isFinite(x) : typeof x !== 'string' || x.length === 0 || x.length > SETTINGS_BOUNDS.text) return new Problem(`${at}.${k}: expected a number or text of 1 to ${SETTINGS_BOUNDS.text} characters`);
        out[k] = x as number | string;
      }
      return out;
    },
    (x) => new Map(Object.entries(x)),
  ),
);
export const birth = named(
  'birth',
  map({
    online: req(literal(true)),
    bdSeq: req(uint(U32)),
    bootId: req(bootId),
    firmware: req(text(32), 'firmware version, semver'),
    device: req(nullable(deviceIdentity), 'null until the device link identifies the device'),
    nonce: req(nonce, 'the challenge nonce the next command must carry'),
    mode: req(mode, "the gateway's own view of its connection"),
    buffer: req(buffer),
    t: req(timeMs),
    clock: req(clock),
    settings: opt(deviceSettings, "the device's present settings as it last reported them; absent until it has"),
  }),
);
export const death = named('death', map({ online: req(literal(false)), bdSeq: req(uint(U32), 'the bdSeq of the birth it ends') }));

export type BirthMessage = typeof birth extends Schema<infer T> ? T : never;
export type DeathMessage = typeof death extends Schema<infer T> ? T : never;
export type Mode = typeof mode extends Schema<infer T> ? T : never;

// ---- vitals and history ----

/** The log's low-water mark: a seq of the record's own boot, or [boot, seq] of another. */
export const lowWater = named(
  'low-water',
  either(uint(U32), tuple(bootId, uint(U32)), (x): x is number => typeof x === 'number'),
);
export const vitalsRecord = named(
  'vitals-record',
  map({
    bootId: req(bootId, undefined, 1),
    seq: req(uint(U32), 'per boot, contiguous from 0', 2),
    body: req(bytes(undefined, 4096), 'bstr .cbor batch-body: the flash record as stored', 4),
  }),
);
const historyFields = map({
  bootId: req(bootId, undefined, 1),
  seq: req(uint(U32), undefined, 2),
  lowWater: req(lowWater, 'every record before the one it names (log order) is committed or lost', 3),
  body: opt(bytes(undefined, 4096), 'bstr .cbor batch-body; exactly one of body and drop', 4),
  drop: opt(bytes(undefined, 512), 'bstr .cbor drop-body: a DROP record as stored', 5),
});
export const historyRecord = named(
  'history-record',
  custom(
    historyFields.cddl,
    (v, at) => {
      const r = historyFields.parse(v, at);
      if (isProblem(r)) return r;
      if ((r.body === undefined) === (r.drop === undefined)) return new Problem(`${at}: exactly one of body and drop`);
      return r;
    },
    (x) => historyFields.toCbor(x),
  ),
);
export type VitalsRecord = typeof vitalsRecord extends Schema<infer T> ? T : never;
export type HistoryRecord = typeof historyRecord extends Schema<infer T> ? T : never;

/** A DROP record's payload (firmware/core/log/drop.ts): records lost to a full log. */
const dropFields = map({
  dropped: req(uint(), 'how many (including earlier DROP records it overwrote)'),
  ranges: req(array(tuple3(bootId, uint(U32), uint(U32)), 4), '(boot, first seq, last seq) with first <= last, at most 4'),
  more: req(bool(), 'more ranges were lost than listed'),
  sector: opt(uint(U32), 'generation of the flash sector dropped: one report per sector'),
});
export const dropBody = named(
  'drop-body',
  custom(
    dropFields.cddl,
    (v, at) => {
      const r = dropFields.parse(v, at);
      if (isProblem(r)) return r;
      const i = r.ranges.findIndex(([, first, last]) => first > last);
      return i < 0 ? r : new Problem(`${at}.ranges[${i}]: first ${r.ranges[i]![1]} is after last ${r.ranges[i]![2]}`);
    },
    (x) => dropFields.toCbor(x),
  ),
);
export type DropBody = typeof dropBody extends Schema<infer T> ? T : never;

// ---- event ----

export const eventMessage = named(
  'event',
  map({
    bootId: req(bootId),
    t: req(timeMs),
    clock: req(clock),
    class: req(oneOf('clinical', 'technical', 'security')),
    code: req(text(40, /^[a-z0-9][a-z0-9-]*$/), 'e.g. "cmd-rejected", "device-silent", "implausible-value"'),
    priority: req(oneOf('high', 'medium', 'low', 'info'), 'IEC 60601-1-8 for alarms'),
    detail: req(anyMap(), 'evidence, per code'),
  }),
);
export type EventMessage = typeof eventMessage extends Schema<infer T> ? T : never;

// ---- cmd/result ----

export const commandResult = named(
  'cmd-result',
  map({
    counter: opt(uint(), "the command's counter, when it could be read"),
    orderId: opt(text(64)),
    status: req(oneOf('accepted', 'rejected', 'applied', 'failed')),
    reason: opt(text(64), 'a rejection or failure reason, from the list in docs/commands.md'),
    t: req(timeMs),
    clock: req(clock),
    nonce: req(nonce, "the gateway's challenge nonce after this command"),
  }),
);
export type CommandResult = typeof commandResult extends Schema<infer T> ? T : never;

// ---- ack (host → gateway) and host/state ----

export const ack = named(
  'ack',
  map({
    bootId: req(bootId),
    through: req(uint(U32), 'every seq of that boot up to this one is committed, or reported lost'),
  }),
);
export type Ack = typeof ack extends Schema<infer T> ? T : never;

export const hostState = named('host-state', map({ online: req(bool()), hostId: req(text(64)), t: req(timeMs) }));
export type HostState = typeof hostState extends Schema<infer T> ? T : never;

// ---- parse and encode ----

interface Limits {
  readonly maxDepth: number;
  readonly maxLength: number;
  readonly maxBytes: number;
}

function parseWith<T>(name: string, s: Schema<T>, payload: Uint8Array, limits: Limits): Result<T, string> {
  if (payload.length > limits.maxBytes) return { ok: false, error: `${name}: ${payload.length} bytes, at most ${limits.maxBytes}` };
  const r = decode(payload, { maxDepth: limits.maxDepth, maxLength: limits.maxLength });
  if (!r.ok) return { ok: false, error: `${name}: CBOR: ${r.error.message} (at byte ${r.error.offset})` };
  const v = s.parse(r.value, name);
  return isProblem(v) ? { ok: false, error: v.detail } : { ok: true, value: v };
}

const SMALL: Limits = { maxDepth: 3, maxLength: 256, maxBytes: CHANNEL_MAX_BYTES.ack };
const RECORD: Limits = { maxDepth: 3, maxLength: 4096, maxBytes: CHANNEL_MAX_BYTES.vitals };

export type StateMessage = BirthMessage | DeathMessage;

export function parseState(payload: Uint8Array): Result<StateMessage, string> {
  if (payload.length > CHANNEL_MAX_BYTES.state) return { ok: false, error: `state: ${payload.length} bytes, at most ${CHANNEL_MAX_BYTES.state}` };
  const r = decode(payload, { maxDepth: 3, maxLength: 256 });
  if (!r.ok) return { ok: false, error: `state: CBOR: ${r.error.message} (at byte ${r.error.offset})` };
  const online = r.value instanceof Map ? r.value.get('online') : undefined;
  const s: Schema<StateMessage> = online === false ? death : birth;
  const v = s.parse(r.value, online === false ? 'death' : 'birth');
  return isProblem(v) ? { ok: false, error: v.detail } : { ok: true, value: v };
}

export const encodeBirth = (x: BirthMessage): Uint8Array => encode(birth.toCbor(x));
export const encodeDeath = (x: DeathMessage): Uint8Array => encode(death.toCbor(x));

export const parseVitals = (payload: Uint8Array): Result<VitalsRecord, string> => parseWith('vitals-record', vitalsRecord, payload, RECORD);
export const parseHistory = (payload: Uint8Array): Result<HistoryRecord, string> => parseWith('history-record', historyRecord, payload, RECORD);

/**
 * The envelope around a stored record: the record goes in as a byte string, neither decoded nor
 * re-encoded on its way out (the one encode of a batch is at the flush, before it goes to flash).
 */
export function encodeVitals(x: VitalsRecord): Uint8Array {
  return encode(vitalsRecord.toCbor(x));
}

export function encodeHistory(x: HistoryRecord): Uint8Array {
  return encode(historyRecord.toCbor(x));
}

export const parseDrop = (payload: Uint8Array): Result<DropBody, string> => parseWith('drop-body', dropBody, payload, { maxDepth: 4, maxLength: 16, maxBytes: 512 });
export const encodeDrop = (x: DropBody): Uint8Array => encode(dropBody.toCbor(x));

export const parseEvent = (payload: Uint8Array): Result<EventMessage, string> => parseWith('event', eventMessage, payload, { maxDepth: 6, maxLength: 1024, maxBytes: CHANNEL_MAX_BYTES.event });
export const encodeEvent = (x: EventMessage): Uint8Array => encode(eventMessage.toCbor(x));

export const parseCommandResult = (payload: Uint8Array): Result<CommandResult, string> => parseWith('cmd-result', commandResult, payload, SMALL);
export const encodeCommandResult = (x: CommandResult): Uint8Array => encode(commandResult.toCbor(x));

export const parseAck = (payload: Uint8Array): Result<Ack, string> => parseWith('ack', ack, payload, SMALL);
export const encodeAck = (x: Ack): Uint8Array => encode(ack.toCbor(x));

export const parseHostState = (payload: Uint8Array): Result<HostState, string> => parseWith('host-state', hostState, payload, SMALL);
export const encodeHostState = (x: HostState): Uint8Array => encode(hostState.toCbor(x));

/** An event's evidence from plain values (text keys). */
export function detail(entries: ReadonlyArray<readonly [string, CborValue]>): CborMap {
  return new Map(entries);
}
