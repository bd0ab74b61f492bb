/**
 * Attacks on the signed-command gate and the trust list, each with the exact reason it must get
 * (issue 10, items 1–6). Built and run identically in Node and in XS; the unit suite and the XS suite
 * compare outcomes byte for byte.
 *
 *  1. any entry in an unprotected header (COSE_Sign1, COSE_Sign body, each COSE_Signature): malformed
 *  2. a different trust list at the same (epoch, issued): refused, so a revocation cannot be undone
 *  3. co-signing is a grant of its own: two nurses cannot override a soft limit
 *  4. numeric edges: NaN, ±Infinity, -0, subnormals, beyond 2^53 − 1
 *  5. each reason names what is wrong: signature and kid lengths, a value of the wrong type, strings
 *     with control characters quoted
 *  6. RFC 9052 §3 interoperability: h'a0' for an empty protected header, protected keys in any order
 *     (but never twice)
 */
import fc from 'fast-check';
import { CborTag, decode, encode, type CborKey, type CborValue } from '../../firmware/core/cbor/index.js';
import {
  acceptTrustList,
  createCommandGate,
  encodeClaims,
  parseProfile,
  signCommand,
  signTrustList,
  sigStructure,
  sigStructure1,
  type CommandClaims,
  type DeviceProfile,
  type RejectReason,
  type SettingValue,
  type SigningKey,
  type TrustList,
  type TrustListContent,
} from '../../firmware/core/command/index.js';
import { fromHex } from '../../firmware/core/hex.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import type { PropertyReport } from './cbor-properties.js';
import { claims, GATEWAY, keys, NOW, profile, SERIAL, trustList } from './command-cases.js';

const NONCE = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const NEXT_NONCE = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const CURRENT = new Map<string, SettingValue>([['rate', 50], ['vtbi', 500], ['bolus', 1], ['offset', 0]]);

export interface AttackOutcome {
  readonly accepted: boolean;
  readonly reason: string | null;
  readonly detail: string;
  /** For accepted commands: the values forwarded to the device, as text (so -0 shows). */
  readonly forwarded: string | null;
}

export interface AttackCase {
  readonly item: number;
  readonly name: string;
  readonly expect: RejectReason | 'accepted' | string;
  /** A pattern the detail must match, when the wording matters (item 5). */
  readonly detail?: string;
  run(): AttackOutcome;
}

/** A profile with a setting whose limits hold 0, so numeric edges reach the value checks. */
function offsetProfile(): DeviceProfile {
  const p = parseProfile({
    model: 'test-pump-v1',
    kind: 'pump',
    settings: {
      rate: { type: 'number', unit: 'mL/h', hard: [0.1, 999], soft: [0.5, 500], maxStep: 100, maxChangesPerHour: 12 },
      offset: { type: 'number', unit: 'mL/h', hard: [-10, 10], soft: [-5, 5], maxStep: 10, maxChangesPerHour: 12 },
    },
  });
  if (!p.ok) throw new Error(`test profile: ${p.error.path}: ${p.error.message}`);
  return p.value;
}

function showValue(v: SettingValue): string {
  return typeof v === 'number' && v === 0 && 1 / v < 0 ? '-0' : String(v);
}

function submit(bytes: Uint8Array, opts: { trust?: TrustList; profile?: DeviceProfile; current?: ReadonlyMap<string, SettingValue> } = {}): AttackOutcome {
  const g = createCommandGate({ gateway: GATEWAY, serial: SERIAL, profile: opts.profile ?? profile(), verify: ed25519Verify }, { lastCounter: 5, nonce: NONCE }, opts.trust ?? trustList());
  const d = g.submit({ bytes, nowUnix: NOW, nowMs: 10_000_000, current: opts.current ?? CURRENT, freshNonce: NEXT_NONCE });
  if (!d.accepted) return { accepted: false, reason: d.reason, detail: d.detail, forwarded: null };
  const fwd = d.effects.find((e) => e.type === 'forward');
  const forwarded = fwd?.type === 'forward' ? [...fwd.settings].map(([k, v]) => `${k}=${showValue(v)}`).join(',') : null;
  const result = d.effects.find((e) => e.type === 'result');
  return { accepted: true, reason: null, detail: result?.type === 'result' ? result.result.detail : '', forwarded };
}

