/**
 * The attacks `vigil sim` makes, each as an attacker would, end to end, and what must follow: the
 * attack is blocked (the gateway refuses it with the expected reason and the device is untouched, or
 * the broker or the host refuses it) and seen (an alarm at the nursing station). Where they come from:
 *
 * - on the bedside network, between a gateway and the broker (the bed's proxy in its worker): forged,
 *   replayed, expired, other-bed, out-of-range, over-step, single-signature soft-limit, revoked-key
 *   commands, an old trust list, a command flood. The signed ones use a clinician's real key (a
 *   compromised host or a stolen key): the signature is the gateway's last line, not its only one;
 * - a spare gateway box with valid credentials and no bed (`gw-rogue`: stolen from the biomed shelf):
 *   publishing on a bed's topics, subscribing to its commands, malformed CBOR, oversized payloads;
 * - at the bed: a local change at the device, another device swapped in, the gateway's credentials
 *   cloned onto a second box.
 */
import { generateKeyPairSync, sign as edSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { signCommand, type CommandClaims, type SettingValue, type SigningKey } from '../../firmware/core/command/index.js';
import { fromHex } from '../../firmware/core/hex.js';
import { topic, trustTopic } from '../../firmware/core/protocol/index.js';
import { PROFILES } from '../../firmware/profiles/index.js';
import { INITIAL_SETTINGS } from '../devices/device.js';
import type { AttackName } from './scenario.js';
import type { BedReport, BedSpec, ToWorker } from './messages.js';
import { clinicianKey, formerClinician, type SimSite } from './site.js';

export const ROGUE = 'gw-rogue';

export interface AttackResult {
  readonly attack: AttackName;
  readonly bed: number;
  /** The identity the station's alarm names: the bed's gateway, or the rogue box. */
  readonly gateway: string;
  /** The defence that must hold. */
  readonly defence: string;
  readonly blocked: boolean;
  /** The alarm code the station must show. */
  readonly alarm: string;
  readonly alarmed: boolean;
  /** What was seen, for the report. */
  readonly evidence: string;
  readonly at: number;
}

export interface Battlefield {
  readonly site: SimSite;
  readonly broker: { readonly host: string; readonly port: number };
  readonly rogueSecret: string;
  bed(n: number): BedSpec;
  /** Sends a request to the worker running this gateway and waits for its answer. */
  call(id: string, m: ToWorker): Promise<unknown>;
  report(id: string): Promise<BedReport>;
  /** The host's API as the physician ben (a signed-in user). */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  /** How long to wait for an alarm now: to the end of the timeline and a minute more (a drill's alarm comes after recovery). */
  alarmWaitMs(): number;
  /** The value a bed's device holds for a setting now, as far as the run knows. */
  current(bed: number, setting: string): SettingValue | undefined;
}

/** "bad-signature ×200, replay" */
function tally(codes: readonly string[]): string {
  const n = new Map<string, number>();
  for (const c of codes) n.set(c, (n.get(c) ?? 0) + 1);
  return n.size === 0 ? 'none' : [...n].map(([c, k]) => (k === 1 ? c : `${c} ×${k}`)).join(', ');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let counterBump = 1000;

/** A key the attacker made, presented under a clinician's key id: its signatures cannot verify. */
function forger(kid: Uint8Array): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'));
  return { kid, publicKey: raw, sign: (m) => new Uint8Array(edSign(null, m, privateKey)) };
}

/** A setting of this bed's device to aim at, with its profile limits. */
function target(spec: BedSpec): { name: string; unit: string; hard: readonly [number, number]; soft: readonly [number, number]; maxStep: number } {
  const profile = PROFILES.get(`generic-${spec.kind}-v1`)!;
  const name = spec.kind === 'pump' ? 'rate' : spec.kind === 'ventilator' ? 'tidalVolume' : 'hrHigh';
  const s = profile.settings.get(name)!;
  if (s.type !== 'number') throw new Error(`${name} is not numeric`);
  return { name, unit: s.unit, hard: s.hard, soft: s.soft, maxStep: s.maxStep };
}

async function lastCounter(b: Battlefield, id: string): Promise<number> {
  const r = await b.api('GET', `/api/commands?gateway=${encodeURIComponent(id)}`);
  const rows = (r.json ?? []) as Array<{ counter: number | null }>;
  return rows.reduce((m, c) => Math.max(m, c.counter ?? 0), 0);
}

/** A command as the host would sign it for this bed now, with `over` changed. */
async function command(b: Battlefield, spec: BedSpec, value: number, signer: SigningKey, over: Partial<CommandClaims> = {}): Promise<Uint8Array> {
  const r = await b.report(spec.id);
  if (r.nonce === undefined) throw new Error(`${spec.id} has not announced a challenge nonce yet`);
  const t = target(spec);
  const nowS = Math.floor(Date.now() / 1000);
  const claims: CommandClaims = {
    gateway: spec.id,
    serial: spec.serial,
    counter: (await lastCounter(b, spec.id)) + counterBump++,
    iat: nowS - 5,
    exp: nowS + 120,
    nonce: fromHex(r.nonce)!,
    epoch: 2,
    op: 'set',
    params: new Map([[t.name, { value, unit: t.unit }]]),
    orderId: `SIM-ATTACK-${counterBump}`,
    clinician: 'ben.md',
    ...over,
  };
  return signCommand(claims, signer);
}

async function inject(b: Battlefield, id: string, payload: Uint8Array, times = 1): Promise<void> {
  await b.call(id, { type: 'inject', id, topic: topic(b.site.paths.site, id, 'cmd'), payload: Buffer.from(payload).toString('hex'), times });
}

async function rogue(b: Battlefield): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(`mqtt://${b.broker.host}:${b.broker.port}`, { clientId: `vigil-${b.site.paths.site}-${ROGUE}`, username: ROGUE, password: b.rogueSecret, reconnectPeriod: 0, connectTimeout: 5000 });
}

