/**
 * The signed-command cases, built and run identically in Node and in XS. Every rejection reason of
 * docs/commands.md is reached by at least one case; each case says what it expects.
 */
import { CborTag, encode, type CborValue } from '../../firmware/core/cbor/index.js';
import {
  acceptTrustList,
  createCommandGate,
  encodeClaims,
  encodeSign,
  parseProfile,
  protectedHeader,
  sigStructure1,
  signCommand,
  signTrustList,
  type CommandClaims,
  type CommandGate,
  type DeviceProfile,
  type RejectReason,
  type SettingValue,
  type SigningKey,
  type TrustList,
} from '../../firmware/core/command/index.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import pumpProfile from '../../firmware/profiles/generic-pump-v1.json' with { type: 'json' };
import { testKey } from './keys.js';

export const GATEWAY = 'gw-bed-12';
export const SERIAL = 'PUMP-0042';
export const NOW = 1_790_000_000; // Unix seconds
const NONCE = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const NEXT_NONCE = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

export const keys = {
  root: testKey(1),
  nurse: testKey(2),
  physician: testKey(3),
  pharmacist: testKey(4),
  revoked: testKey(5),
  stranger: testKey(6),
  physicianSecondKey: testKey(7),
  nurse2: testKey(8),
};

/** Who may co-sign a soft-limit override in the test trust list: a grant of its own (docs/commands.md). */
export const TEST_COSIGN: ReadonlyMap<string, readonly string[]> = new Map([
  ['physician', ['pump.*', 'ventilator.*', 'monitor.*']],
  ['pharmacist', ['pump.*']],
]);

const TEST_GRANTS: ReadonlyMap<string, readonly string[]> = new Map([
  ['nurse', ['pump.rate', 'pump.vtbi', 'monitor.*']],
  ['physician', ['pump.*', 'ventilator.*', 'monitor.*']],
  ['pharmacist', ['pump.*']],
]);

export function profile(): DeviceProfile {
  const p = parseProfile(pumpProfile);
  if (!p.ok) throw new Error(`pump profile: ${p.error.path}: ${p.error.message}`);
  return p.value;
}

export function trustList(
  epoch = 3,
  issued = NOW - 86_400,
  cosign: ReadonlyMap<string, readonly string[]> = TEST_COSIGN,
  grants: ReadonlyMap<string, readonly string[]> = TEST_GRANTS,
): TrustList {
  const signers = [
    { kid: keys.nurse.kid, key: keys.nurse.publicKey, person: 'nurse.ada', roles: ['nurse'] },
    { kid: keys.physician.kid, key: keys.physician.publicKey, person: 'dr.bell', roles: ['physician'] },
    { kid: keys.pharmacist.kid, key: keys.pharmacist.publicKey, person: 'ph.cho', roles: ['pharmacist'] },
    { kid: keys.revoked.kid, key: keys.revoked.publicKey, person: 'nurse.old', roles: ['nurse'] },
    { kid: keys.physicianSecondKey.kid, key: keys.physicianSecondKey.publicKey, person: 'dr.bell', roles: ['physician'] },
    { kid: keys.nurse2.kid, key: keys.nurse2.publicKey, person: 'nurse.bo', roles: ['nurse'] },
  ];
  const bytes = signTrustList(
    {
      site: 'ward-7',
      epoch,
      issued,
      signers,
      revoked: [keys.revoked.publicKey],
      grants,
      cosign,
    },
    keys.root,
  );
  const r = acceptTrustList(bytes, keys.root.publicKey, undefined, ed25519Verify);
  if (!r.ok) throw new Error(`test trust list refused: ${r.error.type}: ${r.error.detail}`);
  return r.value;
}

export function claims(over: Partial<CommandClaims> & { set?: Record<string, [SettingValue, string | undefined]> } = {}): CommandClaims {
  const set = over.set ?? { rate: [60, 'mL/h'] };
  return {
    gateway: GATEWAY,
    serial: SERIAL,
    counter: 6,
    iat: NOW - 10,
    exp: NOW + 300,
    nonce: NONCE,
    epoch: 3,
    op: 'set',
    orderId: 'ORD-1001',
    clinician: 'nurse.ada',
    ...over,
    params: over.params ?? new Map(Object.entries(set).map(([k, [value, unit]]) => [k, { value, unit }])),
  };
}

const CURRENT = new Map<string, SettingValue>([['rate', 50], ['vtbi', 500], ['bolus', 1]]);

function gate(trust: TrustList | null = trustList()): CommandGate {
  return createCommandGate({ gateway: GATEWAY, serial: SERIAL, profile: profile(), verify: ed25519Verify }, { lastCounter: 5, nonce: NONCE }, trust ?? undefined);
}

export interface CommandOutcome {
  readonly accepted: boolean;
  readonly reason: RejectReason | null;
  readonly effects: readonly string[];
  readonly lastCounter: number;
}