/** Decodes a COSE message we made ourselves (so it is canonical) into its outer array. */
function outer(bytes: Uint8Array): { tag: number; items: CborValue[] } {
  const r = decode(bytes, { tags: [18, 98] });
  if (!r.ok || !(r.value instanceof CborTag)) throw new Error('test setup: not a COSE message');
  return { tag: r.value.tag, items: [...(r.value.value as CborValue[])] };
}

const reencode = (tag: number, items: CborValue[]): Uint8Array => encode(new CborTag(tag, items));

/** The same signed COSE_Sign1 with `entries` in its unprotected header: the signature does not cover them. */
function withUnprotected(bytes: Uint8Array, entries: ReadonlyArray<[CborKey, CborValue]>): Uint8Array {
  const { tag, items } = outer(bytes);
  items[1] = new Map(entries);
  return reencode(tag, items);
}

/** A COSE_Sign1 signed over the exact protected-header bytes and payload given. */
function rawSign1(protectedBytes: Uint8Array, payload: Uint8Array, key: SigningKey): Uint8Array {
  return encode(new CborTag(18, [protectedBytes, new Map(), payload, key.sign(sigStructure1(protectedBytes, payload))]));
}

/** A COSE_Sign with the body protected bytes and each signer's protected bytes as given. */
function rawSign(bodyProtected: Uint8Array, payload: Uint8Array, signers: ReadonlyArray<{ key: SigningKey; protected: Uint8Array }>): Uint8Array {
  return encode(
    new CborTag(98, [
      bodyProtected,
      new Map(),
      payload,
      signers.map((s) => [s.protected, new Map(), s.key.sign(sigStructure(bodyProtected, s.protected, payload))]),
    ]),
  );
}

const hex = (h: string): Uint8Array => {
  const b = fromHex(h.replace(/\s+/g, ''));
  if (b === undefined) throw new Error(`bad hex ${h}`);
  return b;
};

/** Protected header bytes {1: -8, 4: kid} written by hand, in the order given. */
function protectedBytes(kid: Uint8Array, order: 'alg-first' | 'kid-first'): Uint8Array {
  const alg = hex('0127');
  const kidItem = new Uint8Array([0x04, 0x40 | kid.length, ...kid]); // kid.length < 24 in these tests
  return order === 'alg-first' ? new Uint8Array([0xa2, ...alg, ...kidItem]) : new Uint8Array([0xa2, ...kidItem, ...alg]);
}

/** A claims payload whose params are replaced by `params`, which encodeClaims would never write. */
function rawPayload(c: CommandClaims, params: CborValue): Uint8Array {
  const r = decode(encodeClaims(c));
  if (!r.ok || !(r.value instanceof Map)) throw new Error('test setup: claims do not decode');
  const m = new Map(r.value as Map<CborKey, CborValue>);
  m.set('params', params);
  return encode(m);
}

function testTrust(over: Partial<TrustListContent> = {}): TrustListContent {
  return {
    site: 'ward-7',
    epoch: 3,
    issued: NOW - 86_400,
    signers: [
      { kid: keys.nurse.kid, key: keys.nurse.publicKey, person: 'nurse.ada', roles: ['nurse'] },
      { kid: keys.revoked.kid, key: keys.revoked.publicKey, person: 'nurse.old', roles: ['nurse'] },
    ],
    revoked: [keys.revoked.publicKey],
    grants: new Map([['nurse', ['pump.rate']]]),
    cosign: new Map(),
    ...over,
  };
}

function trustOutcome(candidate: Uint8Array, current: TrustList | undefined): AttackOutcome {
  const r = acceptTrustList(candidate, keys.root.publicKey, current, ed25519Verify);
  return r.ok ? { accepted: true, reason: null, detail: `epoch ${r.value.epoch}`, forwarded: null } : { accepted: false, reason: r.error.type, detail: r.error.detail, forwarded: null };
}

function accepted(bytes: Uint8Array): TrustList {
  const r = acceptTrustList(bytes, keys.root.publicKey, undefined, ed25519Verify);
  if (!r.ok) throw new Error(`test setup: trust list refused: ${r.error.detail}`);
  return r.value;
}

