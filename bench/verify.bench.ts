/**
 * Ed25519 verification figures for the issue note:
 *  - host: the policy verifier (pre-checks + node:crypto) against raw node:crypto verify, same run;
 *  - XS: Vigil's pure-TS verifier against plain noble, in computrons (deterministic), for the first
 *    call and warm, and the heap each keeps after the first call (XS heap slots, after a GC);
 *  - the size of the command module bundled for the gateway.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { fromHex } from '../firmware/core/hex.js';
import { createNodeEd25519Verify, createRawNodeVerify } from '../host/crypto/ed25519.js';
import { startXs } from '../test/xs/harness.js';
import { compare, fmt, table } from './measure.js';

const PUB = fromHex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c')!;
const MSG = fromHex('72')!;
const SIG = fromHex('92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00')!;

async function xsFigures(entry: string) {
  const xs = await startXs(fileURLToPath(new URL(entry, import.meta.url)));
  try {
    const before = await xs.call('gc');
    const first = await xs.call<number>('verify', 1);
    const after = await xs.call('gc');
    const WARM = 10;
    const warm = await xs.call<number>('verify', WARM);
    if (first.result !== 1 || warm.result !== WARM) throw new Error(`${entry}: the RFC 8032 vector did not verify`);
    return { first: first.compute, warm: warm.compute / WARM, retained: after.heapCount - before.heapCount, bundle: xs.bundleBytes };
  } finally {
    await xs.close();
  }
}

async function bundleSize(entry: string, minify: boolean, external: string[] = []): Promise<number> {
  const r = await build({ entryPoints: [fileURLToPath(new URL(entry, import.meta.url))], bundle: true, write: false, format: 'esm', platform: 'neutral', target: 'es2022', minify, external, logLevel: 'silent' });
  return r.outputFiles[0]!.contents.length;
}

export async function benchVerify(): Promise<string> {
  const policy = createNodeEd25519Verify();
  const raw = createRawNodeVerify();
  const host = compare(() => policy(SIG, MSG, PUB), () => raw(SIG, MSG, PUB));

  const vigil = await xsFigures('./xs/verify-vigil.entry.ts');
  const noble = await xsFigures('./xs/verify-noble.entry.ts');

  const gate = await bundleSize('../firmware/core/command/index.ts', false);
  const gateMin = await bundleSize('../firmware/core/command/index.ts', true);
  const withVerifier = await bundleSize('../firmware/crypto/ed25519.ts', true);

  return [
    'Host: Ed25519 verify with the policy pre-checks against raw node:crypto, same process (ops/s)',
    table([
      ['verifier', 'ops/s', 'vs raw'],
      ['raw node:crypto verify', fmt(host.b), '1.00'],
      ['policy + node:crypto (host)', fmt(host.a), host.ratio.toFixed(2)],
    ]),
    '',
    'XS: pure-TS verify, computrons per verify and heap slots kept after the first call (deterministic)',
    table([
      ['verifier', 'first call', 'warm', 'first / noble warm', 'heap kept'],
      ['@noble/ed25519 verify', fmt(noble.first), fmt(noble.warm), (noble.first / noble.warm).toFixed(2), fmt(noble.retained)],
      ['vigil (firmware/crypto)', fmt(vigil.first), fmt(vigil.warm), (vigil.first / noble.warm).toFixed(2), fmt(vigil.retained)],
    ]),
    `vigil / noble: warm compute ${(vigil.warm / noble.warm).toFixed(2)}, first-call compute ${(vigil.first / noble.warm).toFixed(2)} of noble's warm, heap kept ${(vigil.retained / noble.retained).toFixed(3)}`,
    '',
    'Bundle sizes (esbuild, ES2022)',
    table([
      ['bundle', 'bytes'],
      ['command module (core/command + cbor), plain', fmt(gate)],
      ['command module, minified', fmt(gateMin)],
      ['pure-TS verifier with noble + sha512, minified', fmt(withVerifier)],
    ]),
  ].join('\n');
}
