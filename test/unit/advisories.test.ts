/**
 * Security advisories against the fleet (host/advisories, docs/api.md "Inventory and advisories"):
 * CISA's 96 medical advisories read without a crash (the counts printed are the issue note's), and a
 * real host with real gateways whose devices are real products (a BD Alaris 8015 pump, a Welch Allyn
 * Connex Spot monitor) at different firmware versions: an import raises a security alarm on exactly
 * the affected beds, puts a bed it cannot decide on the review list, and refuses what is not CSAF.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAdvisory } from '../../host/advisories/csaf.js';
import type { Host } from '../../host/service.js';
import { apiClient } from '../support/api.js';
import { makeSite, PASSWORD, provision, removeSite, startGateway, startSiteHost, until, type TestGateway } from '../support/ward.js';

const BIN = join(import.meta.dirname, '../../bin/vigil.mjs');
/** The CLI as a technician runs it (asynchronously: the host it talks to runs in this process). */
const vigil = (args: string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } }, (e, out, err) => resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1, out, err }));
  });
// CISA's feed as the project's shared data holds it: beside the clone, or where this machine keeps it (as .ci/moddable-sdk looks)
const FEED_CANDIDATES = [process.env.VIGIL_ADVISORIES_DIR, join(import.meta.dirname, '../../../shared/advisories/icsma'), '/work/shared/advisories/icsma'].filter((p): p is string => p !== undefined && p !== '');
const FEED = FEED_CANDIDATES.find((p) => existsSync(p)) ?? FEED_CANDIDATES[0]!;
beforeAll(() => {
  if (!existsSync(FEED)) throw new Error(`CISA's advisories are not here: looked in ${FEED_CANDIDATES.join(', ')}; set VIGIL_ADVISORIES_DIR to the icsma folder`);
});
const advisory = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(FEED, file), 'utf8')) as Record<string, unknown>;