export function attackCases(): AttackCase[] {
  const { nurse, nurse2, physician, pharmacist } = keys;
  const dr = { clinician: 'dr.bell' };
  const valid = () => signCommand(claims(), nurse);
  const cosigned = () => signCommand(claims({ ...dr, set: { rate: [550, 'mL/h'] } }), physician, pharmacist);
  const atSoft = { current: new Map<string, SettingValue>([['rate', 480]]) };
  const c = (item: number, name: string, expect: AttackCase['expect'], run: () => AttackOutcome, detail?: string): AttackCase =>
    detail === undefined ? { item, name, expect, run } : { item, name, expect, run, detail };
  const edge = (v: number) => () => submit(signCommand(claims({ set: { offset: [v, 'mL/h'] } }), nurse), { profile: offsetProfile(), trust: offsetTrust() });

  const cases: AttackCase[] = [
    // 1. the unprotected header is empty, everywhere
    ...([
      ['content type (3)', 3, 'text/plain'],
      ['IV (5)', 5, hex('00112233')],
      ['counter signature (7)', 7, [hex('a0'), new Map(), hex('00')]],
      ['private label 99', 99, 1],
      ['negative private label -65537', -65537, true],
      ['a text label', 'note', 'unauthenticated'],
    ] as ReadonlyArray<[string, CborKey, CborValue]>).map(([what, label, value]) =>
      c(1, `COSE_Sign1 with ${what} in the unprotected header`, 'malformed', () => submit(withUnprotected(valid(), [[label, value]])), 'unprotected header must be empty'),
    ),
    c(1, 'COSE_Sign with an entry in the body\'s unprotected header', 'malformed', () => {
      const { tag, items } = outer(cosigned());
      items[1] = new Map([[3, 'x']]);
      return submit(reencode(tag, items), atSoft);
    }, 'unprotected header must be empty'),
    ...[0, 1].map((i) =>
      c(1, `COSE_Sign with an entry in signature ${i + 1}'s unprotected header`, 'malformed', () => {
        const { tag, items } = outer(cosigned());
        const sigs = (items[3] as CborValue[][]).map((s) => [...s]);
        sigs[i]![1] = new Map([[99, hex('01')]]);
        items[3] = sigs;
        return submit(reencode(tag, items), atSoft);
      }, 'unprotected header must be empty'),
    ),

    // 2. trust lists at the same (epoch, issued)
    c(2, 'a trust list at the same epoch and issue time that un-revokes a key', 'version-conflict', () => {
      const current = accepted(signTrustList(testTrust(), keys.root));
      return trustOutcome(signTrustList(testTrust({ revoked: [] }), keys.root), current);
    }, 'epoch 3'),
    c(2, 'a trust list at the same epoch and issue time that adds a signer', 'version-conflict', () => {
      const current = accepted(signTrustList(testTrust(), keys.root));
      const extra = { kid: keys.stranger.kid, key: keys.stranger.publicKey, person: 'mallory', roles: ['nurse'] };
      return trustOutcome(signTrustList(testTrust({ signers: [...testTrust().signers, extra] }), keys.root), current);
    }),
    c(2, 'the very same trust list again is no change', 'accepted', () => {
      const bytes = signTrustList(testTrust(), keys.root);
      return trustOutcome(bytes, accepted(bytes));
    }),
    c(2, 'the same epoch issued one second later replaces it', 'accepted', () => {
      const current = accepted(signTrustList(testTrust(), keys.root));
      return trustOutcome(signTrustList(testTrust({ issued: NOW - 86_399, revoked: [] }), keys.root), current);
    }),

    // 3. co-signing is its own grant
    c(3, 'two nurses co-sign a soft-limit override', 'cosign-not-allowed', () =>
      submit(signCommand(claims({ set: { rate: [550, 'mL/h'] } }), nurse, nurse2), atSoft),
    ),
    c(3, 'a physician co-signs for a nurse (physicians hold the cosign grant)', 'accepted', () =>
      submit(signCommand(claims({ set: { rate: [550, 'mL/h'] } }), nurse, physician), atSoft),
    ),
    c(3, 'a co-signature within the soft limits still needs the grant', 'cosign-not-allowed', () => submit(signCommand(claims(), nurse, nurse2))),
    c(3, 'a trust list with no cosign grants lets nobody co-sign', 'cosign-not-allowed', () =>
      submit(signCommand(claims({ ...dr, set: { rate: [550, 'mL/h'] } }), physician, pharmacist), { ...atSoft, trust: trustList(3, NOW - 86_400, new Map()) }),
    ),

    // 4. numeric edges, against a setting whose limits hold 0
    c(4, 'an offset of 0 is accepted and forwarded as 0', 'accepted', edge(0)),
    c(4, 'an offset of -0', 'invalid-value', edge(-0), 'negative zero'),
    c(4, 'an offset of NaN', 'invalid-value', edge(NaN), 'not a number'),
    c(4, 'an offset of +Infinity', 'invalid-value', edge(Infinity), 'infinite'),
    c(4, 'an offset of -Infinity', 'invalid-value', edge(-Infinity), 'infinite'),
    c(4, 'an offset of the smallest subnormal, 5e-324', 'invalid-value', edge(5e-324), 'subnormal'),
    c(4, 'an offset of -2.2250738585072e-308 (subnormal)', 'invalid-value', edge(-2.2250738585072e-308), 'subnormal'),
    c(4, 'an offset of 2.2250738585072014e-308 (the smallest normal)', 'accepted', edge(2.2250738585072014e-308)),
    c(4, 'an offset of 2^53 as a float', 'invalid-value', edge(2 ** 53), '2\\^53'),
    c(4, 'an offset of -(2^53 + 2) as a float', 'invalid-value', edge(-(2 ** 53 + 2)), '2\\^53'),
    c(4, 'an offset given as the integer 2^64 - 1', 'bad-claims', () => {
      const p = new Map([['offset', new Map<string, CborValue>([['unit', 'mL/h'], ['value', 2n ** 64n - 1n]])]]);
      return submit(rawSign1(protectedBytes(nurse.kid, 'alg-first'), rawPayload(claims(), p), nurse), { profile: offsetProfile(), trust: offsetTrust() });
    }, '2\\^53'),
    c(4, 'an offset given as the integer -2^64', 'bad-claims', () => {
      const p = new Map([['offset', new Map<string, CborValue>([['unit', 'mL/h'], ['value', -(2n ** 64n)]])]]);
      return submit(rawSign1(protectedBytes(nurse.kid, 'alg-first'), rawPayload(claims(), p), nurse), { profile: offsetProfile(), trust: offsetTrust() });
    }, '2\\^53'),

    // 5. reasons that name what is wrong
    c(5, 'a 63-byte signature', 'malformed', () => {
      const { tag, items } = outer(valid());
      items[3] = (items[3] as Uint8Array).subarray(0, 63);
      return submit(reencode(tag, items));
    }, 'signature must be 64 bytes, got 63'),
    c(5, 'a 65-byte signature', 'malformed', () => {
      const { tag, items } = outer(valid());
      items[3] = new Uint8Array([...(items[3] as Uint8Array), 0]);
      return submit(reencode(tag, items));
    }, 'signature must be 64 bytes, got 65'),
    c(5, 'a 63-byte co-signature', 'malformed', () => {
      const { tag, items } = outer(cosigned());
      const sigs = (items[3] as CborValue[][]).map((s) => [...s]);
      sigs[1]![2] = (sigs[1]![2] as Uint8Array).subarray(0, 63);
      items[3] = sigs;
      return submit(reencode(tag, items), atSoft);
    }, 'signature must be 64 bytes, got 63'),
    c(5, 'an empty kid', 'malformed', () => submit(signCommand(claims(), { ...nurse, kid: new Uint8Array(0) })), 'kid must be 1 to 32 bytes, got 0'),
    c(5, 'a 33-byte kid', 'malformed', () => submit(signCommand(claims(), { ...nurse, kid: new Uint8Array(33).fill(7) })), 'kid must be 1 to 32 bytes, got 33'),
    c(5, 'a kid that is not a byte string', 'malformed', () => {
      const prot = encode(new Map<number, CborValue>([[1, -8], [4, 'k2']]));
      return submit(rawSign1(prot, encodeClaims(claims()), nurse));
    }, 'kid must be a byte string'),
    c(5, 'a value given as an array', 'bad-claims', () => {
      const p = new Map([['rate', new Map<string, CborValue>([['unit', 'mL/h'], ['value', [60]]])]]);
      return submit(rawSign1(protectedBytes(nurse.kid, 'alg-first'), rawPayload(claims(), p), nurse));
    }, 'params\\.rate\\.value must be a number or text, got an array'),
    c(5, 'a value given as a map', 'bad-claims', () => {
      const p = new Map([['rate', new Map<string, CborValue>([['unit', 'mL/h'], ['value', new Map([['x', 1]])]])]]);
      return submit(rawSign1(protectedBytes(nurse.kid, 'alg-first'), rawPayload(claims(), p), nurse));
    }, 'params\\.rate\\.value must be a number or text, got a map'),
    c(5, 'a gateway id with a NUL, shown escaped', 'wrong-gateway', () => submit(signCommand(claims({ gateway: `${GATEWAY}\u0000` }), nurse)), `"${GATEWAY}\\\\u0000"`),
    c(5, 'a serial with a right-to-left override, shown escaped', 'wrong-device', () => submit(signCommand(claims({ serial: `${SERIAL}\u202e` }), nurse)), `"${SERIAL}\\\\u202e"`),
    c(5, 'a clinician name with a newline, shown escaped', 'clinician-mismatch', () => submit(signCommand(claims({ clinician: 'dr.bell\nsigned by nurse.ada' }), nurse)), '"dr\\.bell\\\\nsigned by nurse\\.ada"'),
    c(5, 'a setting name with a control character, shown escaped', 'role-not-allowed', () => submit(signCommand(claims({ set: { 'rate\u0007': [60, 'mL/h'] } }), nurse)), 'pump\\."rate\\\\u0007"'),

    // 6. RFC 9052 §3 interoperability
    c(6, 'a COSE_Sign whose empty body protected header is h\'a0\'', 'accepted', () => {
      const payload = encodeClaims(claims({ ...dr, set: { rate: [550, 'mL/h'] } }));
      return submit(rawSign(hex('a0'), payload, [physician, pharmacist].map((key) => ({ key, protected: protectedBytes(key.kid, 'alg-first') }))), atSoft);
    }),
    c(6, 'a COSE_Sign1 whose protected header has kid before alg', 'accepted', () => submit(rawSign1(protectedBytes(nurse.kid, 'kid-first'), encodeClaims(claims()), nurse))),
    c(6, 'a COSE_Sign whose signer headers have kid before alg', 'accepted', () => {
      const payload = encodeClaims(claims({ ...dr, set: { rate: [550, 'mL/h'] } }));
      return submit(rawSign(new Uint8Array(0), payload, [physician, pharmacist].map((key) => ({ key, protected: protectedBytes(key.kid, 'kid-first') }))), atSoft);
    }),
    c(6, 'a protected header that names alg twice', 'duplicate-header-label', () => {
      const prot = new Uint8Array([0xa3, 0x01, 0x27, 0x04, 0x40 | nurse.kid.length, ...nurse.kid, 0x01, 0x27]);
      return submit(rawSign1(prot, encodeClaims(claims()), nurse));
    }),
    c(6, 'a protected header that names kid twice, out of order', 'duplicate-header-label', () => {
      const kidItem = [0x04, 0x40 | nurse.kid.length, ...nurse.kid];
      return submit(rawSign1(new Uint8Array([0xa3, ...kidItem, 0x01, 0x27, ...kidItem]), encodeClaims(claims()), nurse));
    }),
    c(6, 'a COSE_Sign1 protected header of h\'a0\' has no alg', 'alg-not-protected', () => submit(rawSign1(hex('a0'), encodeClaims(claims()), nurse))),
    c(6, 'a protected header with a non-shortest integer stays malformed', 'malformed', () => {
      const prot = new Uint8Array([0xa2, 0x18, 0x01, 0x27, 0x04, 0x40 | nurse.kid.length, ...nurse.kid]);
      return submit(rawSign1(prot, encodeClaims(claims()), nurse));
    }),
    c(6, 'a payload with keys out of order stays malformed', 'bad-claims', () => {
      const sorted = encodeClaims(claims());
      // swap the first two entries of the payload map by hand: "v" (61 76 01) goes last
      const body = sorted.subarray(1);
      const v = hex('617601');
      const rest = body.subarray(3);
      return submit(rawSign1(protectedBytes(nurse.kid, 'alg-first'), new Uint8Array([sorted[0]!, ...rest, ...v]), nurse));
    }, 'out of order'),
  ];
  return cases;
}

