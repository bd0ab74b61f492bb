/**
 * The command service: an authorised clinician asks for a setting change; the host checks the
 * request against the trust list and the device profile, fills in the target, the next counter and
 * the gateway's current challenge nonce, signs it with the clinician's key from the site keyring,
 * publishes it, and follows it: pending → accepted / rejected (the gateway's reason) → applied
 * (device read-back) or failed, or timed out. A change beyond a soft limit waits for a second,
 * different clinician to approve it; it then goes out as COSE_Sign with both signatures.
 *
 * Why a keyring, not one site key: the gateway accepts a command only if its `clinician` is the
 * person the trust list names for the signing key, and a soft-limit override needs two persons'
 * keys (docs/commands.md). So the host holds one key per clinician, each encrypted under that
 * person's own signing passphrase (signing/keyring.ts): a request or a co-signature carries the
 * passphrase, and a login bound to the person by an admin cannot sign without it. The requester's
 * key, unlocked for an override that waits for its co-signer, is held in memory only until the
 * co-signature, the withdrawal or the end of the window (docs/host.md, "Who can sign").
 *
 * Counters: the next counter is the larger of (last one issued or seen) + 1 and the host's clock in
 * ms, so it keeps rising even if the host's database is lost or a command was signed elsewhere.
 */
import { rolesAllow, signCommand, type DeviceProfile, type RequestedSetting, type SigningKey, type TrustList } from '../firmware/core/command/index.js';
import { toHex } from '../firmware/core/hex.js';
import type { AuditLog } from './audit.js';
import { LoginGuard } from './login-guard.js';
import type { LockedKey } from './signing/keyring.js';
import type { Db } from './store/db.js';
import { CLINICAL, type User } from './users.js';

/** Who may withdraw another clinician's request that waits for a co-signature: the nurse in charge of the ward. */
const WITHDRAW_ANY: readonly string[] = ['charge-nurse'];

export type CommandStatus = 'awaiting-cosign' | 'pending' | 'accepted' | 'rejected' | 'applied' | 'failed' | 'timed-out' | 'withdrawn';

export interface CommandRow {
  readonly id: number;
  readonly gateway: string;
  readonly counter: number | null;
  readonly order_id: string;
  readonly params: string;
  /** The device's values of those settings when the change was asked for (JSON), as its gateway reported them; null: not known. */
  readonly previous: string | null;
  readonly requested_by: string;
  readonly cosigned_by: string | null;
  readonly status: CommandStatus;
  readonly reason: string | null;
  readonly created: number;
  readonly updated: number;
}

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** What the command service needs to know about a gateway right now. */
export interface GatewayView {
  readonly online: boolean;
  readonly kind: string | null;
  readonly model: string | null;
  readonly serial: string | null;
  readonly nonce: Uint8Array | null;
  /** The device's present settings as its gateway last reported them; null until it has. */
  readonly settings: Readonly<Record<string, number | string>> | null;
}

export interface CommandDeps {
  readonly db: Db;
  readonly audit: AuditLog;
  readonly trust: () => TrustList | undefined;
  readonly keyring: ReadonlyMap<string, LockedKey>; // by person
  readonly profile: (model: string) => DeviceProfile | undefined;
  readonly gateway: (id: string) => GatewayView | undefined;
  readonly publish: (gateway: string, payload: Uint8Array) => void;
  readonly notify: (c: CommandRow) => void;
  /** How long a command stays valid (s), and how long the host waits for each answer (ms). */
  readonly lifetimeS?: number;
  readonly answerTimeoutMs?: number;
  readonly applyTimeoutMs?: number;
  /** How long a soft-limit override waits for its second signature (default 15 min). */
  readonly cosignWindowMs?: number;
}

export function parseParams(v: unknown): Map<string, RequestedSetting> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CommandError('params: an object of setting → { value, unit? }', 400);
  const out = new Map<string, RequestedSetting>();
  for (const [name, spec] of Object.entries(v)) {
    const s = spec as { value?: unknown; unit?: unknown };
    if (typeof s !== 'object' || s === null || (typeof s.value !== 'number' && typeof s.value !== 'string') || (s.unit !== undefined && typeof s.unit !== 'string')) {
      throw new CommandError(`params.${name}: expected { value: number or text, unit?: text }`, 400);
    }
    // -0 is not a setting value (docs/commands.md, "Numbers"): a clinician who types -0 means 0
    const value = s.value === 0 ? 0 : s.value;
    out.set(name, { value, unit: s.unit as string | undefined });
  }
  if (out.size === 0 || out.size > 8) throw new CommandError('params names 1 to 8 settings', 400);
  return out;
}

