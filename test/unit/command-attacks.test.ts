/**
 * Issue 10 items 1–6: attacks on the command gate and the trust list, each with its exact reason.
 * The same cases run in XS (test/xs/command.xs.test.ts). The commands an independent COSE library
 * signs (@auth0/cose) go through the gate with the pure-TS and the host's verifier here, in XS there,
 * and through libsodium in test/services/native-ed25519.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { decode, type CborTag } from '../../firmware/core/cbor/index.js';
import { parseCose, createCommandGate } from '../../firmware/core/command/index.js';
import { toHex } from '../../firmware/core/hex.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { createNodeEd25519Verify } from '../../host/crypto/ed25519.js';
import { attackCases, runAttackProperties, submitForeign } from '../portable/command-attacks.js';
import { GATEWAY, NOW, profile, SERIAL, trustList } from '../portable/command-cases.js';
import { foreignCommands } from '../support/foreign-cose.js';

describe('attacks on the command gate and the trust list (issue 10, items 1-6)', () => {
  it.each(attackCases().map((k) => [`${k.item}. ${k.name}`, k] as const))('%s', (_name, k) => {
    const out = k.run();
    expect(out.accepted ? 'accepted' : out.reason, out.detail).toBe(k.expect);
    if (k.detail !== undefined) expect(out.detail).toMatch(new RegExp(k.detail));
    // no reason ever carries a raw control character
    expect(out.detail).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  });

  it('forwards 0 as 0, never as -0', () => {
    const zero = attackCases().find((k) => k.name.startsWith('an offset of 0 '))!.run();
    expect(zero.forwarded).toBe('offset=0');
  });

  it.each(runAttackProperties(0xa77ac, 300).map((r) => [r.name, r] as const))('property: %s', (_name, r) => {
    expect(r, `counterexample ${r.counterexample}: ${r.error}`).toMatchObject({ failed: false });
    expect(r.numRuns).toBeGreaterThanOrEqual(100);
  });
});

describe('commands signed by an independent COSE library (@auth0/cose)', () => {
  it('its headers are the RFC 9052 §3 forms Vigil never writes: kid before alg, and h\'a0\'', async () => {
    const { sign1, sign } = await foreignCommands();
    const one = decode(sign1, { tags: [18] });
    const two = decode(sign, { tags: [98] });
    if (!one.ok || !two.ok) throw new Error('the foreign commands are not CBOR of the profile');
    const [prot1] = (one.value as CborTag).value as Uint8Array[];
    const [body, , , sigs] = (two.value as CborTag).value as [Uint8Array, unknown, unknown, Uint8Array[][]];
    expect(toHex(prot1!)).toMatch(/^a204/); // a map of two, kid (4) first: not the deterministic order
    expect(toHex(body)).toBe('a0'); // the empty body header as an empty map
    for (const s of sigs) expect(toHex(s[0]!)).toMatch(/^a204/);
  });

  it.each([
    ['the pure-TS verifier', ed25519Verify],
    ['the host verifier (node:crypto)', createNodeEd25519Verify()],
  ] as const)('are accepted by the gate with %s', async (_name, verify) => {
    const { sign1, sign } = await foreignCommands();
    const gate = () => createCommandGate({ gateway: GATEWAY, serial: SERIAL, profile: profile(), verify }, { lastCounter: 5, nonce: Uint8Array.from({ length: 16 }, (_, i) => i + 1) }, trustList());
    const input = (bytes: Uint8Array, rate: number) => ({ bytes, nowUnix: NOW, nowMs: 0, current: new Map([['rate', rate]]), freshNonce: new Uint8Array(16) });
    const one = gate().submit(input(sign1, 50));
    const two = gate().submit(input(sign, 480));
    expect([one.accepted, two.accepted], JSON.stringify([one, two].map((d) => (d.accepted ? 'ok' : `${d.reason}: ${d.detail}`)))).toEqual([true, true]);
  });

  it('and the same bytes through submitForeign (what XS runs) are accepted', async () => {
    const { sign1, sign } = await foreignCommands();
    expect(submitForeign(toHex(sign1), false)).toMatchObject({ accepted: true });
    expect(submitForeign(toHex(sign), true)).toMatchObject({ accepted: true });
    expect(parseCose(sign).ok).toBe(true);
  });
});
