/**
 * The trust list's life at a running site (host/signing/trust-keeper.ts, docs/commands.md): a
 * clinician's key revoked in a new root-signed list (epoch + 1) is in force at the host at once (her
 * commands refused), and every gateway of the ward holds the new list within one heartbeat — on the
 * defaults users get (30 s heartbeats, 5 s batches); a gateway that was offline during the rollout gets
 * it first thing when it comes back (retained). A list not signed by the root, for another site, or
 * older than the one in force is refused with the reason, and nothing changes.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptTrustList, signTrustList, type TrustList, type TrustListContent } from '../../firmware/core/command/index.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import type { Host } from '../../host/service.js';
import { loadSigningKey, newKeyPair } from '../../host/signing/keys.js';
import { apiClient } from '../support/api.js';
import { makeSite, PASSPHRASES, PASSWORD, provision, removeSite, startGateway, startSiteHost, until, type TestGateway } from '../support/ward.js';

const DEFAULTS = { batchMs: undefined, outageBatchMs: undefined, drainEveryMs: undefined, drainBatch: undefined, heartbeatMs: undefined };
const HEARTBEAT_MS = 30_000; // the gateway's default (docs/gateway.md)
const IDS = ['gw-r1', 'gw-r2', 'gw-r3'];

let site: ReturnType<typeof makeSite>;
let host: Host;
const gws: TestGateway[] = [];
const tokens = new Map<string, string>();
const api = apiClient(() => host.httpUrl, tokens);

/** The trust list a gateway holds (its key-value store), as the gateway reads it. */
function heldBy(g: TestGateway): TrustList | undefined {
  const bytes = g.store.get('trust');
  if (bytes === undefined) return undefined;
  const r = acceptTrustList(bytes, site.paths.rootPublicKey, undefined, ed25519Verify);
  return r.ok ? r.value : undefined;
}

/** The list in force, changed by `change`, signed by `rootFile` (the site's root key unless told). */
function nextList(change: Partial<TrustListContent>, rootFile = join(site.dir, 'root.pem')): Uint8Array {
  const t = host.trust()!;
  const content: TrustListContent = { site: t.site, epoch: t.epoch + 1, issued: t.issued + 1, signers: [...t.signers.values()], revoked: [...t.revoked].map((h) => Buffer.from(h, 'hex')), grants: t.grants, cosign: t.cosign, ...change };
  return signTrustList(content, loadSigningKey(rootFile));
}

const put = (bytes: Uint8Array, user = 'eve') => api(user, 'PUT', '/api/trust', { trust: Buffer.from(bytes).toString('base64') });