function paramsJson(p: ReadonlyMap<string, RequestedSetting>): string {
  return JSON.stringify(Object.fromEntries([...p].map(([k, r]) => [k, r.unit === undefined ? { value: r.value } : { value: r.value, unit: r.unit }])));
}

export class CommandService {
  private readonly byId;
  private readonly lifetimeS: number;
  private readonly answerTimeoutMs: number;
  private readonly applyTimeoutMs: number;
  private readonly cosignWindowMs: number;
  /** The requester's signing key of each override waiting for its co-signer (memory only). */
  private readonly held = new Map<number, SigningKey>();
  /** Wrong signing passphrases, per person: five in 15 minutes lock that person's signing. */
  private readonly passphrases = new LoginGuard({ perUser: 5, perAddress: 1_000_000, windowMs: 15 * 60_000, maxEntries: 10_000 });

  constructor(private readonly d: CommandDeps) {
    this.byId = d.db.prepare<[number], CommandRow>('SELECT * FROM commands WHERE id = ?');
    this.lifetimeS = d.lifetimeS ?? 300;
    this.answerTimeoutMs = d.answerTimeoutMs ?? 20_000;
    this.applyTimeoutMs = d.applyTimeoutMs ?? 30_000;
    this.cosignWindowMs = d.cosignWindowMs ?? 15 * 60_000;
  }

  get(id: number): CommandRow {
    const c = this.byId.get(id);
    if (c === undefined) throw new CommandError(`no command ${id}`, 404);
    return c;
  }

  list(gateway?: string, limit = 100): CommandRow[] {
    return gateway === undefined
      ? (this.d.db.prepare('SELECT * FROM commands ORDER BY id DESC LIMIT ?').all(limit) as CommandRow[])
      : (this.d.db.prepare('SELECT * FROM commands WHERE gateway = ? ORDER BY id DESC LIMIT ?').all(gateway, limit) as CommandRow[]);
  }

  /** Checks that `user` may sign (`grants`) or co-sign (`cosign`) every setting in `params` for this gateway's device. */
  private authorise(user: User, kind: string, params: ReadonlyMap<string, RequestedSetting>, trust: TrustList, grant: 'grants' | 'cosign' = 'grants'): LockedKey {
    if (!CLINICAL.includes(user.role)) throw new CommandError(`${user.username} (${user.role}) may not change device settings`, 403);
    if (user.person === null) throw new CommandError(`${user.username} has no signing identity (person) in this site's trust list`, 403);
    const signer = [...trust.signers.values()].find((s) => s.person === user.person);
    if (signer === undefined) throw new CommandError(`${user.person} is not a signer in trust list epoch ${trust.epoch}`, 403);
    if (trust.revoked.has(toHex(signer.key))) throw new CommandError(`the key of ${user.person} is revoked`, 403);
    for (const name of params.keys()) {
      if (!rolesAllow(trust, signer.roles, kind as never, name, grant)) {
        throw new CommandError(`${user.person} (${signer.roles.join(', ')}) may not ${grant === 'cosign' ? 'co-sign' : 'change'} ${kind}.${name}`, 403);
      }
    }
    const key = this.d.keyring.get(user.person);
    if (key === undefined) throw new CommandError(`the host holds no signing key for ${user.person}`, 403);
    return key;
  }

  /** The person's key for this signature: only with their own passphrase (wrong ones counted, audited, limited). */
  private async unlock(now: number, user: User, key: LockedKey, passphrase: unknown): Promise<SigningKey> {
    if (typeof passphrase !== 'string' || passphrase.length === 0) throw new CommandError(`"passphrase" is required: ${key.person}'s signing passphrase signs the command`, 400);
    const wait = this.passphrases.blockedFor(key.person, '', now);
    if (wait > 0) throw new CommandError(`too many wrong signing passphrases for ${key.person}: try again in ${wait} s`, 429);
    try {
      return await key.unlock(passphrase);
    } catch {
      const locked = this.passphrases.fail(key.person, '', now);
      this.d.audit.append(now, user.username, 'signing-passphrase-wrong', `person/${key.person}`, { locked });
      throw new CommandError(`the signing passphrase of ${key.person} is wrong`, 403);
    }
  }

