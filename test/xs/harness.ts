/**
 * Runs bundles of firmware code in Moddable's XS engine (through @agoric/xsnap, which compiles XS
 * from Moddable's sources at npm install) and reports XS's deterministic metering per call:
 * `compute` (computrons, the count of XS byte-code steps) and the heap slot count. These numbers do
 * not depend on the machine's load, so later issues can track firmware cost in them.
 */
import '@endo/init';
import { xsnap } from '@agoric/xsnap';
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export interface XsCall<T> {
  readonly result: T;
  /** XS computrons spent by this call alone. */
  readonly compute: number;
  /** XS heap slots in use after the call. */
  readonly heapCount: number;
}

export interface XsSession {
  /** Size of the bundle evaluated in XS, in bytes. */
  readonly bundleBytes: number;
  call<T>(method: string, ...args: unknown[]): Promise<XsCall<T>>;
  close(): Promise<void>;
}

/** Bundles `entry` (a module that calls `serve` from ./bridge.ts) for XS: one ES2022 script, no Node built-ins. */
export async function bundleForXs(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    logLevel: 'silent',
  });
  const file = out.outputFiles[0];
  if (file === undefined) throw new Error(`esbuild produced nothing for ${entry}`);
  return file.text;
}

export async function startXs(entry: string | URL): Promise<XsSession> {
  const path = entry instanceof URL ? fileURLToPath(entry) : entry;
  const source = await bundleForXs(path);
  const worker = await xsnap({
    name: 'vigil-xs-test',
    os: os.type(),
    spawn,
    // xsnap wants tmpName only for snapshots kept in files, which the harness does not use
    fs: { ...fs, ...fs.promises } as never,
    stderr: 'inherit',
    stdout: 'inherit',
    meteringLimit: 0,
  }).catch((e: unknown) => {
    throw new Error(
      `could not start the XS worker (@agoric/xsnap builds it at npm install; run "npm rebuild @agoric/xsnap"): ${String(e)}`,
    );
  });
  await worker.evaluate(source);
  return {
    bundleBytes: Buffer.byteLength(source),
    async call<T>(method: string, ...args: unknown[]): Promise<XsCall<T>> {
      const { reply, meterUsage } = await worker.issueStringCommand(JSON.stringify({ method, args }));
      const parsed = JSON.parse(reply) as { result?: T; thrown?: string };
      if (parsed.thrown !== undefined) throw new Error(`XS threw in ${method}: ${parsed.thrown}`);
      return { result: parsed.result as T, compute: meterUsage.compute ?? -1, heapCount: meterUsage.currentHeapCount ?? -1 };
    },
    close: () => worker.close(),
  };
}
