/**
 * The nursing station in real Chromium (playwright-core), against a real host (embedded broker,
 * SQLite) and four Node gateways running the firmware core with the defaults users get (5 s live
 * batches, 60 s outage batches, 30 s heartbeats): sign in, values change live, an alarm appears and
 * is acknowledged, a command is sent and followed to "applied", a soft-limit override waits for a
 * second clinician, an outage shows the bed offline then back-filling with the back-filled history
 * marked, the host restarts and the page reconnects by itself, the downtime PDF carries the settings,
 * and axe-core finds no WCAG A/AA violation (contrast included) on the main views.
 * Screenshots go to .tmp/screenshots (docs/screenshots with VIGIL_SCREENSHOTS=docs/screenshots).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceKind } from '../../firmware/core/command/index.js';
import type { Host } from '../../host/service.js';
import { startMqttProxy, type MqttProxy } from '../../simulator/net-proxy.js';
import { apiClient } from '../support/api.js';
import { axeViolations, go, launchChromium, signIn, watchProblems } from '../support/browser.js';
import { makeSite, PASSPHRASES, PASSWORD, provision, removeSite, startGateway, startSiteHost, until, type TestGateway } from '../support/ward.js';

const SHOTS = process.env.VIGIL_SCREENSHOTS ?? '.tmp/screenshots';
/** The gateway defaults: no test-speed batches here. */
const DEFAULTS = { batchMs: undefined, outageBatchMs: undefined, drainEveryMs: undefined, drainBatch: undefined, heartbeatMs: undefined };
const BEDS: ReadonlyArray<{ id: string; kind: DeviceKind; bed: string; proxied?: boolean }> = [
  { id: 'gw-1', kind: 'monitor', bed: 'Bed 1' },
  { id: 'gw-2', kind: 'pump', bed: 'Bed 2' },
  { id: 'gw-3', kind: 'ventilator', bed: 'Bed 3' },
  { id: 'gw-4', kind: 'monitor', bed: 'Bed 4', proxied: true },
];

let site: ReturnType<typeof makeSite>;
let host: Host;
let browser: Browser;
let proxy: MqttProxy;
const gateways: TestGateway[] = [];
const tokens = new Map<string, string>();
const api = apiClient(() => host.httpUrl, tokens);
const contexts: BrowserContext[] = [];

async function page(user: string): Promise<{ page: Page; problems: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  contexts.push(ctx);
  const p = await ctx.newPage();
  const problems = watchProblems(p);
  await signIn(p, host.httpUrl, user, PASSWORD);
  return { page: p, problems };
}

