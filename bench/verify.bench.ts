/**
 * Ed25519 verification figures for the issue note:
 *  - host: the policy verifier (pre-checks + node:crypto) against raw node:crypto verify, same run;
 *  - XS: Vigil's pure-TS verifier against plain noble, in computrons (deterministic), for the first
 *    call and warm, and the heap each keeps after the first call (XS heap slots, after a GC);
 *  - the size of the command module bundled for the gateway.
 */
import { build } from 'esbuild';
import { createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { acceptTrustList, createCommandGate, parseCose, parseProfile, signCommand, signTrustList, type SigningKey } from '../firmware/core/command/index.js';
import { fromHex } from '../firmware/core/hex.js';
import pumpProfile from '../firmware/profiles/generic-pump-v1.json' with { type: 'json' };
import { createNodeEd25519Verify, createRawNodeVerify } from '../host/crypto/ed25519.js';
import { kidOf } from '../host/signing/keys.js';
import { startXs } from '../test/xs/harness.js';
import { compare, compareCpu, fmt, table } from './measure.js';

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

function nodeKey(): SigningKey & { readonly publicKeyObject: ReturnType<typeof createPublicKey> } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'));
  return { kid: kidOf(raw), publicKey: raw, publicKeyObject: publicKey, sign: (m) => new Uint8Array(nodeSign(null, m, privateKey)) };
}

/**
 * A whole signed command as the gate receives it (COSE decode, trust and policy checks, claims, the
 * safety envelope, the signature through the host verifier, the state it keeps), at one long-lived
 * gate that accepts a stream of fresh commands (each carries the nonce the one before left), against
 * raw node:crypto verify of the same signatures over the same bytes: CPU time over interleaved rounds.
 */
function wholeCommand(): { gate: number; raw: number; ratio: number; bytes: number } {
  const root = nodeKey();
  const nurse = nodeKey();
  const trustBytes = signTrustList(
    { site: 'ward-7', epoch: 1, issued: 1_790_000_000, signers: [{ kid: nurse.kid, key: nurse.publicKey, person: 'nurse.ada', roles: ['nurse'] }], revoked: [], grants: new Map([['nurse', ['pump.rate']]]), cosign: new Map() },
    root,
  );
  const verify = createNodeEd25519Verify();
  const trust = acceptTrustList(trustBytes, root.publicKey, undefined, verify);
  const profile = parseProfile(pumpProfile);
  if (!trust.ok || !profile.ok) throw new Error('bench setup');
  const nonceOf = (i: number) => Uint8Array.from({ length: 16 }, (_, k) => (i * 7 + k) & 0xff);
  const N = 1024;
  const stream = Array.from({ length: N }, (_, i) =>
    signCommand(
      { gateway: 'gw-bed-12', serial: 'PUMP-0042', counter: i + 1, iat: 1_790_000_000, exp: 1_790_000_300, nonce: nonceOf(i), epoch: 1, op: 'set', params: new Map([['rate', { value: 60 + (i % 5), unit: 'mL/h' }]]), orderId: `ORD-${i}`, clinician: 'nurse.ada' },
      nurse,
    ),
  );
  const config = { gateway: 'gw-bed-12', serial: 'PUMP-0042', profile: profile.value, verify };
  let gate = createCommandGate(config, { lastCounter: 0, nonce: nonceOf(0) }, trust.value);
  let i = 0;
  const current = new Map([['rate', 60]]);
  const submit = () => {
    if (i === N) {
      gate = createCommandGate(config, { lastCounter: 0, nonce: nonceOf(0) }, trust.value); // once per 1,024 commands
      i = 0;
    }
    const d = gate.submit({ bytes: stream[i]!, nowUnix: 1_790_000_010, nowMs: i * 3_600_000, current, freshNonce: nonceOf(i + 1) });
    if (!d.accepted) throw new Error(`bench command ${i} refused: ${d.reason}: ${d.detail}`);
    i++;
  };
  const signed = stream.map((b) => {
    const p = parseCose(b);
    if (!p.ok) throw new Error('bench setup');
    return p.value.signers[0]!;
  });
  let j = 0;
  const rawVerify = () => {
    const s = signed[j]!;
    j = (j + 1) % N;
    if (!nodeVerify(null, s.toBeSigned, nurse.publicKeyObject, s.signature)) throw new Error('raw verify failed');
  };
  const r = compareCpu(submit, rawVerify);
  return { gate: r.a, raw: r.b, ratio: r.ratio, bytes: stream[0]!.length };
}

export async function benchVerify(): Promise<string> {
  const policy = createNodeEd25519Verify();
  const raw = createRawNodeVerify();
  const host = compare(() => policy(SIG, MSG, PUB), () => raw(SIG, MSG, PUB));
  const whole = wholeCommand();

  const vigil = await xsFigures('./xs/verify-vigil.entry.ts');
  const noble = await xsFigures('./xs/verify-noble.entry.ts');

  const gate = await bundleSize('../firmware/core/command/index.ts', false);
  const gateMin = await bundleSize('../firmware/core/command/index.ts', true);
  const withVerifier = await bundleSize('../firmware/platform/node/ed25519.ts', true);

  return [
    `A whole signed command (${whole.bytes} bytes, COSE_Sign1) through the gate with the host verifier, against raw node:crypto verify of the same signature, CPU time over 8 interleaved rounds (ops per CPU second)`,
    table([
      ['path', 'ops/CPU s', 'vs raw'],
      ['raw node:crypto verify of the ToBeSigned', fmt(whole.raw), '1.00'],
      ['gate.submit: COSE, trust, claims, envelope, verify', fmt(whole.gate), whole.ratio.toFixed(2)],
    ]),
    '',
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