/** The shared test trust list with grants for the offset setting of the edge-case profile. */
function offsetTrust(): TrustList {
  return trustList(3, NOW - 86_400, undefined, new Map([['nurse', ['pump.rate', 'pump.vtbi', 'pump.offset']]]));
}

let cached: AttackCase[] | undefined;

export function runAttackCase(i: number): AttackOutcome {
  const cases = (cached ??= attackCases());
  const k = cases[i];
  if (k === undefined) throw new Error(`no attack case ${i}`);
  return k.run();
}

/** Runs a command made elsewhere (an independent COSE library) through the gate. */
export function submitForeign(hexBytes: string, soft: boolean): AttackOutcome {
  return submit(hex(hexBytes), soft ? { current: new Map([['rate', 480]]) } : {});
}

function report<T>(name: string, d: fc.RunDetails<T>): PropertyReport {
  return { name, numRuns: d.numRuns, failed: d.failed, counterexample: d.counterexample === null ? null : fc.stringify(d.counterexample), error: d.errorInstance === null ? null : String(d.errorInstance) };
}

const label = fc.oneof(fc.integer({ min: -70_000, max: 70_000 }), fc.string({ maxLength: 8 }));
const headerValue = fc.oneof(fc.integer(), fc.string({ maxLength: 16 }), fc.uint8Array({ maxLength: 16 }), fc.boolean());