function submit(g: CommandGate, bytes: Uint8Array, opts: { nowUnix?: number | undefined; current?: ReadonlyMap<string, SettingValue>; nowMs?: number } = {}): CommandOutcome {
  const d = g.submit({
    bytes,
    nowUnix: 'nowUnix' in opts ? opts.nowUnix : NOW,
    nowMs: opts.nowMs ?? 10_000_000,
    current: opts.current ?? CURRENT,
    freshNonce: NEXT_NONCE,
  });
  return { accepted: d.accepted, reason: d.accepted ? null : d.reason, effects: d.effects.map((e) => e.type), lastCounter: g.state.lastCounter };
}

/** A COSE_Sign1 with hand-made headers, for the header-rule cases. */
function rawSign1(prot: Map<number, CborValue>, unprot: Map<number, CborValue>, c: CommandClaims, key: SigningKey): Uint8Array {
  const protBytes = encode(prot);
  const payload = encodeClaims(c);
  return encode(new CborTag(18, [protBytes, unprot, payload, key.sign(sigStructure1(protBytes, payload))]));
}

export interface CommandCase {
  readonly name: string;
  readonly expect: RejectReason | 'accepted';
  run(): CommandOutcome;
}

export function commandCases(): CommandCase[] {
  const { nurse, physician, pharmacist, revoked, stranger, physicianSecondKey } = keys;
  const dr = { clinician: 'dr.bell' };
  const c = (name: string, expect: RejectReason | 'accepted', run: () => CommandOutcome): CommandCase => ({ name, expect, run });
  const one = (bytes: Uint8Array, opts?: Parameters<typeof submit>[2]) => () => submit(gate(), bytes, opts);
  return [
    c('a nurse changes the rate within limits', 'accepted', one(signCommand(claims(), nurse))),
    c('the same command twice: the second is a replay', 'replay', () => {
      const g = gate();
      const bytes = signCommand(claims(), nurse);
      const first = submit(g, bytes);
      if (!first.accepted) throw new Error('first submission should pass');
      return submit(g, bytes);
    }),
    c('a soft-limit change co-signed by a second person', 'accepted', one(signCommand(claims({ ...dr, set: { rate: [550, 'mL/h'] } }), physician, pharmacist), { current: new Map([['rate', 480]]) })),
    c('a ventilation-style enum value on a pump setting', 'invalid-value', one(signCommand(claims({ set: { rate: ['fast', 'mL/h'] } }), nurse))),
    c('random bytes', 'malformed', one(Uint8Array.of(0xde, 0xad, 0xbe, 0xef))),
    c('a command cut short', 'malformed', () => {
      const b = signCommand(claims(), nurse);
      return submit(gate(), b.subarray(0, b.length - 1));
    }),
    c('alg ES256 (-7)', 'unsupported-algorithm', one(rawSign1(new Map<number, CborValue>([[1, -7], [4, nurse.kid]]), new Map(), claims(), nurse))),
    c('no alg in the protected header', 'alg-not-protected', one(rawSign1(new Map<number, CborValue>([[4, nurse.kid]]), new Map(), claims(), nurse))),
    c('alg only in the unprotected header', 'malformed', one(rawSign1(new Map<number, CborValue>([[4, nurse.kid]]), new Map<number, CborValue>([[1, -8]]), claims(), nurse))),
    c('no kid in the protected header', 'kid-not-protected', one(rawSign1(new Map<number, CborValue>([[1, -8]]), new Map(), claims(), nurse))),
    c('kid only in the unprotected header', 'malformed', one(rawSign1(new Map<number, CborValue>([[1, -8]]), new Map<number, CborValue>([[4, nurse.kid]]), claims(), nurse))),
    c('crit names an unknown header', 'unknown-critical-header', one(rawSign1(new Map<number, CborValue>([[1, -8], [2, [99]], [4, nurse.kid], [99, 1]]), new Map(), claims(), nurse))),
    c('a label in both headers', 'malformed', one(rawSign1(new Map<number, CborValue>([[1, -8], [4, nurse.kid]]), new Map<number, CborValue>([[4, nurse.kid]]), claims(), nurse))),
    c('three signatures', 'too-many-signatures', one(encodeSign(encodeClaims(claims()), [nurse, physician, pharmacist].map((k) => ({ protected: protectedHeader(k.kid), signature: new Uint8Array(64) }))))),
    c('a gateway with no trust list', 'no-trust-list', () => submit(gate(null), signCommand(claims(), nurse))),
    c('a key not in the trust list', 'unknown-signer', one(signCommand(claims(), stranger))),
    c('a revoked key', 'revoked-key', one(signCommand(claims({ clinician: 'nurse.old' }), revoked))),
    c('one payload byte changed after signing', 'bad-signature', () => {
      const b = signCommand(claims(), nurse);
      const i = b.length - 64 - 3; // inside the payload (orderId / clinician text)
      b[i] = b[i]! ^ 0x01;
      return submit(gate(), b);
    }),
    c('a kid claiming another signer', 'bad-signature', one(signCommand(claims(), { ...stranger, kid: nurse.kid }))),
    c('co-signed by the same person with a second key', 'cosigner-not-distinct', one(signCommand(claims({ ...dr, set: { rate: [550, 'mL/h'] } }), physician, physicianSecondKey), { current: new Map([['rate', 480]]) })),
    c('claims with an unexpected field', 'bad-claims', () => {
      const prot = protectedHeader(nurse.kid);
      const payload = encode(new Map<string, CborValue>([['v', 1], ['extra', true]]));
      return submit(gate(), encode(new CborTag(18, [prot, new Map(), payload, nurse.sign(sigStructure1(prot, payload))])));
    }),
    c('addressed to another gateway', 'wrong-gateway', one(signCommand(claims({ gateway: 'gw-bed-13' }), nurse))),
    c('addressed to another device', 'wrong-device', one(signCommand(claims({ serial: 'PUMP-0043' }), nurse))),
    c('signed at an older key epoch', 'wrong-epoch', one(signCommand(claims({ epoch: 2 }), nurse))),
    c('names a clinician other than the signer', 'clinician-mismatch', one(signCommand(claims({ clinician: 'dr.bell' }), nurse))),
    c('an old counter', 'replay', one(signCommand(claims({ counter: 5 }), nurse))),
    c('an old challenge nonce', 'stale-nonce', one(signCommand(claims({ nonce: new Uint8Array(16) }), nurse))),
    c('expired by the trusted clock', 'expired', one(signCommand(claims({ iat: NOW - 900, exp: NOW - 1 }), nurse))),
    c('expired, but the clock is not trusted: the nonce vouches for freshness', 'accepted', one(signCommand(claims({ iat: NOW - 900, exp: NOW - 1 }), nurse), { nowUnix: undefined })),
    c('issued in the future by the trusted clock', 'not-yet-valid', one(signCommand(claims({ iat: NOW + 3600, exp: NOW + 7200 }), nurse))),
    c('a nurse gives a bolus (physicians and pharmacists only)', 'role-not-allowed', one(signCommand(claims({ set: { bolus: [2, 'mL'] } }), nurse))),
    c('a co-signer whose role may not co-sign the setting', 'cosign-not-allowed', one(signCommand(claims({ set: { bolus: [2, 'mL'] }, ...dr }), physician, nurse))),
    c('a setting the pump does not have', 'unknown-setting', one(signCommand(claims({ ...dr, set: { speed: [60, 'mL/h'] } }), physician))),
    c('rate in L/h', 'unit-mismatch', one(signCommand(claims({ set: { rate: [0.06, 'L/h'] } }), nurse))),
    c('rate beyond the hard limit, even co-signed', 'hard-limit', one(signCommand(claims({ ...dr, set: { rate: [1200, 'mL/h'] } }), physician, pharmacist), { current: new Map([['rate', 990]]) })),
    c('rate beyond the soft limit, one signature', 'soft-limit-needs-cosign', one(signCommand(claims({ set: { rate: [550, 'mL/h'] } }), nurse), { current: new Map([['rate', 480]]) })),
    c('the device has not reported its present rate', 'current-unknown', one(signCommand(claims(), nurse), { current: new Map() })),
    c('rate from 50 to 200 mL/h in one step', 'step-too-large', one(signCommand(claims({ set: { rate: [200, 'mL/h'] } }), nurse))),
    c('the thirteenth rate change within an hour', 'rate-limited', () => {
      const g = gate();
      let nonce: Uint8Array = NONCE;
      let last: CommandOutcome | undefined;
      for (let i = 0; i < 13; i++) {
        const d = g.submit({ bytes: signCommand(claims({ counter: 6 + i, nonce, set: { rate: [51 + i, 'mL/h'] } }), nurse), nowUnix: NOW, nowMs: 1_000_000 + i * 60_000, current: new Map([['rate', 50 + i]]), freshNonce: Uint8Array.of(i, ...NONCE.subarray(1)) });
        last = { accepted: d.accepted, reason: d.accepted ? null : d.reason, effects: d.effects.map((e) => e.type), lastCounter: g.state.lastCounter };
        if (d.accepted) nonce = g.state.nonce;
        else if (i < 12) throw new Error(`change ${i} refused: ${d.reason}`);
      }
      return last!;
    }),
  ];
}

let cached: CommandCase[] | undefined;

export function runCommandCase(i: number): CommandOutcome {
  const cases = (cached ??= commandCases());
  const k = cases[i];
  if (k === undefined) throw new Error(`no command case ${i}`);
  return k.run();
}
