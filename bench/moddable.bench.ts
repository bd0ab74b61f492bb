/**
 * The firmware on Moddable's own runtime, for the figures the XS-in-Node harness can only estimate:
 *  - Vigil's native Ed25519 verify (libsodium through the XS binding, bench/moddable/main.ts) on
 *    Moddable's Linux runtime, against node:crypto verify of the same vector in this process;
 *  - the gateway's XS heap high-water and linked archive size are measured by the firmware's own run
 *    (test/services/moddable-lin.test.ts writes .tmp/moddable-lin.json; shown here when present).
 * Needs the SDK tools (bash .ci/moddable-sdk prints the MODDABLE to export); says so when they are missing.
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMcsim, stopGroup } from '../cli/firmware/run.js';
import { missingRuntime, missingToolchain, toolPath } from '../cli/firmware/toolchain.js';
import { fmt, rate, table } from './measure.js';

const PUB = Buffer.from('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', 'hex');
const MSG = Buffer.from('72', 'hex');
const SIG = Buffer.from('92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00', 'hex');

function runApp(app: string, env: NodeJS.ProcessEnv): Promise<string> {
  const sim = startMcsim(app, env);
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopGroup(sim);
      reject(new Error(`the bench app did not finish in 120 s:\n${text}`));
    }, 120_000);
    sim.stdout!.on('data', (b: Buffer) => {
      text += b.toString('utf8');
      if (text.includes('vigil-bench done')) {
        clearTimeout(timer);
        void stopGroup(sim).then(() => resolve(text));
      }
    });
  });
}

export async function benchModdable(): Promise<string> {
  const missing = [...missingToolchain(process.env, 'lin'), ...missingRuntime(process.env)];
  if (missing.length > 0) return `not run: the Moddable SDK tools are missing (bash .ci/moddable-sdk):\n  - ${missing.join('\n  - ')}`;
  const env = { ...process.env, PATH: toolPath(process.env) };
  const out = mkdtempSync(join(tmpdir(), 'vigil-bench-moddable-'));
  try {
    const manifest = fileURLToPath(new URL('./moddable/manifest.json', import.meta.url));
    const built = spawnSync('mcconfig', ['-m', '-p', 'lin', '-t', 'build', '-o', out, manifest], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (built.status !== 0) throw new Error(`mcconfig failed:\n${(built.stdout + built.stderr).slice(-3000)}`);
    const text = await runApp(join(out, 'bin', 'lin', 'mc', 'release', 'moddable', 'mc.so'), env);
    const cases = new Map<string, { calls: number; ms: number; yes: number }>();
    for (const m of text.matchAll(/vigil-bench (\S+) (\d+) (\d+) (\d+)/g)) cases.set(m[1]!, { calls: Number(m[2]), ms: Number(m[3]), yes: Number(m[4]) });
    const valid = cases.get('valid');
    const refused = cases.get('refused');
    if (valid === undefined || refused === undefined || valid.yes !== valid.calls || refused.yes !== 0) throw new Error(`the bench app's verdicts are wrong:\n${text}`);
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: PUB.toString('base64url') }, format: 'jwk' });
    const node = rate(() => nodeVerify(null, MSG, key, SIG), 800).opsPerSecond;
    const usNative = (valid.ms * 1000) / valid.calls;
    const usNode = 1e6 / node;
    const rows = [
      ['native module on Moddable (lin, release), valid', `${fmt(usNative)} µs`, `${(usNative / usNode).toFixed(2)} × node:crypto`],
      ['native module on Moddable, refused (one bit)', `${fmt((refused.ms * 1000) / refused.calls)} µs`, ''],
      ['node:crypto verify, this process (reference)', `${fmt(usNode)} µs`, '1.00'],
    ];
    let report = `Ed25519 verify, RFC 8032 test 2, ${valid.calls} calls timed with Time.ticks\n${table([['verify', 'per call', 'ratio'], ...rows])}`;
    const figures = fileURLToPath(new URL('../.tmp/moddable-lin.json', import.meta.url));
    if (existsSync(figures)) report += `\n\nthe gateway on Moddable's runtime (last services run, .tmp/moddable-lin.json):\n${readFileSync(figures, 'utf8')}`;
    return report;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
