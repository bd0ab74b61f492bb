/**
 * The command gate: the gateway's decision on a signed setting change, and the state it must keep.
 * Sans-I/O: it takes the command bytes plus the present time and fresh randomness, and returns a
 * decision with effects for the adapter to carry out in order.
 *
 * Order of effects on acceptance (DESIGN.md, "Signed commands"): first `persist-state` (the new last
 * counter and the next nonce), and only after that is durable, `forward` to the device. A power cut
 * between the two loses the command (the clinician sends it again, with the new nonce) but can never
 * let the same command through twice.
 *
 * Order of checks: the envelope's structure, then who signed (so nothing about the gateway's state is
 * revealed to an unauthenticated sender), then the claims, then the grants (the first signer's to
 * change, the second signer's to co-sign), then the safety envelope. In a COSE_Sign the first
 * signature is the requesting clinician's.
 */
import { toHex } from '../hex.js';
import { parseClaims, NONCE_BYTES, type CommandClaims, type SettingValue } from './claims.js';
import { parseCose } from './cose.js';
import type { Ed25519Verify } from './ed25519-policy.js';
import { checkEnvelope, HOUR_MS } from './envelope.js';
import { sameBytes, shown } from './fields.js';
import type { DeviceProfile } from './profile.js';
import type { RejectReason } from './reasons.js';
import { rolesAllow, type Signer, type TrustList } from './trust.js';

/** What the gateway persists for commands: survives reboots and power cuts. */
export interface GateState {
  readonly lastCounter: number;
  /** The current challenge nonce; a new one at boot and after each accepted command. */
  readonly nonce: Uint8Array;
}

export interface GateConfig {
  readonly gateway: string;
  readonly serial: string;
  readonly profile: DeviceProfile;
  readonly verify: Ed25519Verify;
  /** Tolerated clock difference for `iat` in the future, seconds. Default 300. */
  readonly maxClockSkewS?: number;
}

export interface SubmitInput {
  readonly bytes: Uint8Array;
  /** Trusted wall-clock time in Unix seconds, or undefined when the clock is not trusted (after a reboot, before SNTP). */
  readonly nowUnix: number | undefined;
  /** Monotonic milliseconds, for the rate of changes. */
  readonly nowMs: number;
  /** The device's present values. */
  readonly current: ReadonlyMap<string, SettingValue>;
  /** 16 fresh random bytes: the next nonce if this command is accepted. */
  readonly freshNonce: Uint8Array;
}

export interface CommandResult {
  readonly status: 'accepted' | 'rejected';
  readonly counter: number | undefined;
  readonly orderId: string | undefined;
  readonly reason: RejectReason | undefined;
  readonly detail: string;
}

export type GateEffect =
  | { readonly type: 'persist-state'; readonly state: GateState }
  | { readonly type: 'forward'; readonly counter: number; readonly orderId: string; readonly settings: ReadonlyMap<string, SettingValue> }
  | { readonly type: 'result'; readonly result: CommandResult }
  | { readonly type: 'security-event'; readonly code: 'cmd-rejected'; readonly reason: RejectReason; readonly detail: string; readonly signer: string | undefined };

export type Decision =
  | { readonly accepted: true; readonly claims: CommandClaims; readonly signers: readonly Signer[]; readonly effects: readonly GateEffect[] }
  | { readonly accepted: false; readonly reason: RejectReason; readonly detail: string; readonly effects: readonly GateEffect[] };

export interface CommandGate {
  readonly state: GateState;
  readonly trust: TrustList | undefined;
  submit(input: SubmitInput): Decision;
  /** Installs a trust list that the caller has already checked with `acceptTrustList`. */
  setTrust(trust: TrustList): void;
}

