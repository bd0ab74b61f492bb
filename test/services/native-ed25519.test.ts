/**
 * The gateway's native Ed25519 binding, as far as this machine can take it without an ESP32:
 *  - ed25519.c compiles (-Wall -Wextra -Werror) against the XS headers @agoric/xsnap ships and
 *    Debian's libsodium-dev, so its use of the xsmc API and of libsodium type-checks;
 *  - libsodium's crypto_sign_verify_detached, the one call the binding makes, gives the policy's
 *    verdict on every Wycheproof and speccheck vector and on the COSE example.
 * Needs gcc and libsodium-dev (bash .ci/services-up installs them).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../firmware/core/hex.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { parseCose } from '../../firmware/core/command/index.js';
import cose from '../vectors/cose-eddsa-sig-01.json' with { type: 'json' };
import { sigVectors } from '../portable/ed25519-vectors.js';
import { keys } from '../portable/command-cases.js';
import { foreignCommands } from '../support/foreign-cose.js';
import { fromHex } from '../../firmware/core/hex.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const xsIncludes = join(root, 'node_modules/@agoric/xsnap/moddable/xs/includes');
const out = mkdtempSync(join(tmpdir(), 'vigil-native-'));

function requireTools(): void {
  const missing: string[] = [];
  if (spawnSync('gcc', ['--version']).status !== 0) missing.push('gcc');
  if (!existsSync('/usr/include/sodium.h')) missing.push('libsodium-dev');
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(' and ')}: install with "apt-get install ${missing.join(' ')}" (bash .ci/services-up does this)`);
  }
}

describe('native Ed25519 binding (libsodium)', () => {
  it('compiles against the XS headers and libsodium with warnings as errors', () => {
    requireTools();
    execFileSync('gcc', ['-c', '-Wall', '-Wextra', '-Werror', '-I', xsIncludes, '-o', join(out, 'ed25519.o'), join(root, 'firmware/platform/moddable/ed25519/ed25519.c')]);
    const symbols = execFileSync('nm', [join(out, 'ed25519.o')], { encoding: 'utf8' });
    expect(symbols).toMatch(/ T xs_vigil_ed25519_verify$/m); // the name ed25519.js binds with "@"
    expect(symbols).toMatch(/ U crypto_sign_verify_detached$/m);
  });

  it('verifies the commands an independent COSE library signed (kid before alg; h\'a0\'), as the gate parses them', async () => {
    requireTools();
    const bin = join(out, 'ed25519_vectors_foreign');
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, join(root, 'test/native/ed25519_vectors.c'), '-lsodium']);
    const { sign1, sign } = await foreignCommands();
    const lines: string[] = [];
    for (const [bytes, signers] of [[sign1, [keys.nurse]], [sign, [keys.physician, keys.pharmacist]]] as const) {
      const parsed = parseCose(bytes);
      if (!parsed.ok) throw new Error(`the gate's parser refused a foreign command: ${parsed.error.detail}`);
      parsed.value.signers.forEach((s, i) => {
        lines.push(`${toHex(signers[i]!.publicKey)} ${toHex(s.toBeSigned)} ${toHex(s.signature)} 1`);
        lines.push(`${toHex(signers[i]!.publicKey)} ${toHex(s.toBeSigned)}00 ${toHex(s.signature)} 0`);
      });
    }
    const run = spawnSync(bin, { input: `${lines.join('\n')}\n`, encoding: 'utf8' });
    expect(run.stdout.trim()).toBe(`checked ${lines.length}, mismatches 0`);
  });

  it('gives the policy verdict on all 162 signature vectors and on the COSE example', () => {
    requireTools();
    const bin = join(out, 'ed25519_vectors');
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, join(root, 'test/native/ed25519_vectors.c'), '-lsodium']);
    const parsed = parseCose(fromHex(cose.output.cbor)!, { unprotectedKid: true });
    if (!parsed.ok) throw new Error('COSE example refused');
    const signer = parsed.value.signers[0]!;
    const tampered = signer.toBeSigned.slice();
    tampered[0] = tampered[0]! ^ 1;
    const lines = [
      ...sigVectors.map((v) => `${v.publicKey || '-'} ${v.message || '-'} ${v.signature || '-'} ${v.valid ? 1 : 0}`),
      `${cose.input.sign0.key.x_hex} ${toHex(signer.toBeSigned)} ${toHex(signer.signature)} 1`,
      `${cose.input.sign0.key.x_hex} ${toHex(tampered)} ${toHex(signer.signature)} 0`,
    ];
    // the pure-TS verifier agrees on the two COSE lines too, so all three verifiers see the same verdicts
    expect(ed25519Verify(signer.signature, signer.toBeSigned, fromHex(cose.input.sign0.key.x_hex)!)).toBe(true);
    const run = spawnSync(bin, { input: `${lines.join('\n')}\n`, encoding: 'utf8' });
    expect(run.stdout.trim()).toBe(`checked ${lines.length}, mismatches 0`);
    expect(run.status).toBe(0);
  });
});
