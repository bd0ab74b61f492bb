/**
 * `npm run bench -- station`: the nursing station in real Chromium (Debian's, through playwright-core)
 * watching a simulated ward of N gateways (`vigil sim --scenario scale`: every bed a 1 Hz monitor,
 * the defaults users get: 5 s live batches), against the host as `npm start` runs it.
 *
 * Per N, after a 30 s warm-up, over a measured window:
 *  - device sample → display: for each batch the ward page shows, the time from the device taking the
 *    batch's newest sample to the bed's tile holding it in the DOM (the app's own layout effect).
 *    The batch interval is in it: a sample waits in the gateway until its batch of 5 s goes out.
 *  - the same from a plain WebSocket client of the same stream in this process: the reference, so the
 *    page's own cost is the difference (and the ratio).
 *  - long tasks (the browser's PerformanceObserver 'longtask': over 50 ms on the main thread), beside
 *    the same count on a page in the same browser doing a fixed 10 ms task every 100 ms: the reference
 *    for how often this 2-core machine, running the ward's processes, stretches a short task past 50 ms.
 *
 * Sizes: VIGIL_STATION_SIZES (default 200,1000); window: VIGIL_STATION_SECONDS (default 60); beds per
 * page: VIGIL_STATION_PER (default: the page's own, 60); VIGIL_STATION_FRAMES=1 prints each long
 * animation frame with the scripts it is attributed to (where a long task comes from).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { runSimulation } from '../simulator/fleet/run.js';
import { loadScenario } from '../simulator/fleet/scenario.js';
import { go, launchChromium, signIn } from '../test/support/browser.js';
import { fmt, table } from './measure.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface Figures {
  readonly n: number;
  readonly shown: number[];
  readonly stream: number[];
  readonly longTasks: number[];
  readonly idleLongTasks: number[];
}

async function measure(n: number, windowS: number, per: number | undefined): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-station-bench-'));
  const stop = new AbortController();
  let ready: (info: { hostUrl: string; password: string }) => void;
  const up = new Promise<{ hostUrl: string; password: string }>((r) => (ready = r));
  const run = runSimulation({
    scenario: loadScenario('scale'),
    gateways: n,
    duration: windowS + 120,
    dataDir: dir,
    stop: stop.signal,
    log: () => undefined,
    onReady: ({ hostUrl, site }) => ready({ hostUrl, password: site.logins.passwords.ana! }),
  });
  const { hostUrl, password } = await up;
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
    await signIn(page, hostUrl, 'ana', password);
    if (per !== undefined) {
      // beds per page other than the default (the address a wall display would bookmark)
      await go(page, '/alarms');
      await go(page, `/?per=${per}`);
    }
    await page.evaluate(() => {
      const w = globalThis as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) w.longTasks.push(e.duration);
      }).observe({ type: 'longtask', buffered: false });
      // what made a frame long: the scripts the browser attributes it to (Long Animation Frames API)
      const f = globalThis as unknown as { longFrames: string[] };
      f.longFrames = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries() as unknown as Array<{ duration: number; renderStart: number; styleAndLayoutStart: number; startTime: number; blockingDuration: number; scripts: Array<{ duration: number; invoker: string; sourceFunctionName: string; sourceCharPosition: number; forcedStyleAndLayoutDuration: number }> }>) {
          if (e.blockingDuration === 0) continue;
          const scripts = e.scripts.map((s) => `${s.invoker}:${s.sourceFunctionName}@${s.sourceCharPosition} ${Math.round(s.duration)} ms (forced layout ${Math.round(s.forcedStyleAndLayoutDuration)})`).join('; ');
          f.longFrames.push(`${Math.round(e.duration)} ms frame, render ${Math.round(e.startTime + e.duration - e.renderStart)} ms, style+layout ${Math.round(e.startTime + e.duration - e.styleAndLayoutStart)} ms: ${scripts || 'no script'}`);
        }
      }).observe({ type: 'long-animation-frame', buffered: false });
    });
    // the machine's own share: a page in the same browser doing a fixed 10 ms of work every 100 ms; a
    // long task there is a 10 ms task stretched by the CPU the ward's processes take, not page code
    const idle = await (await browser.newContext()).newPage();
    await idle.goto('about:blank');
    await idle.evaluate(() => {
      const w = globalThis as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) w.longTasks.push(e.duration);
      }).observe({ type: 'longtask', buffered: false });
      setInterval(() => {
        const end = performance.now() + 10;
        while (performance.now() < end);
      }, 100);
    });
    // the reference: the same stream, read by a plain client here
    const login = (await (await fetch(`${hostUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ana', password }) })).json()) as { token: string };
    const stream: number[] = [];
    let measuring = false;
    const ws = new WebSocket(`${hostUrl.replace('http', 'ws')}/api/stream?token=${login.token}`, { headers: { origin: hostUrl } });
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; clock?: string; t0?: number; columns?: Array<{ dt: number; values: Array<number | null> }> };
      if (!measuring || m.type !== 'vitals' || m.clock !== 'utc') return;
      const newest = Math.max(...m.columns!.map((c) => m.t0! + (c.values.length - 1) * c.dt));
      stream.push(Date.now() - newest);
    });
    await sleep(30_000); // every gateway connecting at once is the start, not the steady ward
    await page.evaluate(() => {
      (globalThis as unknown as { vigilLatency: number[] }).vigilLatency.length = 0;
      (globalThis as unknown as { longTasks: number[] }).longTasks.length = 0;
      (globalThis as unknown as { longFrames: string[] }).longFrames.length = 0;
    });
    await idle.evaluate(() => void ((globalThis as unknown as { longTasks: number[] }).longTasks.length = 0));
    measuring = true;
    await sleep(windowS * 1000);
    measuring = false;
    const shown = await page.evaluate(() => [...(globalThis as unknown as { vigilLatency: number[] }).vigilLatency]);
    const tiles = await page.evaluate(() => ({ tiles: document.querySelectorAll('.tile').length, live: document.querySelectorAll('.fresh[data-live="yes"]').length, banner: document.querySelector('.banner')?.textContent ?? '' }));
    if (shown.length === 0) throw new Error(`${n} gateways: the page showed no batch in ${windowS} s (${tiles.tiles} tiles, ${tiles.live} live; ${tiles.banner || 'no banner'})`);
    const longTasks = await page.evaluate(() => [...(globalThis as unknown as { longTasks: number[] }).longTasks]);
    if (process.env.VIGIL_STATION_FRAMES) for (const f of await page.evaluate(() => (globalThis as unknown as { longFrames: string[] }).longFrames)) console.error(`${n}: ${f}`);
    const idleLongTasks = await idle.evaluate(() => [...(globalThis as unknown as { longTasks: number[] }).longTasks]);
    ws.close();
    return { n, shown, stream, longTasks, idleLongTasks };
  } finally {
    await browser.close();
    stop.abort();
    await run.catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchStation(): Promise<string> {
  const sizes = (process.env.VIGIL_STATION_SIZES ?? '200,1000').split(',').map(Number);
  const windowS = Number(process.env.VIGIL_STATION_SECONDS ?? 60);
  const per = process.env.VIGIL_STATION_PER === undefined ? undefined : Number(process.env.VIGIL_STATION_PER);
  const rows: string[][] = [['gateways', 'batches shown', 'sample→display p50', 'p99', 'stream p50', 'p99', 'display/stream p99', 'long tasks >50 ms', 'longest task', '10 ms tasks stretched >50 ms', 'longest']];
  for (const n of sizes) {
    const f = await measure(n, windowS, per);
    rows.push([
      String(n),
      String(f.shown.length),
      `${fmt(pct(f.shown, 50))} ms`,
      `${fmt(pct(f.shown, 99))} ms`,
      `${fmt(pct(f.stream, 50))} ms`,
      `${fmt(pct(f.stream, 99))} ms`,
      `×${(pct(f.shown, 99) / pct(f.stream, 99)).toFixed(2)}`,
      String(f.longTasks.length),
      f.longTasks.length === 0 ? '—' : `${fmt(Math.max(...f.longTasks))} ms`,
      String(f.idleLongTasks.length),
      f.idleLongTasks.length === 0 ? '—' : `${fmt(Math.max(...f.idleLongTasks))} ms`,
    ]);
  }
  return `${table(rows)}\nsample→display includes the batch interval (5 s batches: the newest sample of a batch waits up to one sample period, 1 s, before the batch goes out); window ${windowS} s after a 30 s warm-up; ${per ?? 60} beds per page`;
}