export function createCommandGate(config: GateConfig, initial: GateState, trust: TrustList | undefined): CommandGate {
  if (initial.nonce.length !== NONCE_BYTES) throw new RangeError(`expected a ${NONCE_BYTES}-byte nonce, got ${initial.nonce.length}`);
  let state = initial;
  let trustList = trust;
  let revokedKids = revokedOf(trust); // kids whose keys the list revokes, found once per list
  const recentChanges = new Map<string, number[]>(); // RAM only: a reboot forgets it (docs/commands.md)
  const skew = config.maxClockSkewS ?? 300;

  function reject(reason: RejectReason, detail: string, claims?: CommandClaims, signer?: Signer): Decision {
    return {
      accepted: false,
      reason,
      detail,
      effects: [
        { type: 'result', result: { status: 'rejected', counter: claims?.counter, orderId: claims?.orderId, reason, detail } },
        { type: 'security-event', code: 'cmd-rejected', reason, detail, signer: signer?.person },
      ],
    };
  }

  function submit(input: SubmitInput): Decision {
    const cose = parseCose(input.bytes);
    if (!cose.ok) return reject(cose.error.reason, cose.error.detail);
    if (trustList === undefined) return reject('no-trust-list', 'this gateway has no trust list; it accepts no commands');
    const signers: Signer[] = [];
    for (const s of cose.value.signers) {
      const kidHex = toHex(s.kid);
      const signer = trustList.signers.get(kidHex);
      if (signer === undefined) return reject('unknown-signer', `kid ${toHex(s.kid)} is not in trust list epoch ${trustList.epoch}`);
      if (revokedKids.has(kidHex)) return reject('revoked-key', `the key of ${shown(signer.person)} (kid ${toHex(s.kid)}) is revoked`, undefined, signer);
      if (!config.verify(s.signature, s.toBeSigned, signer.key)) return reject('bad-signature', `signature by kid ${toHex(s.kid)} does not verify`, undefined, signer);
      signers.push(signer);
    }
    const primary = signers[0]!;
    const cosigner = signers[1];
    if (cosigner !== undefined && cosigner.person === primary.person) {
      return reject('cosigner-not-distinct', `both signatures are by ${shown(primary.person)}`, undefined, primary);
    }

    const parsed = parseClaims(cose.value.payload);
    if (!parsed.ok) return reject('bad-claims', parsed.error, undefined, primary);
    const c = parsed.value;
    if (c.gateway !== config.gateway) return reject('wrong-gateway', `addressed to gateway ${shown(c.gateway)}, this is ${shown(config.gateway)}`, c, primary);
    if (c.serial !== config.serial) return reject('wrong-device', `addressed to device ${shown(c.serial)}, this gateway serves ${shown(config.serial)}`, c, primary);
    if (c.epoch !== trustList.epoch) return reject('wrong-epoch', `signed at key epoch ${c.epoch}, the trust list is at ${trustList.epoch}`, c, primary);
    if (c.clinician !== primary.person) return reject('clinician-mismatch', `names ${shown(c.clinician)} but was signed by ${shown(primary.person)}`, c, primary);
    if (c.counter <= state.lastCounter) return reject('replay', `counter ${c.counter} is not above the last accepted ${state.lastCounter}`, c, primary);
    if (!sameBytes(c.nonce, state.nonce)) return reject('stale-nonce', 'does not carry the current challenge nonce', c, primary);
    if (input.nowUnix !== undefined) {
      if (input.nowUnix > c.exp) return reject('expired', `expired at ${c.exp}, now ${input.nowUnix}`, c, primary);
      if (c.iat > input.nowUnix + skew) return reject('not-yet-valid', `issued at ${c.iat}, now ${input.nowUnix}`, c, primary);
    }
    // the first signer must hold the grant to change each setting; a second signer, the grant to co-sign it
    for (const name of c.params.keys()) {
      const setting = `${config.profile.kind}.${shown(name)}`;
      if (!rolesAllow(trustList, primary.roles, config.profile.kind, name)) {
        return reject('role-not-allowed', `${shown(primary.person)} (${primary.roles.map(shown).join(', ')}) may not change ${setting}`, c, primary);
      }
      if (cosigner !== undefined && !rolesAllow(trustList, cosigner.roles, config.profile.kind, name, 'cosign')) {
        return reject('cosign-not-allowed', `${shown(cosigner.person)} (${cosigner.roles.map(shown).join(', ')}) may not co-sign ${setting}`, c, primary);
      }
    }
    const violation = checkEnvelope(c.params, {
      profile: config.profile,
      current: input.current,
      recentChanges,
      nowMs: input.nowMs,
      cosigned: cosigner !== undefined,
    });
    if (violation !== undefined) return reject(violation.reason, violation.detail, c, primary);

    if (input.freshNonce.length !== NONCE_BYTES) throw new RangeError(`expected a ${NONCE_BYTES}-byte fresh nonce, got ${input.freshNonce.length}`);
    state = { lastCounter: c.counter, nonce: input.freshNonce };
    for (const name of c.params.keys()) {
      const times: number[] = [];
      for (const t of recentChanges.get(name) ?? []) if (input.nowMs - t < HOUR_MS) times.push(t);
      times.push(input.nowMs);
      recentChanges.set(name, times);
    }
    const settings = new Map<string, SettingValue>();
    for (const [name, req] of c.params) settings.set(name, req.value);
    return {
      accepted: true,
      claims: c,
      signers,
      effects: [
        { type: 'persist-state', state },
        { type: 'forward', counter: c.counter, orderId: c.orderId, settings },
        { type: 'result', result: { status: 'accepted', counter: c.counter, orderId: c.orderId, reason: undefined, detail: `accepted, signed by ${shown(primary.person)}${cosigner === undefined ? '' : ` and ${shown(cosigner.person)}`}` } },
      ],
    };
  }

  return {
    get state() {
      return state;
    },
    get trust() {
      return trustList;
    },
    submit,
    setTrust(next) {
      trustList = next;
      revokedKids = revokedOf(next);
    },
  };
}

function revokedOf(trust: TrustList | undefined): ReadonlySet<string> {
  const out = new Set<string>();
  if (trust !== undefined) for (const [kid, signer] of trust.signers) if (trust.revoked.has(toHex(signer.key))) out.add(kid);
  return out;
}
