/**
 * The whole gateway core (gateway, command gate, vitals log, device link, codecs) driven through a
 * scripted hour in Moddable's XS engine: an outage, reconnect and drain, commands, a change at the
 * device, device silence. It must produce exactly the effects it produces in Node (a digest over every
 * effect, in order). Reports bundle size, XS compute per simulated hour and heap figures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { runGatewayScenario, type ScenarioReport } from '../portable/gateway-scenario.js';
import { trustList } from '../portable/command-cases.js';
import { toHex } from '../../firmware/core/hex.js';
import { startXs, type XsSession } from './harness.js';

let xs: XsSession;
const lines: string[] = [];

beforeAll(async () => {
  xs = await startXs(new URL('./gateway.entry.ts', import.meta.url));
});

afterAll(async () => {
  await xs?.close();
  if (lines.length > 0) console.log(`XS metering, gateway core\n${lines.join('\n')}`);
});

/** The same hour with no signing inside XS, to see the heap of what runs on a gateway. */
async function heapWithoutSigning(): Promise<{ peak: number; retained: number; gateway: number }> {
  await xs.call('gc');
  const base = (await xs.call('gc')).heapCount;
  await xs.call('create', 60, toHex(trustList().bytes));
  let peak = 0;
  for (let m = 1; m <= 60; m++) peak = Math.max(peak, (await xs.call('advance', m * 60_000)).heapCount - base);
  await xs.call('gc');
  const retained = (await xs.call('gc')).heapCount - base;
  await xs.call('keepGatewayOnly');
  await xs.call('gc');
  const withGateway = (await xs.call('gc')).heapCount;
  await xs.call('dropGateway');
  await xs.call('gc');
  const without = (await xs.call('gc')).heapCount;
  return { peak, retained, gateway: withGateway - without };
}

describe('the gateway core in XS', () => {
  it('runs an hour of simulated time producing exactly the effects it produces in Node', async () => {
    const node = runGatewayScenario(60);
    expect(node.missing).toBe(0);
    expect(node.results).toEqual(['accepted', 'applied', 'rejected:replay']);
    expect(node.events).toEqual(expect.arrayContaining(['device-silent', 'device-back', 'local-setting-change', 'cmd-rejected']));
    expect(node.published['history']).toBeGreaterThan(0);
    // the birth reports the device's present settings: the signed change and the change made at the device
    expect(JSON.parse(node.settings)).toMatchObject({ hrHigh: 130, spo2Low: 88 });

    // step through the hour a minute at a time, sampling the heap, so the peak is seen
    await xs.call('gc');
    const base = (await xs.call('gc')).heapCount;
    await xs.call('create', 60);
    let compute = 0;
    let peak = 0;
    for (let m = 1; m <= 60; m++) {
      const c = await xs.call('advance', m * 60_000);
      compute += c.compute;
      peak = Math.max(peak, c.heapCount - base);
    }
    const report = await xs.call<ScenarioReport>('report');
    expect(report.result).toEqual(node);
    await xs.call('gc');
    const retained = (await xs.call('gc')).heapCount - base;
    await xs.call('drop');
    const heap = await heapWithoutSigning();
    const core = await build({ entryPoints: [fileURLToPath(new URL('../../firmware/core/gateway/index.ts', import.meta.url))], bundle: true, write: false, format: 'esm', platform: 'neutral', target: 'es2022', minify: true, logLevel: 'silent' });
    lines.push(
      `${compute} computrons per simulated hour (gateway, device simulator, line, emulated flash and stand-in host together)`,
      `heap with the commands signed in XS (noble's signing table included): peak ${peak} slots above the empty worker, ${retained} retained after GC`,
      `heap without signing in XS (trust list signed in Node): peak ${heap.peak} slots, ${heap.retained} retained after GC with the simulated device, lines and stand-in host`,
      `heap kept by the gateway alone after an hour (core, log, link, gate, batcher; after GC): ${heap.gateway} slots = ${Math.round((heap.gateway * 16) / 1024)} KB at 16 bytes a slot on the ESP32`,
      `gateway core bundle (minified, ES2022, without the pure-TS verifier): ${core.outputFiles[0]!.contents.length} bytes; test bundle ${xs.bundleBytes} bytes`,
    );
  }, 240_000);
});