/** Whether a number may be a setting value (docs/commands.md, "Numbers"). */
function isSettingNumber(x: number): boolean {
  if (!Number.isFinite(x) || (x === 0 && 1 / x < 0)) return false;
  if (x !== 0 && Math.abs(x) < 2.2250738585072014e-308) return false; // subnormal
  return Math.abs(x) <= Number.MAX_SAFE_INTEGER;
}

/** Properties run with the same seed in Node and in XS. */
export function runAttackProperties(seed: number, numRuns: number): PropertyReport[] {
  const valid = signCommand(claims(), keys.nurse);
  const cosigned = signCommand(claims({ clinician: 'dr.bell', set: { rate: [550, 'mL/h'] } }), keys.physician, keys.pharmacist);
  const atSoft = { current: new Map<string, SettingValue>([['rate', 480]]) };
  const trust = trustList();
  const offset = { profile: offsetProfile(), trust: offsetTrust() };
  return [
    report('any entry in a COSE_Sign1 unprotected header is malformed', fc.check(fc.property(label, headerValue, (l, v) => {
      const out = submit(withUnprotected(valid, [[l, v]]), { trust });
      return out.reason === 'malformed' && out.detail.indexOf('unprotected header must be empty') >= 0;
    }), { seed, numRuns })),
    report('any entry in a COSE_Signature unprotected header is malformed', fc.check(fc.property(fc.nat({ max: 1 }), label, headerValue, (i, l, v) => {
      const { tag, items } = outer(cosigned);
      const sigs = (items[3] as CborValue[][]).map((s) => [...s]);
      sigs[i]![1] = new Map([[l, v]]);
      items[3] = sigs;
      return submit(reencode(tag, items), { ...atSoft, trust }).reason === 'malformed';
    }), { seed, numRuns })),
    report('a number is forwarded exactly when it is a setting number inside the limits, and refused as invalid-value when it is not a setting number', fc.check(fc.property(fc.oneof(fc.double(), fc.double({ min: -10, max: 10 }), fc.constantFrom(0, -0, 5e-324, -5e-324, 2 ** 53, -(2 ** 53), NaN)), (x) => {
      const out = submit(signCommand(claims({ set: { offset: [x, 'mL/h'] } }), keys.nurse), offset);
      if (!isSettingNumber(x)) return out.reason === 'invalid-value';
      if (out.accepted) return out.forwarded === `offset=${String(x)}` && x >= -5 && x <= 5;
      return out.reason === 'hard-limit' || out.reason === 'soft-limit-needs-cosign' || out.reason === 'step-too-large';
    }), { seed, numRuns })),
  ];
}