beforeAll(async () => {
  site = makeSite('ward-k');
  host = await startSiteHost(site.dir, site.paths);
  for (const [i, id] of IDS.entries()) gws.push(startGateway({ site: site.paths, id, kind: 'pump', brokerUrl: host.brokerUrl, secret: provision(site.paths, id), seed: 40 + i, config: DEFAULTS }));
  for (const u of ['ana', 'ben', 'dan', 'eve']) {
    const r = await fetch(`${host.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u, password: PASSWORD }) });
    tokens.set(u, ((await r.json()) as { token: string }).token);
  }
  await until('every gateway online, holding the epoch-1 list', () => gws.every((g) => host.gateway(g.id)?.presence === 'online' && heldBy(g)?.epoch === 1), 30_000);
}, 60_000);

afterAll(async () => {
  for (const g of gws) g.gw.stop();
  await host?.close();
  if (site) removeSite(site.dir);
});

describe('revoking a clinician at a running site', () => {
  it("is in force at the host at once and at every gateway within one heartbeat; her commands are refused fleet-wide", async () => {
    const before = await api('ana', 'POST', '/api/commands', { gateway: 'gw-r1', orderId: 'ORD-K1', params: { rate: { value: 60, unit: 'mL/h' } }, passphrase: PASSPHRASES.ana });
    expect(before.status).toBe(201);
    await until('applied', async () => (await api('ana', 'GET', `/api/commands/${before.json.id}`)).json.status === 'applied', 30_000);

    const ana = [...host.trust()!.signers.values()].find((s) => s.person === 'ana.nurse')!;
    gws[2]!.gw.stop(); // gw-r3 is off the network during the rollout
    await until('gw-r3 offline', () => host.gateway('gw-r3')?.presence !== 'online', 120_000);
    const started = Date.now();
    const r = await put(nextList({ revoked: [ana.key] }));
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ epoch: 2, revoked: 1 });
    await until('both online gateways hold epoch 2 with her key revoked', () => gws.slice(0, 2).every((g) => heldBy(g)?.epoch === 2 && heldBy(g)!.revoked.has(Buffer.from(ana.key).toString('hex'))), HEARTBEAT_MS);
    const took = Date.now() - started;
    console.log(`trust list epoch 2 held by the online gateways ${took} ms after it was published (heartbeat ${HEARTBEAT_MS} ms)`);
    expect(took).toBeLessThan(HEARTBEAT_MS);

    for (const id of IDS.slice(0, 2)) {
      const c = await api('ana', 'POST', '/api/commands', { gateway: id, orderId: `ORD-K2-${id}`, params: { rate: { value: 70, unit: 'mL/h' } }, passphrase: PASSPHRASES.ana });
      expect([c.status, c.json.error], id).toEqual([403, 'the key of ana.nurse is revoked']);
    }
    // another clinician is untouched
    const ben = await api('ben', 'POST', '/api/commands', { gateway: 'gw-r2', orderId: 'ORD-K3', params: { rate: { value: 65, unit: 'mL/h' } }, passphrase: PASSPHRASES.ben });
    expect(ben.status).toBe(201);
    expect((await api('ana', 'GET', '/api/trust')).json.epoch).toBe(2);
    expect(readFileSync(join(site.dir, 'trust.cose'))).toEqual(Buffer.from(host.trustKeeper.bytes!));
    const audit = host.db.prepare("SELECT actor FROM audit WHERE action = 'trust-published'").all();
    expect(audit).toEqual([{ actor: 'eve' }]);

    // the gateway that was away comes back (its flash and store as they were) and takes epoch 2 first thing
    const back = startGateway({ site: site.paths, id: 'gw-r3', kind: 'pump', brokerUrl: host.brokerUrl, secret: provision(site.paths, 'gw-r3'), seed: 42, config: DEFAULTS, flash: gws[2]!.flash, store: gws[2]!.store });
    gws[2] = back;
    await until('gw-r3 back online holding epoch 2', () => host.gateway('gw-r3')?.presence === 'online' && heldBy(back)?.epoch === 2, 30_000);
    const late = await api('ana', 'POST', '/api/commands', { gateway: 'gw-r3', orderId: 'ORD-K4', params: { rate: { value: 70, unit: 'mL/h' } }, passphrase: PASSPHRASES.ana });
    expect([late.status, late.json.error]).toEqual([403, 'the key of ana.nurse is revoked']);
  }, 240_000);

  it('refuses a list not signed by the root, for another site, older than the one in force, or from a non-admin; nothing changes', async () => {
    const forged = newKeyPair();
    const forgedFile = join(site.dir, 'forged.pem');
    writeFileSync(forgedFile, forged.pem);
    const cases: Array<[Uint8Array, number, RegExp]> = [
      [nextList({}, forgedFile), 400, /trust list refused: bad-signature/],
      [nextList({ site: 'ward-z' }), 400, /trust list of site ward-z, not ward-k/],
      [nextList({ epoch: 1 }), 409, /trust list refused: epoch-rollback/],
    ];
    for (const [bytes, status, message] of cases) {
      const r = await put(bytes);
      expect([r.status, r.json.error]).toEqual([status, expect.stringMatching(message)]);
    }
    expect((await put(nextList({}), 'dan')).status).toBe(403);
    expect((await api('eve', 'PUT', '/api/trust', { trust: 'not base64!' })).status).toBe(400);
    expect(host.trust()!.epoch).toBe(2);
    for (const g of gws) expect(heldBy(g)?.epoch).toBe(2);
  });

  it('vigil trust publish: the administrator\'s command, through the host; a refusal is explained', async () => {
    const file = join(site.dir, 'trust-3.cose');
    writeFileSync(file, nextList({}));
    const run = (args: string[]) =>
      new Promise<{ code: number; err: string }>((resolve) => {
        execFile(process.execPath, [join(import.meta.dirname, '../../bin/vigil.mjs'), ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, VIGIL_PASSWORD: PASSWORD } }, (e, _out, err) => resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1, err }));
      });
    const ok = await run(['trust', 'publish', file, '--host', host.httpUrl, '--user', 'eve']);
    expect([ok.code, ok.err]).toEqual([0, expect.stringMatching(/epoch 3 in force at .* and published to every gateway/)]);
    await until('every gateway on epoch 3', () => gws.every((g) => heldBy(g)?.epoch === 3), HEARTBEAT_MS);
    const again = await run(['trust', 'publish', file, '--host', host.httpUrl, '--user', 'eve']);
    expect([again.code, again.err]).toEqual([1, expect.stringMatching(/the host refused .* \(409\): epoch 3 issued \d+ is already in force/)]);
  });
});
