/**
 * A small real ward for host tests: a site (root key, clinicians' keys, signed trust list), users,
 * provisioned gateways, the host service with its embedded aedes broker (or an external broker), and
 * Node-platform gateways with simulated devices that log in with their provisioned secrets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceKind } from '../../firmware/core/command/index.js';
import type { GatewayConfig } from '../../firmware/core/gateway/index.js';
import { NorFlash } from '../../firmware/platform/node/nor-flash.js';
import type { NodeGateway } from '../../firmware/platform/node/runtime.js';
import { MemoryStore } from '../../firmware/platform/node/store.js';
import type { DeviceOnLine } from '../../simulator/device-line.js';
import { startSimulatedGateway } from '../../simulator/gateway.js';
import { issueSecret } from '../../host/broker/passwd.js';
import { startHost, type Host, type HostOptions } from '../../host/service.js';
import { initSite, type SitePaths } from '../../host/site.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await sleep(25);
  }
}

export const PASSWORD = 'correct horse battery';
/** Each clinician's own signing passphrase (their key in the site keyring is encrypted under it). */
export const PASSPHRASES: Readonly<Record<string, string>> = { ana: 'ana signs her orders', ben: 'ben signs his orders', cleo: 'cleo signs her orders' };
export const CLINICIANS = [
  { username: 'ana', person: 'ana.nurse', role: 'nurse', trustRoles: ['nurse'] },
  { username: 'ben', person: 'ben.md', role: 'physician', trustRoles: ['physician'] },
  { username: 'cleo', person: 'cleo.charge', role: 'charge-nurse', trustRoles: ['charge-nurse'] },
  { username: 'dan', person: null, role: 'biomed', trustRoles: [] },
  { username: 'eve', person: null, role: 'admin', trustRoles: [] },
] as const;

export function makeSite(site = 'ward-t'): { dir: string; paths: SitePaths } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-host-'));
  const paths = initSite(dir, site, CLINICIANS.filter((c) => c.person !== null).map((c) => ({ person: c.person!, roles: c.trustRoles, passphrase: PASSPHRASES[c.username]! })));
  return { dir, paths };
}

/** Removes a test site: its data directory and its audit directory beside it. */
export function removeSite(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}-audit`, { recursive: true, force: true });
}

export async function startSiteHost(dir: string, paths: SitePaths, over: Partial<HostOptions> = {}): Promise<Host> {
  const host = await startHost({
    site: paths.site,
    dataDir: dir,
    broker: { embedded: { port: 0 } },
    http: { port: 0 },
    rootKey: paths.rootPublicKey,
    trustFile: paths.trustFile,
    keyringDir: paths.keyringDir,
    log: () => undefined,
    ...over,
  });
  await host.ready();
  if (host.users.count() === 0) {
    for (const c of CLINICIANS) await host.users.add(Date.now(), 'test', { username: c.username, role: c.role, person: c.person ?? undefined, password: PASSWORD });
  }
  return host;
}

export interface TestGateway {
  readonly id: string;
  readonly gw: NodeGateway;
  readonly device: DeviceOnLine;
  readonly flash: NorFlash;
  readonly store: MemoryStore;
  readonly alarms: boolean[];
}

/**
 * A gateway for host tests, with short batches so tests run in seconds (the defaults users get are
 * tested in simulated time: test/unit/gateway-bugs.test.ts).
 */
export function startGateway(o: { site: SitePaths; id: string; kind: DeviceKind; brokerUrl: string; secret: string; seed?: number; flash?: NorFlash; store?: MemoryStore; config?: Partial<GatewayConfig>; username?: string; model?: string; deviceFirmware?: string }): TestGateway {
  const flash = o.flash ?? new NorFlash({ sectors: 24 });
  const store = o.store ?? new MemoryStore();
  const alarms: boolean[] = [];
  const sim = startSimulatedGateway({
    site: o.site.site,
    id: o.id,
    kind: o.kind,
    rootKey: o.site.rootPublicKey,
    brokerUrl: o.brokerUrl,
    username: o.username ?? o.id,
    password: o.secret,
    seed: o.seed ?? 7,
    ...(o.model === undefined ? {} : { model: o.model }),
    ...(o.deviceFirmware === undefined ? {} : { deviceFirmware: o.deviceFirmware }),
    flash,
    store,
    firmware: '0.1.0',
    config: { batchMs: 400, outageBatchMs: 400, drainEveryMs: 100, drainBatch: 4, heartbeatMs: 2000, ...o.config },
    onEffect: (e) => {
      if (e.type === 'alarm-output') alarms.push(e.on);
    },
  });
  return { id: o.id, gw: sim.gw, device: sim.device, flash, store, alarms };
}

export function provision(paths: SitePaths, id: string): string {
  return issueSecret(paths.passwdFile, id);
}

/** Every seq of every boot a gateway has sent, as stored by the host: [boot hex, seqs]. */
export function storedSeqs(host: Host, gateway: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of host.db.prepare<[string], { boot: string; seq: number }>("SELECT hex(boot_id) AS boot, seq FROM batches WHERE gateway = ? ORDER BY boot_id, seq").all(gateway)) {
    const list = out.get(r.boot) ?? [];
    list.push(r.seq);
    out.set(r.boot, list);
  }
  return out;
}