/** Whether the broker closes the rogue's connection within `ms` (aedes drops a client whose publish it denies). */
function closedWithin(c: mqtt.MqttClient, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    c.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Polls until `check` holds or `ms` pass; a check that throws (the host restarting) is "not yet". */
async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (performance.now() > end) return false;
    await sleep(250);
  }
}

async function alarmed(b: Battlefield, gateway: string, code: string, since: number): Promise<boolean> {
  return eventually(async () => {
    const r = await b.api('GET', `/api/alarms?active=0&gateway=${encodeURIComponent(gateway)}`);
    const list = (r.json ?? []) as Array<{ code: string; raised: number; cleared: number | null }>;
    return list.some((a) => a.code === code && (a.raised >= since - 1000 || a.cleared === null || a.cleared >= since));
  }, b.alarmWaitMs());
}

/** Carries out one attack on a bed and judges it. */
export async function attack(b: Battlefield, name: AttackName, bedNo: number): Promise<AttackResult> {
  const spec = b.bed(bedNo);
  const at = Date.now();
  const before = await b.report(spec.id);
  const t = target(spec);
  const current = (b.current(bedNo, t.name) as number | undefined) ?? (INITIAL_SETTINGS[spec.kind][t.name] as number);
  const ben = () => clinicianKey(b.site, 'ben.md', b.site.logins.passphrases.ben!);

  /** The gateway refused with `reason` and the device applied nothing. */
  const refused = async (reason: string) => {
    let after = before;
    const ok = await eventually(async () => {
      after = await b.report(spec.id);
      return after.refusals.slice(before.refusals.length).includes(reason);
    }, 15_000);
    return { blocked: ok && after.applied === before.applied, evidence: `gateway refusals: ${tally(after.refusals.slice(before.refusals.length))}; device changes applied: ${after.applied - before.applied}` };
  };
  const securityEvent = async (code: string) => {
    let after = before;
    const ok = await eventually(async () => {
      after = await b.report(spec.id);
      return after.securityEvents.slice(before.securityEvents.length).includes(code);
    }, 15_000);
    return { ok, after, evidence: `gateway security events: ${tally(after.securityEvents.slice(before.securityEvents.length))}` };
  };
  const result = async (gateway: string, defence: string, alarm: string, judged: { blocked: boolean; evidence: string }): Promise<AttackResult> => ({
    attack: name,
    bed: bedNo,
    gateway,
    defence,
    alarm,
    at,
    ...judged,
    alarmed: await alarmed(b, gateway, alarm, at),
  });
  const gate = async (defence: string, reason: string, payload: Uint8Array, times = 1) => {
    await inject(b, spec.id, payload, times);
    return result(spec.id, defence, 'cmd-rejected', await refused(reason));
  };

  switch (name) {
    case 'forged-signature':
      return gate('signature check (bad-signature)', 'bad-signature', await command(b, spec, current, forger((await ben()).kid)));
    case 'command-flood': {
      const key = forger((await ben()).kid);
      const one = await command(b, spec, current, key);
      return gate('signature check on each of 200 forged commands', 'bad-signature', one, 200);
    }
    case 'replayed-command':
      await b.call(spec.id, { type: 'replay', id: spec.id, from: spec.id });
      return result(spec.id, 'counter and nonce (replay)', 'cmd-rejected', await refused('replay'));
    case 'other-bed-command': {
      // a command captured on its way to another bed, re-addressed to this one on the wire
      const other = findCommanded(b, bedNo);
      await b.call(spec.id, { type: 'replay', id: spec.id, from: other });
      return result(spec.id, 'target gateway (wrong-gateway)', 'cmd-rejected', await refused('wrong-gateway'));
    }
    case 'expired-command': {
      const nowS = Math.floor(Date.now() / 1000);
      return gate('expiry by the trusted clock (expired)', 'expired', await command(b, spec, current, await ben(), { iat: nowS - 600, exp: nowS - 300 }));
    }
    case 'out-of-range':
      return gate('hard limits (hard-limit)', 'hard-limit', await command(b, spec, t.hard[1] * 2, await ben()));
    case 'over-step': {
      const up = current + t.maxStep * 1.5;
      const value = up <= t.soft[1] ? up : current - t.maxStep * 1.5;
      return gate('largest step (step-too-large)', 'step-too-large', await command(b, spec, value, await ben()));
    }
    case 'soft-limit-single-signature':
      return gate('second signature beyond a soft limit (soft-limit-needs-cosign)', 'soft-limit-needs-cosign', await command(b, spec, (t.soft[1] + t.hard[1]) / 2, await ben()));
    case 'revoked-key': {
      const rex = await clinicianKey(b.site, formerClinician, b.site.logins.formerPassphrase);
      return gate('revocation list (revoked-key)', 'revoked-key', await command(b, spec, current, rex, { clinician: formerClinician }));
    }
    case 'old-epoch': {
      // the trust list of epoch 1 (before rex's key was revoked), pushed to the gateway on the wire
      const old = readFileSync(join(b.site.dir, 'trust-epoch1.cose'));
      await b.call(spec.id, { type: 'inject', id: spec.id, topic: trustTopic(b.site.paths.site), payload: old.toString('hex'), times: 1 });
      const seen = await securityEvent('trust-rejected');
      return result(spec.id, 'trust list rollback (epoch-rollback)', 'trust-rejected', { blocked: seen.ok, evidence: seen.evidence });
    }
    case 'rogue-publish': {
      const c = await rogue(b);
      const closed = closedWithin(c, 5000);
      c.publish(topic(b.site.paths.site, spec.id, 'vitals'), Buffer.alloc(64, 1), { qos: 1 });
      const ok = await closed;
      c.end(true);
      return result(ROGUE, 'broker ACL (publish denied, client dropped)', 'acl-denied-publish', { blocked: ok, evidence: ok ? `the broker dropped ${ROGUE} at its publish on ${spec.id}/vitals` : 'the broker kept the connection' });
    }
    case 'rogue-subscribe': {
      const c = await rogue(b);
      let granted: number;
      try {
        granted = (await c.subscribeAsync(topic(b.site.paths.site, spec.id, 'cmd'), { qos: 1 }))[0]!.qos;
      } catch (e) {
        granted = (e as { packet?: { granted?: number[] } }).packet?.granted?.[0] ?? -1;
      }
      c.end(true);
      return result(ROGUE, 'broker ACL (SUBACK failure)', 'acl-denied-subscribe', { blocked: granted === 128, evidence: `SUBACK granted ${granted}` });
    }
    case 'malformed-cbor': {
      const before = await b.api('GET', '/api/health');
      const c = await rogue(b);
      await c.publishAsync(topic(b.site.paths.site, ROGUE, 'vitals'), Buffer.from([0xbf, 0x61, 0x78, 0xff, 0x1c, 0x00, 0xff]), { qos: 1 });
      c.end(true);
      let refusedNow = 0;
      const ok = await eventually(async () => {
        const h = await b.api('GET', '/api/health');
        refusedNow = (h.json?.refused?.vitals ?? 0) - (before.json?.refused?.vitals ?? 0);
        return refusedNow > 0;
      }, 10_000);
      return result(ROGUE, 'host parser (payload refused, nothing stored)', 'payload-refused', { blocked: ok, evidence: `host refused ${refusedNow} vitals payload(s)` });
    }
    case 'oversized-payload': {
      const c = await rogue(b);
      const closed = closedWithin(c, 5000);
      c.publish(topic(b.site.paths.site, ROGUE, 'vitals'), Buffer.alloc(6000, 7), { qos: 1 });
      const ok = await closed;
      c.end(true);
      return result(ROGUE, 'broker payload bound (4200 bytes on vitals)', 'oversized-payload', { blocked: ok, evidence: ok ? 'the broker refused the 6000-byte payload and dropped the client' : 'the broker kept the connection' });
    }
    case 'tampered-device': {
      await b.call(spec.id, { type: 'device', id: spec.id, action: 'local-change' });
      const seen = await securityEvent('local-setting-change');
      // a change at the device's own controls is never blocked (docs/degraded-mode.md): it must be seen
      return result(spec.id, 'reported, never blocked: the device keeps its own controls', 'local-setting-change', { blocked: seen.ok, evidence: seen.evidence });
    }
    case 'swapped-device': {
      await b.call(spec.id, { type: 'device', id: spec.id, action: 'swap' });
      const seen = await securityEvent('device-changed');
      // a command signed for the device that was there before must not reach the new one
      const stale = await command(b, spec, current, await ben());
      await inject(b, spec.id, stale);
      const r = await refused('wrong-device');
      return result(spec.id, 'device identity (device-changed; commands for the old serial: wrong-device)', 'device-changed', { blocked: seen.ok && r.blocked, evidence: `${seen.evidence}; ${r.evidence}` });
    }
    case 'cloned-gateway': {
      await b.call(spec.id, { type: 'clone', id: spec.id, forMs: 20_000 });
      const ok = await alarmed(b, spec.id, 'gateway-cloned', at);
      const after = await b.report(spec.id);
      return result(spec.id, 'boot ids that alternate (gateway-cloned); the bed\'s device untouched', 'gateway-cloned', { blocked: ok && after.applied === before.applied, evidence: `device changes applied meanwhile: ${after.applied - before.applied}` });
    }
  }
}

/** The bed whose command the run sent most recently: its capture is the one to re-address. */
let lastCommanded: string | undefined;
export function commanded(id: string): void {
  lastCommanded = id;
}
function findCommanded(b: Battlefield, bed: number): string {
  if (lastCommanded === undefined || lastCommanded === b.bed(bed).id) throw new Error('other-bed-command needs a signed command sent to another bed earlier in the scenario');
  return lastCommanded;
}
