/**
 * The trust list: who may sign setting changes, with which roles, who may co-sign a soft-limit
 * override, at which key epoch, and which keys are revoked. The root key provisioned into the gateway
 * at flashing signs it (COSE_Sign1). A gateway takes a new list only if the root signed it and it is
 * newer: a higher epoch, or the same epoch issued later. A different list at the same (epoch, issued)
 * is refused (`version-conflict`): otherwise two lists could take turns, and one could un-revoke a key
 * the other revoked. The very same list again (the same payload) is no change.
 */
import { decode, encode, type CborKey, type CborValue } from '../cbor/index.js';
import type { Result } from '../cbor/errors.js';
import { toHex } from '../hex.js';
import { parseCose } from './cose.js';
import { publicKeyProblem, type Ed25519Verify } from './ed25519-policy.js';
import { asMap, bytes, list, sameBytes, shown, text, textList, uint } from './fields.js';
import { qualifiedSetting, type DeviceKind } from './profile.js';

export interface Signer {
  readonly kid: Uint8Array;
  readonly key: Uint8Array;
  /** The person who holds this key; a command's `clinician` must name them. */
  readonly person: string;
  readonly roles: readonly string[];
}

export interface TrustList {
  readonly site: string;
  readonly epoch: number;
  /** Unix seconds when the list was issued. */
  readonly issued: number;
  /** By kid, in hex. */
  readonly signers: ReadonlyMap<string, Signer>;
  /** Revoked public keys, in hex. */
  readonly revoked: ReadonlySet<string>;
  /** Role → settings it may change, as `<kind>.<setting>` or `<kind>.*`. */
  readonly grants: ReadonlyMap<string, readonly string[]>;
  /** Role → settings it may co-sign beyond a soft limit (same form). Absent from a list: nobody may. */
  readonly cosign: ReadonlyMap<string, readonly string[]>;
  /** The signed payload (deterministic CBOR): two lists are the same list when these are equal. */
  readonly payload: Uint8Array;
  /** The signed bytes, as received: what the gateway persists and republishes. */
  readonly bytes: Uint8Array;
}

export type TrustProblemType =
  | 'malformed'
  | 'bad-signature'
  | 'epoch-rollback'
  | 'issued-rollback'
  | 'version-conflict' // a different list at the same (epoch, issued) as the current one
  | 'bad-signer-key'
  | 'duplicate-kid'
  | 'bad-claims';

export interface TrustProblem {
  readonly type: TrustProblemType;
  readonly detail: string;
}

const problem = (type: TrustProblemType, detail: string) => ({ ok: false as const, error: { type, detail } });