async function shot(p: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

const tile = (p: Page, id: string) => p.locator(`.tile[data-gateway="${id}"]`);

beforeAll(async () => {
  site = makeSite('ward-s');
  host = await startSiteHost(site.dir, site.paths);
  const broker = new URL(host.brokerUrl);
  proxy = await startMqttProxy({ host: broker.hostname, port: Number(broker.port) });
  for (const b of BEDS) {
    const url = b.proxied ? `mqtt://127.0.0.1:${proxy.port}` : host.brokerUrl;
    gateways.push(startGateway({ site: site.paths, id: b.id, kind: b.kind, brokerUrl: url, secret: provision(site.paths, b.id), seed: gateways.length + 3, config: DEFAULTS }));
  }
  for (const u of ['ana', 'ben', 'cleo']) {
    const r = await fetch(`${host.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u, password: PASSWORD }) });
    tokens.set(u, ((await r.json()) as { token: string }).token);
  }
  await until('every gateway online with its device settings', () => BEDS.every((b) => host.gateway(b.id)?.presence === 'online' && host.gateway(b.id)?.settings !== null), 60_000);
  for (const b of BEDS) expect((await api('cleo', 'PUT', `/api/gateways/${b.id}/bed`, { bed: b.bed })).status).toBe(200);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  for (const g of gateways) g.gw.stop();
  await proxy?.close();
  await host?.close();
  if (site) removeSite(site.dir);
});

describe('the nursing station in Chromium', () => {
  it('serves the app with a strict CSP and hashed, long-cached assets; nothing on the page breaks it', async () => {
    const r = await fetch(`${host.httpUrl}/bed/gw-1`);
    expect(r.status).toBe(200);
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(r.headers.get('cache-control')).toBe('no-cache');
    const html = await r.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const asset = /src="(\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const a = await fetch(`${host.httpUrl}${asset}`);
    expect(a.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${host.httpUrl}/assets/main-NOPE.js`)).status).toBe(404);
  });

  it('signs in, and the ward shows values that change live, marked live', async () => {
    const { page: p, problems } = await page('ana');
    const hr = tile(p, 'gw-1').locator('[data-metric="hr"] .value');
    await until('a heart rate on bed 1', async () => /\d/.test(await hr.innerText()), 20_000);
    const seen = new Set<string>();
    // values arrive every 5 s (a batch): the tile shows each new batch's newest sample
    const samples = () => p.evaluate(() => (globalThis as { vigilLatency?: number[] }).vigilLatency?.length ?? 0);
    const before = await samples();
    await until('three new batches shown on the ward', async () => {
      seen.add(await hr.innerText());
      return (await samples()) >= before + 6;
    }, 40_000);
    await expect.poll(() => tile(p, 'gw-1').locator('.fresh').innerText()).toBe('live');
    expect(await tile(p, 'gw-2').locator('.kind').innerText()).toBe('Infusion pump');
    expect(await tile(p, 'gw-3').locator('[data-metric="vte"] .value').innerText()).toMatch(/\d/);
    expect(await tile(p, 'gw-1').locator('.gw-state').innerText()).toMatch(/Online/);
    await shot(p, 'ward');
    expect(problems).toEqual([]);
  });

  it('alarms appear on the ward and in the list, highest priority first, and one is acknowledged by name', async () => {
    const { page: p, problems } = await page('ana');
    // the physician sets bed 1's limits so the patient is outside two: a high-priority SpO2 alarm and a medium heart-rate one
    const r = await api('ben', 'PUT', '/api/gateways/gw-1/limits', { limits: [{ metric: 'hr', low: 20, high: 40, priority: 'medium' }, { metric: 'spo2', low: 100, priority: 'high' }] });
    expect(r.status).toBe(200);
    const badge = tile(p, 'gw-1').locator('.alarm-badge');
    await until('the high alarm on bed 1', async () => (await badge.innerText()).includes('HIGH'), 30_000);
    expect(await badge.innerText()).toMatch(/▲ HIGH · spo2 .*\(\+1\)/); // shape and text, not colour alone; the other one counted
    await go(p, '/alarms');
    await until('both alarms listed', async () => (await p.locator('.alarm-list .alarm').count()) === 2, 20_000);
    expect(await p.locator('.alarm-list .alarm').evaluateAll((rows) => rows.map((x) => x.getAttribute('data-code')))).toEqual(['limit-spo2', 'limit-hr']);
    expect(await p.locator('.alarm-list .alarm .alarm-prio').allInnerTexts()).toEqual(['▲ HIGH', '◆ MEDIUM']);
    await shot(p, 'alarms');
    const row = p.locator('.alarm[data-code="limit-hr"]');
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await until('acknowledged by ana', async () => (await row.innerText()).includes('acknowledged by ana'));
    expect(await row.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
    await row.getByRole('button', { name: 'Silence 2 min' }).click();
    await until('silenced by ana', async () => /silenced by ana until \d\d:\d\d:\d\d/.test(await row.innerText()));
    const alarms = (await api('ana', 'GET', '/api/alarms?gateway=gw-1')).json as Array<{ code: string; acked_by: string | null; silenced_by: string | null }>;
    expect(alarms.find((a) => a.code === 'limit-hr')).toMatchObject({ acked_by: 'ana', silenced_by: 'ana' });
    expect(alarms.find((a) => a.code === 'limit-spo2')).toMatchObject({ acked_by: null });
    // a ward in pages (a wall display's ?per=): bed 1's page carries its HIGH alarm while another page is shown
    await go(p, '/?per=2');
    const pager = p.getByRole('navigation', { name: 'Ward pages' });
    await until('two pages of two beds', async () => (await pager.locator('.page-button').count()) === 2);
    expect(await pager.locator('.page-button').allInnerTexts()).toEqual(['▲ Bed 1 – Bed 2', 'Bed 3 – Bed 4']);
    await pager.getByRole('button', { name: 'Page 2: Bed 3 – Bed 4' }).click();
    await until('page 2 shows beds 3 and 4 only', async () => (await p.locator('.tile').evaluateAll((ts) => ts.map((t) => t.getAttribute('data-gateway')))).join() === 'gw-3,gw-4');
    expect(await pager.locator('[data-page="1"]').getAttribute('aria-label')).toBe('Page 1: Bed 1 – Bed 2, HIGH alarm');
    expect(await pager.locator('[aria-current="page"]').getAttribute('data-page')).toBe('2');
    await api('ben', 'PUT', '/api/gateways/gw-1/limits', { limits: null });
    await until('the alarms cleared: no page marked', async () => (await pager.locator('.page-button[data-alarm="high"]').count()) === 0, 30_000);
    expect(problems).toEqual([]);
  });

  it('a command shows old → new before it is sent, and its result is followed live to "applied"', async () => {
    const { page: p, problems } = await page('ana');
    await go(p, '/console/gw-2');
    await p.locator('select[name=setting]').selectOption('rate');
    await expect.poll(() => p.locator('[data-current]').innerText()).toMatch(/^50(\.0)? mL\/h/);
    await p.getByLabel('New value').fill('60');
    await p.getByRole('button', { name: 'Review change' }).click();
    expect(await p.locator('[data-review]').innerText()).toMatch(/rate 50(\.0)? → 60 mL\/h/);
    await p.getByLabel('Your signing passphrase').fill(PASSPHRASES.ana!);
    await shot(p, 'console');
    await p.getByRole('button', { name: 'Sign and send' }).click();
    const result = p.locator('.followed .result');
    await until('the command applied at the device', async () => (await result.innerText()).startsWith('Applied'), 30_000);
    expect(await p.locator('.followed .steps').innerText()).toMatch(/✓ Sent.*\n?.*✓ Accepted.*\n?.*✓ Applied/s);
    // the bed's history: who, old → new, outcome
    await go(p, '/bed/gw-2');
    const history = p.locator('table.commands tbody tr').first();
    await until('the history row', async () => (await history.count()) > 0 && (await history.innerText()).includes('Applied'));
    expect(await history.innerText()).toMatch(/ana[\s\S]*rate 50 → 60 mL\/h[\s\S]*Applied/);
    await expect.poll(() => p.locator('table.settings [data-setting="rate"] td').first().innerText(), { timeout: 40_000 }).toMatch(/^60 mL\/h/);
    await shot(p, 'bed');
    expect(problems).toEqual([]);
  });

  it('a refusal is shown in plain words, and a bad value never leaves the console', async () => {
    const { page: p } = await page('ana');
    await go(p, '/console/gw-2');
    await p.locator('select[name=setting]').selectOption('rate');
    await p.getByLabel('New value').fill('5000');
    expect(await p.locator('.check').innerText()).toMatch(/hard limits 0\.1–999/);
    expect(await p.getByRole('button', { name: 'Review change' }).isDisabled()).toBe(true);
    // a wrong passphrase: the host's own words
    await p.getByLabel('New value').fill('65');
    await p.getByRole('button', { name: 'Review change' }).click();
    await p.getByLabel('Your signing passphrase').fill('not my passphrase');
    await p.getByRole('button', { name: 'Sign and send' }).click();
    await expect.poll(() => p.locator('.composer .error').innerText()).toMatch(/passphrase of ana\.nurse is wrong/);
  });

  it('a soft-limit override waits for a second clinician, who approves it in another browser', async () => {
    const first = await page('ana');
    await go(first.page, '/console/gw-1');
    await first.page.locator('select[name=setting]').selectOption('hrLow');
    await first.page.getByLabel('New value').fill('35'); // soft limits 40–60
    expect(await first.page.locator('.check').innerText()).toMatch(/second clinician must approve/);
    await first.page.getByRole('button', { name: 'Review change' }).click();
    await first.page.getByLabel('Your signing passphrase').fill(PASSPHRASES.ana!);
    await first.page.getByRole('button', { name: 'Sign and ask for approval' }).click();
    await until('waiting for approval', async () => (await first.page.locator('.followed .result').innerText()).startsWith('Waiting for a second approver'));
    // the requester cannot approve her own
    expect(await first.page.locator('.approvals').getByRole('button', { name: 'Approve and send' }).count()).toBe(0);
    const second = await page('ben');
    await go(second.page, '/console');
    const item = second.page.locator('.approvals li').first();
    await item.waitFor({ timeout: 10_000 });
    expect(await item.innerText()).toMatch(/Bed 1.*hrLow 50 → 35.*asked by ana/s);
    await item.getByLabel('Your signing passphrase').fill(PASSPHRASES.ben!);
    await item.getByRole('button', { name: 'Approve and send' }).click();
    await until('applied, seen by the requester', async () => (await first.page.locator('.followed .result').innerText()).startsWith('Applied'), 30_000);
    const c = (await api('ana', 'GET', '/api/commands?gateway=gw-1')).json[0];
    expect([c.requested_by, c.cosigned_by, c.status]).toEqual(['ana', 'ben', 'applied']);
  });

  it('an outage: the bed shows offline and buffering, the banner says what still works, then back-filling with the history marked', async () => {
    const { page: p, problems } = await page('cleo');
    const state = tile(p, 'gw-4').locator('.gw-state');
    proxy.cut();
    await until('bed 4 offline on the ward', async () => (await state.innerText()).includes('Offline'), 20_000);
    expect(await state.innerText()).toMatch(/Offline · buffering \d+ s/);
    const banner = p.locator('[data-banner="gateways"]');
    expect(await banner.innerText()).toMatch(/1 bed is not reaching the station \(Bed 4;.*device runs on its last verified settings.*gateway keeps recording.*remote setting changes are refused/s);
    await until('bed 4 values no longer shown as live', async () => (await tile(p, 'gw-4').locator('.fresh').getAttribute('data-live')) === 'no', 30_000);
    await go(p, '/bed/gw-4');
    await p.locator('.bedside').waitFor();
    expect(await p.locator('.bedside').innerText()).toMatch(/Does not work: Remote setting changes are refused/);
    await shot(p, 'bed-offline');
    await go(p, '/');
    // the gateway writes a 60 s outage batch to flash (the default): keep the network down past it
    await new Promise((r) => setTimeout(r, 65_000));
    proxy.restore();
    await until('bed 4 back-filling', async () => (await state.innerText()).includes('Back-filling'), 60_000);
    await shot(p, 'ward-backfill');
    await until('bed 4 online and live again', async () => (await state.innerText()).includes('Online') && (await tile(p, 'gw-4').locator('.fresh').getAttribute('data-live')) === 'yes', 60_000);
    await go(p, '/bed/gw-4');
    await p.getByRole('button', { name: '1 h' }).click();
    const chart = p.locator('.chart[data-metric="hr"]');
    await until('back-filled points on the 1 h trend', async () => Number(await chart.getAttribute('data-backfilled')) > 0, 20_000);
    await shot(p, 'bed-backfilled', true);
    expect(problems).toEqual([]);
  }, 240_000);

  it('the host restarts: the page says it lost the host, never shows values as live meanwhile, and reconnects by itself', async () => {
    const { page: p, problems } = await page('ana');
    const fresh = tile(p, 'gw-1').locator('.fresh');
    await expect.poll(() => fresh.innerText(), { timeout: 20_000 }).toBe('live');
    const http = Number(new URL(host.httpUrl).port);
    const mqtt = Number(new URL(host.brokerUrl).port);
    await host.close();
    await p.locator('[data-banner="link"]').waitFor({ timeout: 10_000 });
    expect(await p.locator('[data-banner="link"]').innerText()).toMatch(/Connection to the Vigil host lost at .* reconnecting/);
    expect(await fresh.getAttribute('data-live')).toBe('no');
    expect(await p.locator('.fresh[data-live="yes"]').count()).toBe(0);
    host = await startSiteHost(site.dir, site.paths, { broker: { embedded: { port: mqtt } }, http: { port: http } });
    await p.locator('[data-banner="link"]').waitFor({ state: 'detached', timeout: 30_000 });
    await expect.poll(() => fresh.innerText(), { timeout: 30_000 }).toBe('live');
    expect(problems.filter((x) => !/WebSocket|ERR_CONNECTION_REFUSED/.test(x))).toEqual([]);
  }, 120_000);

  it('the downtime sheet prints, and its PDF holds the current infusion and ventilator settings with the time', async () => {
    const { page: p } = await page('ana');
    await go(p, '/downtime');
    const pump = p.locator('.sheet[data-gateway="gw-2"]');
    await pump.waitFor();
    await expect.poll(() => pump.locator('[data-setting="rate"] td').first().innerText()).toMatch(/^60 mL\/h/);
    await shot(p, 'downtime');
    await p.emulateMedia({ media: 'print' });
    const pdf = await p.pdf({ format: 'A4', printBackground: false });
    mkdirSync('.tmp', { recursive: true });
    writeFileSync('.tmp/downtime.pdf', pdf);
    const text = execFileSync('pdftotext', ['-layout', '.tmp/downtime.pdf', '-']).toString();
    expect(text).toMatch(/Bed 2 — Infusion pump/);
    expect(text).toMatch(/rate\s+60 mL\/h/);
    expect(text).toMatch(/vtbi\s+500 mL/);
    expect(text).toMatch(/Bed 3 — Ventilator/);
    expect(text).toMatch(/peep\s+5 cmH₂O|peep\s+5 cmH2O/);
    expect(text).toMatch(/fio2\s+40 %/);
    expect(text).toMatch(/printed \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2}/);
    expect(text).not.toMatch(/Sign out|Downtime sheet\s*$/m); // the screen's navigation is not printed
    // one bed per page
    expect(execFileSync('pdfinfo', ['.tmp/downtime.pdf']).toString()).toMatch(/Pages:\s+4/);
  });

  it('renders what others wrote as text, never as HTML: a hostile notice and bed label run nothing', async () => {
    const { page: p, problems } = await page('ana');
    const evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>Drill <b>now</b>';
    const n = await api('cleo', 'POST', '/api/notices', { kind: 'drill', message: evil });
    expect(n.status).toBe(201);
    expect((await api('cleo', 'PUT', '/api/gateways/gw-3/bed', { bed: '<img src=y onerror="window.__xss=3">Bed 3' })).status).toBe(200);
    const banner = p.locator('[data-banner="drill"]');
    await banner.waitFor({ timeout: 10_000 });
    expect(await banner.innerText()).toContain(evil);
    await until('the hostile bed label shown as text', async () => (await tile(p, 'gw-3').locator('.bed').innerText()).startsWith('<img'));
    expect(await p.locator('.banners img, .tiles img, script:not([src])').count()).toBe(0);
    expect(await p.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    expect((await api('cleo', 'POST', `/api/notices/${n.json.id}/end`)).status).toBe(200);
    expect((await api('cleo', 'PUT', '/api/gateways/gw-3/bed', { bed: 'Bed 3' })).status).toBe(200);
    await banner.waitFor({ state: 'detached', timeout: 10_000 });
    expect(problems).toEqual([]);
  });

  it('keyboard: skip link, pages and beds reached and opened with the keyboard alone', async () => {
    const { page: p } = await page('ana');
    await p.keyboard.press('Tab');
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await p.keyboard.press('Enter');
    for (let i = 0; i < 40; i++) {
      await p.keyboard.press('Tab');
      if ((await p.evaluate(() => document.activeElement?.closest('.tile')?.getAttribute('data-gateway'))) === 'gw-1') break;
    }
    await p.keyboard.press('Enter');
    await p.waitForURL(/\/bed\/gw-1$/);
    expect(await p.locator('h1').innerText()).toMatch(/Bed 1/);
  });

  it('axe-core finds no WCAG 2.1 A/AA violation (contrast included) on the ward, a bed, the alarms, the console, fleet, security and the downtime sheet', async () => {
    const { page: p } = await page('cleo');
    const found: string[] = [];
    for (const path of ['/', '/bed/gw-3', '/?per=2', '/alarms', '/console/gw-2', '/fleet', '/security', '/downtime']) {
      await go(p, path);
      await p.waitForTimeout(1500);
      for (const v of await axeViolations(p)) found.push(`${path} ${v}`);
    }
    await go(p, '/fleet');
    await shot(p, 'fleet');
    await go(p, '/security');
    await p.locator('[data-epoch]').waitFor();
    await shot(p, 'security');
    expect(found).toEqual([]);
  }, 120_000);
});