  /** A clinician asks for a change. Beyond a soft limit it waits for a co-signer; otherwise it is sent. */
  async request(now: number, user: User, gateway: string, orderId: string, params: ReadonlyMap<string, RequestedSetting>, passphrase: unknown): Promise<CommandRow> {
    if (!/^[\x21-\x7e]{1,64}$/.test(orderId)) throw new CommandError('orderId: 1-64 printable characters', 400);
    const { profile: p0, trust: t0 } = this.target(gateway);
    const key = await this.unlock(now, user, this.authorise(user, p0.kind, params, t0), passphrase);
    // the gateway may have changed while the key was unlocked (off the event loop): look again
    const { view, profile, trust } = this.target(gateway);
    this.authorise(user, profile.kind, params, trust);
    let needsCosign = false;
    for (const [name, req] of params) {
      const s = profile.settings.get(name);
      if (s === undefined) throw new CommandError(`${profile.model} has no setting "${name}"`, 400);
      if (s.type === 'enum') {
        if (typeof req.value !== 'string' || !s.values.includes(req.value)) throw new CommandError(`${name} must be one of ${s.values.join(', ')}`, 400);
        continue;
      }
      if (typeof req.value !== 'number' || !Number.isFinite(req.value)) throw new CommandError(`${name} must be a number`, 400);
      if (req.unit !== s.unit) throw new CommandError(`${name} is in ${s.unit}, got ${req.unit ?? 'no unit'}`, 400);
      if (req.value < s.hard[0] || req.value > s.hard[1]) throw new CommandError(`${name} ${req.value} ${s.unit} is outside the hard limits ${s.hard[0]}-${s.hard[1]}: never allowed`, 422);
      if (req.value < s.soft[0] || req.value > s.soft[1]) needsCosign = true;
    }
    const previous = view.settings === null ? null : JSON.stringify(Object.fromEntries([...params.keys()].map((k) => [k, view.settings![k] ?? null])));
    const id = Number(
      this.d.db
        .prepare('INSERT INTO commands (gateway, order_id, params, previous, requested_by, status, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(gateway, orderId, paramsJson(params), previous, user.username, needsCosign ? 'awaiting-cosign' : 'pending', now, now).lastInsertRowid,
    );
    this.d.audit.append(now, user.username, 'command-requested', `command/${id}`, { gateway, orderId, params: JSON.parse(paramsJson(params)), needsCosign });
    if (needsCosign) {
      this.held.set(id, key);
      const c = this.get(id);
      this.d.notify(c);
      return c;
    }
    return this.send(now, id, view, trust, user, key, undefined);
  }

  /** A second, different clinician approves a soft-limit override; it is signed by both and sent. */
  async cosign(now: number, user: User, id: number, passphrase: unknown): Promise<CommandRow> {
    const c0 = this.get(id);
    if (c0.status !== 'awaiting-cosign') throw new CommandError(`command ${id} is ${c0.status}, not awaiting a co-signature`, 409);
    if (c0.requested_by === user.username) throw new CommandError('the co-signer must be a different person from the requester', 403);
    const { profile: p0, trust: t0 } = this.target(c0.gateway);
    const second = await this.unlock(now, user, this.authorise(user, p0.kind, parseParams(JSON.parse(c0.params)), t0, 'cosign'), passphrase);
    const c = this.get(id);
    if (c.status !== 'awaiting-cosign') throw new CommandError(`command ${id} is ${c.status}, not awaiting a co-signature`, 409);
    if (c.requested_by === user.username) throw new CommandError('the co-signer must be a different person from the requester', 403);
    const requester = this.d.db.prepare<[string], User>('SELECT username, display, role, person FROM users WHERE username = ?').get(c.requested_by);
    if (requester === undefined) throw new CommandError(`the requester ${c.requested_by} no longer exists`, 409);
    if (requester.person !== null && requester.person === user.person) throw new CommandError('the co-signer must be a different person from the requester', 403);
    const { view, profile, trust } = this.target(c.gateway);
    const params = parseParams(JSON.parse(c.params));
    this.authorise(requester, profile.kind, params, trust);
    this.authorise(user, profile.kind, params, trust, 'cosign');
    const first = this.held.get(id);
    if (first === undefined) throw new CommandError(`the requester's signature for command ${id} is no longer held (the host restarted): ask ${c.requested_by} to request it again`, 409);
    this.held.delete(id);
    this.d.audit.append(now, user.username, 'command-cosigned', `command/${id}`, { gateway: c.gateway, orderId: c.order_id });
    this.d.db.prepare('UPDATE commands SET cosigned_by = ?, updated = ? WHERE id = ?').run(user.username, now, id);
    return this.send(now, id, view, trust, requester, first, second);
  }

  withdraw(now: number, user: User, id: number): CommandRow {
    const c = this.get(id);
    if (c.status !== 'awaiting-cosign') throw new CommandError(`command ${id} is ${c.status}: only a command awaiting a co-signature can be withdrawn`, 409);
    if (c.requested_by !== user.username && !WITHDRAW_ANY.includes(user.role)) throw new CommandError(`only ${c.requested_by} or a ${WITHDRAW_ANY.join(' or ')} may withdraw command ${id}`, 403);
    this.held.delete(id);
    this.setStatus(now, id, 'withdrawn', `withdrawn by ${user.username}`, user.username);
    return this.get(id);
  }

  private target(gateway: string): { view: GatewayView; profile: DeviceProfile; trust: TrustList } {
    const view = this.d.gateway(gateway);
    if (view === undefined) throw new CommandError(`no gateway ${gateway}`, 404);
    const trust = this.d.trust();
    if (trust === undefined) throw new CommandError('the host has no trust list: commands cannot be signed', 503);
    if (!view.online || view.nonce === null || view.serial === null || view.model === null) throw new CommandError(`${gateway} is not online with an identified device: a command needs its current nonce`, 409);
    const profile = this.d.profile(view.model);
    if (profile === undefined) throw new CommandError(`no device profile for model ${view.model}`, 409);
    return { view, profile, trust };
  }

  private nextCounter(gateway: string, now: number): number {
    const row = this.d.db.prepare<[string], { c: number | null }>('SELECT max(counter) AS c FROM commands WHERE gateway = ?').get(gateway);
    return Math.max((row?.c ?? 0) + 1, now);
  }

  private send(now: number, id: number, view: GatewayView, trust: TrustList, user: User, key: SigningKey, cosigner: SigningKey | undefined): CommandRow {
    const c = this.get(id);
    const counter = this.nextCounter(c.gateway, now);
    const iat = Math.floor(now / 1000);
    const signed = signCommand(
      { gateway: c.gateway, serial: view.serial!, counter, iat, exp: iat + this.lifetimeS, nonce: view.nonce!, epoch: trust.epoch, op: 'set', params: parseParams(JSON.parse(c.params)), orderId: c.order_id, clinician: user.person! },
      key,
      cosigner,
    );
    this.d.db.prepare("UPDATE commands SET counter = ?, status = 'pending', updated = ? WHERE id = ?").run(counter, now, id);
    this.d.audit.append(now, user.username, 'command-sent', `command/${id}`, { gateway: c.gateway, counter, orderId: c.order_id, signers: cosigner === undefined ? 1 : 2, bytes: signed.length });
    this.d.publish(c.gateway, signed);
    const out = this.get(id);
    this.d.notify(out);
    return out;
  }

  private setStatus(now: number, id: number, status: CommandStatus, reason: string | null, actor = 'host'): void {
    const c = this.get(id);
    this.d.db.prepare('UPDATE commands SET status = ?, reason = ?, updated = ? WHERE id = ?').run(status, reason, now, id);
    this.d.audit.append(now, actor, `command-${status}`, `command/${id}`, { gateway: c.gateway, counter: c.counter, orderId: c.order_id, reason });
    this.d.notify(this.get(id));
  }

  /** A gateway's `cmd/result`. Returns the command it answers, if the host sent it. */
  result(now: number, gateway: string, counter: number | undefined, status: string, reason: string | undefined): CommandRow | undefined {
    if (counter === undefined) return undefined;
    const c = this.d.db.prepare<[string, number], CommandRow>('SELECT * FROM commands WHERE gateway = ? AND counter = ?').get(gateway, counter);
    if (c === undefined) return undefined;
    const order: Record<string, number> = { pending: 0, accepted: 1, rejected: 2, applied: 2, failed: 2, 'timed-out': 1 };
    const next = status as CommandStatus;
    if (!['accepted', 'rejected', 'applied', 'failed'].includes(next)) return c;
    // late answers still count after a time-out; an answer never moves a command backwards
    if ((order[c.status] ?? 3) >= (order[next] ?? 0) && c.status !== 'timed-out') return c;
    this.setStatus(now, c.id, next, reason ?? null, `gateway:${gateway}`);
    return this.get(c.id);
  }

  /** Commands whose answer is overdue time out; overrides nobody co-signed in time lapse. Call every few seconds. */
  tick(now: number): void {
    for (const c of this.d.db.prepare<[number], CommandRow>("SELECT * FROM commands WHERE status = 'awaiting-cosign' AND created < ?").all(now - this.cosignWindowMs)) {
      this.held.delete(c.id);
      this.setStatus(now, c.id, 'withdrawn', `no co-signature within ${this.cosignWindowMs / 60_000} min`);
    }
    const rows = this.d.db.prepare<[], CommandRow>("SELECT * FROM commands WHERE status IN ('pending', 'accepted')").all();
    for (const c of rows) {
      const limit = c.status === 'pending' ? this.answerTimeoutMs : this.applyTimeoutMs;
      if (now - c.updated > limit) this.setStatus(now, c.id, 'timed-out', c.status === 'pending' ? 'no answer from the gateway' : 'no device read-back');
    }
  }
}