/** Checks a signed trust list against the root key and the list the gateway holds now (if any). */
export function acceptTrustList(
  signed: Uint8Array,
  rootKey: Uint8Array,
  current: TrustList | undefined,
  verify: Ed25519Verify,
): Result<TrustList, TrustProblem> {
  const cose = parseCose(signed);
  if (!cose.ok) return problem('malformed', `${cose.error.reason}: ${cose.error.detail}`);
  const { form, payload, signers } = cose.value;
  const signer = signers[0];
  if (form !== 'sign1' || signer === undefined) return problem('malformed', 'a trust list is a COSE_Sign1');
  if (!verify(signer.signature, signer.toBeSigned, rootKey)) return problem('bad-signature', 'not signed by this gateway\'s root key');

  const r = decode(payload, { maxDepth: 6, maxLength: 4096 });
  const m = r.ok ? asMap(r.value) : undefined;
  if (m === undefined) return problem('bad-claims', 'payload is not a CBOR map');
  const site = text(m, 'site');
  const epoch = uint(m, 'epoch');
  const issued = uint(m, 'issued');
  const signerList = list(m, 'signers');
  const revokedList = list(m, 'revoked');
  const grantMap = asMap(m.get('grants'));
  if (uint(m, 'v') !== 1 || site === undefined || epoch === undefined || issued === undefined || !signerList || !revokedList || !grantMap) {
    return problem('bad-claims', 'expected v: 1, site, epoch, issued, signers, revoked, grants');
  }
  if (current !== undefined) {
    if (epoch < current.epoch) return problem('epoch-rollback', `epoch ${epoch} is below the current ${current.epoch}`);
    if (epoch === current.epoch && issued < current.issued) return problem('issued-rollback', `issued ${issued} is before the current list's ${current.issued} at the same epoch`);
    if (epoch === current.epoch && issued === current.issued && !sameBytes(payload, current.payload)) {
      return problem('version-conflict', `a different list with the same epoch ${epoch} and issue time ${issued} as the current one`);
    }
  }

  const byKid = new Map<string, Signer>();
  for (const [i, entry] of signerList.entries()) {
    const s = asMap(entry);
    const kid = s && bytes(s, 'kid');
    const key = s && bytes(s, 'key');
    const person = s && text(s, 'person');
    const roles = s && textList(s, 'roles');
    if (!kid || kid.length === 0 || kid.length > 32 || !key || !person || !roles || roles.length === 0) {
      return problem('bad-claims', `signers[${i}]: expected kid, key, person, roles`);
    }
    const keyProblem = publicKeyProblem(key);
    if (keyProblem !== undefined) return problem('bad-signer-key', `signers[${i}] (${person}): public key is ${keyProblem}`);
    const id = toHex(kid);
    if (byKid.has(id)) return problem('duplicate-kid', `kid ${id} appears twice`);
    byKid.set(id, { kid, key, person, roles });
  }
  const revoked = new Set<string>();
  for (const k of revokedList) {
    if (!(k instanceof Uint8Array) || k.length !== 32) return problem('bad-claims', 'revoked entries are 32-byte public keys');
    revoked.add(toHex(k));
  }
  const grants = grantsOf(grantMap);
  if (grants === undefined) return problem('bad-claims', 'grants map roles to lists of setting names');
  const cosignMap = m.has('cosign') ? asMap(m.get('cosign')) : new Map();
  const cosign = cosignMap === undefined ? undefined : grantsOf(cosignMap);
  if (cosign === undefined) return problem('bad-claims', 'cosign maps roles to lists of setting names');
  for (const key of m.keys()) if (TRUST_KEYS.indexOf(key as string) < 0) return problem('bad-claims', `unexpected field ${typeof key === 'string' ? shown(key) : String(key)}`);
  return { ok: true, value: { site, epoch, issued, signers: byKid, revoked, grants, cosign, payload, bytes: signed } };
}

const TRUST_KEYS = ['v', 'site', 'epoch', 'issued', 'signers', 'revoked', 'grants', 'cosign'];

function grantsOf(m: ReadonlyMap<CborKey, CborValue>): Map<string, readonly string[]> | undefined {
  const out = new Map<string, readonly string[]>();
  for (const [role, settings] of m) {
    const names = Array.isArray(settings) && settings.every((x) => typeof x === 'string') ? (settings as readonly string[]) : undefined;
    if (typeof role !== 'string' || names === undefined) return undefined;
    out.set(role, names);
  }
  return out;
}

/** Whether any of `roles` may change `setting` on a device of `kind` (`grants`), or co-sign such a change (`cosign`). */
export function rolesAllow(trust: TrustList, roles: readonly string[], kind: DeviceKind, setting: string, grant: 'grants' | 'cosign' = 'grants'): boolean {
  const exact = qualifiedSetting(kind, setting);
  const all = qualifiedSetting(kind, '*');
  const table = grant === 'grants' ? trust.grants : trust.cosign;
  return roles.some((role) => (table.get(role) ?? []).some((g) => g === exact || g === all));
}

export interface TrustListContent {
  readonly site: string;
  readonly epoch: number;
  readonly issued: number;
  readonly signers: readonly Signer[];
  readonly revoked: readonly Uint8Array[];
  readonly grants: ReadonlyMap<string, readonly string[]>;
  /** Who may co-sign what; empty: nobody may co-sign a soft-limit override. */
  readonly cosign: ReadonlyMap<string, readonly string[]>;
}

/** The payload bytes of a trust list (deterministic CBOR): what the root key signs. */
export function encodeTrustPayload(t: TrustListContent): Uint8Array {
  return encode(
    new Map<string, CborValue>([
      ['v', 1],
      ['site', t.site],
      ['epoch', t.epoch],
      ['issued', t.issued],
      ['signers', t.signers.map((s) => new Map<string, CborValue>([['kid', s.kid], ['key', s.key], ['person', s.person], ['roles', [...s.roles]]]))],
      ['revoked', [...t.revoked]],
      ['grants', new Map([...t.grants].map(([role, settings]) => [role, [...settings]]))],
      ['cosign', new Map([...t.cosign].map(([role, settings]) => [role, [...settings]]))],
    ]),
  );
}