describe("CISA's medical advisories (../shared/advisories/icsma)", () => {
  it('reads all 96 against the CSAF 2.0 schema without a crash, and says which version texts it does not understand', async () => {
    const files = readdirSync(FEED).filter((f) => f.endsWith('.json'));
    expect(files.length).toBe(96);
    let parsed = 0;
    let products = 0;
    let affected = 0;
    let understood = 0;
    const notUnderstood: string[] = [];
    for (const f of files) {
      const r = await readAdvisory(JSON.parse(readFileSync(join(FEED, f), 'utf8')));
      expect(r.ok, f).toBe(true);
      if (!r.ok) continue;
      parsed++;
      products += r.advisory.products.length;
      affected += r.advisory.affected.length;
      for (const p of r.advisory.products) {
        if (p.range.ok) understood++;
        else notUnderstood.push(`${f}: ${JSON.stringify(p.versionText ?? null)} (${p.range.reason})`);
        expect(p.name.length, `${f} ${p.id}`).toBeGreaterThan(0);
      }
    }
    console.log(`advisories: ${parsed} parsed, ${products} products found (${affected} listed as affected), ${understood} version texts understood, ${notUnderstood.length} not understood`);
    expect(parsed).toBe(96);
    expect(understood + notUnderstood.length).toBe(products);
    expect(understood).toBeGreaterThan(notUnderstood.length); // most of the feed is read, not reported
  });

  it('refuses what is not CSAF 2.0, naming the path', async () => {
    const doc = advisory('icsma-20-317-01.json');
    const bad = await readAdvisory({ ...doc, document: { ...(doc['document'] as object), csaf_version: '1.2' } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.join()).toMatch(/\/document\/csaf_version/);
    for (const x of [null, [], 'text', {}, { document: {} }]) expect((await readAdvisory(x)).ok).toBe(false);
  });
});

let site: ReturnType<typeof makeSite>;
let host: Host;
const gws: TestGateway[] = [];
const tokens = new Map<string, string>();
const api = apiClient(() => host.httpUrl, tokens);
// the ward: three Alaris pumps (an old firmware, a fixed one, one that reports a build name), a spot monitor at the affected version, another at a fixed one, and a generic pump
const BEDS = [
  { id: 'gw-a1', kind: 'pump', model: 'bd-alaris-8015', fw: '9.19.2', bed: 'Bed 1' },
  { id: 'gw-a2', kind: 'pump', model: 'bd-alaris-8015', fw: '12.1.4', bed: 'Bed 2' },
  { id: 'gw-a3', kind: 'pump', model: 'bd-alaris-8015', fw: 'build fx', bed: 'Bed 3' },
  { id: 'gw-c1', kind: 'monitor', model: 'welch-allyn-connex-spot', fw: '1.52', bed: 'Bed 4' },
  { id: 'gw-c2', kind: 'monitor', model: 'welch-allyn-connex-spot', fw: '1.53.0', bed: 'Bed 5' },
  { id: 'gw-g', kind: 'pump', model: undefined, fw: undefined, bed: 'Bed 6' },
] as const;

beforeAll(async () => {
  site = makeSite('advisories');
  host = await startSiteHost(site.dir, site.paths);
  for (const [i, b] of BEDS.entries()) {
    gws.push(startGateway({ site: site.paths, id: b.id, kind: b.kind, brokerUrl: host.brokerUrl, secret: provision(site.paths, b.id), seed: 20 + i, ...(b.model ? { model: b.model, deviceFirmware: b.fw } : {}) }));
  }
  for (const u of ['ana', 'dan', 'eve']) {
    const r = await fetch(`${host.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u, password: PASSWORD }) });
    tokens.set(u, ((await r.json()) as { token: string }).token);
  }
  await until('every gateway online with its device', () => BEDS.every((b) => host.gateway(b.id)?.presence === 'online' && host.gateway(b.id)?.device_model !== null), 30_000);
  for (const b of BEDS) expect((await api('eve', 'PUT', `/api/gateways/${b.id}/bed`, { bed: b.bed })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  for (const g of gws) g.gw.stop();
  await host?.close();
  if (site) removeSite(site.dir);
});

const advisoryAlarms = async () =>
  ((await api('dan', 'GET', '/api/alarms')).json as Array<{ gateway: string; class: string; code: string; priority: string; message: string; detail: string }>).filter((a) => a.code.startsWith('advisory-'));

describe('advisories matched to beds', () => {
  it('the inventory names every device: kind, vendor, product, model, serial and its own firmware', async () => {
    const inv = (await api('ana', 'GET', '/api/inventory')).json as Array<Record<string, string | null>>;
    expect(inv.map((e) => e['gateway'])).toEqual(BEDS.map((b) => b.id).sort());
    expect(inv.find((e) => e['gateway'] === 'gw-a1')).toMatchObject({ bed: 'Bed 1', kind: 'pump', vendor: 'Becton, Dickinson and Company (BD)', product: 'Alaris PC Unit Model 8015', model: 'bd-alaris-8015', deviceFirmware: '9.19.2', serial: 'PUMP-gw-a1' });
    expect(inv.find((e) => e['gateway'] === 'gw-g')).toMatchObject({ vendor: null, product: null, model: 'generic-pump-v1', deviceFirmware: '1.0.0' });
  });

  it('an advisory raises one security alarm per affected bed, and none elsewhere; a bed it cannot decide is for review', async () => {
    // ICSMA-20-317-01: "Alaris PC Unit Model 8015", <= 9.33.1 (CVE-2020-25165, CVSS 6.5)
    const r = await api('dan', 'POST', '/api/advisories', advisory('icsma-20-317-01.json'));
    expect(r.status).toBe(201);
    expect(r.json.affected.map((f: { gateway: string }) => f.gateway)).toEqual(['gw-a1']);
    expect(r.json.review).toEqual([expect.objectContaining({ gateway: 'gw-a3', why: expect.stringMatching(/"build fx" is not a comparable version/) })]);
    let alarms = await advisoryAlarms();
    expect(alarms.map((a) => a.gateway)).toEqual(['gw-a1']);
    expect(alarms[0]).toMatchObject({ class: 'security', code: 'advisory-icsma-20-317-01', priority: 'medium' });
    expect(alarms[0]!.message).toMatch(/ICSMA-20-317-01: Alaris PC Unit Model 8015 firmware 9\.19\.2 is affected \(<= 9\.33\.1\) — CVE-2020-25165, CVSS 6\.5/);
    const detail = JSON.parse(alarms[0]!.detail) as { cves: string[]; remediations: Array<{ category: string; details: string }> };
    expect(detail.cves).toEqual(['CVE-2020-25165']);
    expect(detail.remediations.length).toBeGreaterThan(0);

    // ICSMA-23-194-01 names the same pump differently ("BD Alaris Point-of-Care Unit (PCU) Model 8015", <= 12.1.3;
    // eight CVEs, the worst CVE-2023-30563 at CVSS 8.2: a high-priority alarm)
    expect((await api('dan', 'POST', '/api/advisories', advisory('icsma-23-194-01.json'))).json.affected.map((f: { gateway: string }) => f.gateway)).toEqual(['gw-a1']);
    // ICSMA-24-151-02: Welch Allyn Connex Spot Monitor <= 1.52 (CVSS 7.4: a high-priority alarm)
    expect((await api('eve', 'POST', '/api/advisories', advisory('icsma-24-151-02.json'))).json.affected.map((f: { gateway: string }) => f.gateway)).toEqual(['gw-c1']);
    // another Alaris product (the 8000, all versions) and a Philips monitor: no bed here has them
    for (const f of ['icsma-17-017-01.json', 'icsma-18-156-01.json']) expect((await api('dan', 'POST', '/api/advisories', advisory(f))).json.affected).toEqual([]);

    alarms = await advisoryAlarms();
    expect(alarms.map((a) => `${a.gateway} ${a.code} ${a.priority}`).sort()).toEqual(['gw-a1 advisory-icsma-20-317-01 medium', 'gw-a1 advisory-icsma-23-194-01 high', 'gw-c1 advisory-icsma-24-151-02 high']);
    expect(alarms.find((a) => a.code === 'advisory-icsma-23-194-01')!.message).toMatch(/CVE-2023-30563.*CVSS 8\.2$/);
    const stored = (await api('ana', 'GET', '/api/advisories')).json as Array<{ id: string }>;
    expect(stored.map((a) => a.id).sort()).toEqual(['ICSMA-17-017-01', 'ICSMA-18-156-01', 'ICSMA-20-317-01', 'ICSMA-23-194-01', 'ICSMA-24-151-02']);
  });

  it('the same revision imported again changes nothing and raises nothing again', async () => {
    const before = (await advisoryAlarms()).length;
    const r = await api('dan', 'POST', '/api/advisories', advisory('icsma-20-317-01.json'));
    expect(r.status).toBe(201);
    expect(r.json.stored).toBe(false);
    expect((await advisoryAlarms()).length).toBe(before);
  });

  it('refuses a document that is not CSAF, a nurse, and a body past 1 MiB, each with a clear answer', async () => {
    const bad = await api('dan', 'POST', '/api/advisories', { document: { title: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/not a valid CSAF 2\.0 advisory: .*\/document/);
    expect((await api('ana', 'POST', '/api/advisories', advisory('icsma-20-317-01.json'))).status).toBe(403);
    const huge = { ...advisory('icsma-20-317-01.json'), padding: 'x'.repeat(1_100_000) };
    expect((await api('dan', 'POST', '/api/advisories', huge)).status).toBe(413);
    // a large real one still fits (the feed's largest is 95 KB, past the API's usual 64 KiB)
    expect((await api('dan', 'POST', '/api/advisories', advisory('icsma-19-274-01.json'))).status).toBe(201);
  });

  it('vigil advisories import: the technician\'s command, through the host, beds named; bad input explained', async () => {
    const r = await vigil(['advisories', 'import', join(FEED, 'icsma-24-151-02.json'), join(FEED, 'icsma-20-317-01.json'), '--host', host.httpUrl, '--user', 'dan'], { VIGIL_PASSWORD: PASSWORD });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ICSMA-24-151-02 v\d+ \(this revision was already imported\): 1 bed\(s\) affected/);
    expect(r.out).toMatch(/AFFECTED Bed 4 \(gw-c1\): Welch Allyn Connex Spot Monitor \(CSM\) firmware 1\.52 \(<= 1\.52\)/);
    expect(r.out).toMatch(/REVIEW {3}Bed 3 \(gw-a3\): Alaris PC Unit Model 8015: the device's firmware "build fx" is not a comparable version/);
    const noPassword = await vigil(['advisories', 'import', FEED, '--host', host.httpUrl, '--user', 'dan'], { VIGIL_PASSWORD: '' });
    expect([noPassword.code, noPassword.err]).toEqual([2, expect.stringMatching(/set VIGIL_PASSWORD to dan's password/)]);
    const nurse = await vigil(['advisories', 'import', join(FEED, 'icsma-20-317-01.json'), '--host', host.httpUrl, '--user', 'ana'], { VIGIL_PASSWORD: PASSWORD });
    expect([nurse.code, nurse.out]).toEqual([1, expect.stringMatching(/REFUSED by the host \(403\): nurse may not do this/)]);
    expect((await vigil(['advisories', 'import', '/no/such/file', '--check'])).err).toMatch(/no such file or folder: \/no\/such\/file/);
  });

  it('vigil advisories import --check reads the whole feed without a host: the counts', async () => {
    const r = await vigil(['advisories', 'import', FEED, '--check']);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n').at(-1)).toBe('96 file(s): 96 read, 0 refused; 435 products, 91 version texts not understood');
  });

  it('vigil fleet list: the inventory as a table, JSON and CSV (spreadsheet formulas defused)', async () => {
    expect((await api('eve', 'PUT', '/api/gateways/gw-g/bed', { bed: '=HYPERLINK("x")' })).status).toBe(200);
    const json = await vigil(['fleet', 'list', '--data-dir', site.dir, '--json']);
    expect(json.code).toBe(0);
    const entries = JSON.parse(json.out) as Array<Record<string, unknown>>;
    expect(entries.find((e) => e['gateway'] === 'gw-c2')).toMatchObject({ vendor: 'Baxter', product: 'Welch Allyn Connex Spot Monitor (CSM)', deviceFirmware: '1.53.0', kind: 'monitor' });
    const csv = (await vigil(['fleet', 'list', '--data-dir', site.dir, '--csv'])).out.trim().split('\n');
    expect(csv[0]).toBe('gateway,bed,presence,gatewayFirmware,kind,vendor,product,model,serial,deviceFirmware,lastSeen');
    expect(csv.find((l) => l.startsWith('gw-a1,'))).toMatch(/^gw-a1,Bed 1,online,0\.1\.0,pump,"Becton, Dickinson and Company \(BD\)",Alaris PC Unit Model 8015,bd-alaris-8015,PUMP-gw-a1,9\.19\.2,\d{4}-/);
    expect(csv.find((l) => l.startsWith('gw-g,'))).toMatch(/^gw-g,"'=HYPERLINK\(""x""\)",/);
    const table = await vigil(['fleet', 'list', '--data-dir', site.dir]);
    expect(table.out).toMatch(/6 gateway\(s\)/);
    expect((await vigil(['fleet', 'list', '--data-dir', '/no/such/dir'])).err).toMatch(/no host database at \/no\/such\/dir\/vigil\.db/);
  });
});
