/**
 * The command module in Moddable's XS engine: the gate's cases, the Ed25519 and COSE vectors through
 * the pure-TS verifier, and the tamper and replay properties, each compared with Node's outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { commandCases, runCommandCase, type CommandOutcome } from '../portable/command-cases.js';
import { runCommandProperties } from '../portable/command-properties.js';
import type { PropertyReport } from '../portable/cbor-properties.js';
import { runCoseVector, type CoseOutcome } from '../portable/ed25519-vectors.js';
import { attackCases, runAttackCase, runAttackProperties, type AttackOutcome } from '../portable/command-attacks.js';
import { toHex } from '../../firmware/core/hex.js';
import { foreignCommands } from '../support/foreign-cose.js';
import { startXs, type XsSession } from './harness.js';

let xs: XsSession;
const metering: Array<{ case: string; compute: number; heapCount: number }> = [];
const cases = commandCases();
const attacks = attackCases();

beforeAll(async () => {
  xs = await startXs(new URL('./command.entry.ts', import.meta.url));
});

afterAll(async () => {
  await xs?.close();
  if (metering.length > 0) {
    const lines = metering.map((m) => `${String(m.compute).padStart(12)} ${String(m.heapCount).padStart(8)}  ${m.case}`);
    console.log(`XS metering, command suite (bundle ${xs.bundleBytes} bytes)\n     compute     heap  case\n${lines.join('\n')}`);
  }
});

describe('signed commands in XS', () => {
  it('builds the same cases as Node', async () => {
    expect((await xs.call<string[]>('caseNames')).result).toEqual(cases.map((k) => `${k.expect}: ${k.name}`));
  });

  it.each(cases.map((k, i) => [`${k.expect}: ${k.name}`, i] as const))('%s', async (name, i) => {
    const call = await xs.call<CommandOutcome>('run', i);
    metering.push({ case: name, compute: call.compute, heapCount: call.heapCount });
    expect(JSON.stringify(call.result)).toBe(JSON.stringify(runCommandCase(i)));
  });

  it('builds the same attack cases as Node', async () => {
    expect((await xs.call<string[]>('attackNames')).result).toEqual(attacks.map((k) => `${k.item}. ${k.expect}: ${k.name}`));
  });

  it.each(attacks.map((k, i) => [`${k.item}. ${k.expect}: ${k.name}`, i] as const))('attack %s', async (name, i) => {
    const call = await xs.call<AttackOutcome>('attack', i);
    metering.push({ case: `attack ${name}`, compute: call.compute, heapCount: call.heapCount });
    expect(JSON.stringify(call.result)).toBe(JSON.stringify(runAttackCase(i)));
  });

  it('passes the attack properties with the same seed as Node', async () => {
    const call = await xs.call<PropertyReport[]>('attackProperties', 0xa77ac, 60);
    metering.push({ case: 'attack properties, 60 runs', compute: call.compute, heapCount: call.heapCount });
    for (const r of call.result) expect(r, `${r.name}: ${r.counterexample} ${r.error}`).toMatchObject({ failed: false });
    expect(JSON.stringify(call.result)).toBe(JSON.stringify(runAttackProperties(0xa77ac, 60)));
  });

  it('accepts the commands an independent COSE library signed (kid before alg; h\'a0\')', async () => {
    const { sign1, sign } = await foreignCommands();
    const one = await xs.call<AttackOutcome>('foreign', toHex(sign1), false);
    const two = await xs.call<AttackOutcome>('foreign', toHex(sign), true);
    metering.push({ case: 'verify: a foreign COSE_Sign1', compute: one.compute, heapCount: one.heapCount });
    metering.push({ case: 'verify: a foreign COSE_Sign, two signatures', compute: two.compute, heapCount: two.heapCount });
    expect([one.result.accepted, two.result.accepted]).toEqual([true, true]);
  });

  it('the pure-TS verifier gives the policy verdict on all 162 signature vectors in XS', async () => {
    const call = await xs.call<string[]>('sigVectorMismatches');
    metering.push({ case: '162 Ed25519 vectors', compute: call.compute, heapCount: call.heapCount });
    expect(call.result).toEqual([]);
  });

  it('rebuilds the COSE example ToBeSign byte for byte in XS', async () => {
    const call = await xs.call<CoseOutcome>('cose');
    expect(call.result).toEqual(runCoseVector(ed25519Verify));
    expect(call.result.toBeSigned).toBe(call.result.expectedToBeSigned);
    expect(call.result.verified).toBe(true);
  });

  it('passes the tamper and replay properties with the same seed as Node', async () => {
    const call = await xs.call<PropertyReport[]>('properties', 0xc0de, 40);
    metering.push({ case: 'properties, 40 runs (10 model runs)', compute: call.compute, heapCount: call.heapCount });
    for (const r of call.result) expect(r, `${r.name}: ${r.counterexample} ${r.error}`).toMatchObject({ failed: false });
    expect(JSON.stringify(call.result)).toBe(JSON.stringify(runCommandProperties(0xc0de, 40)));
  });
});

describe('provisioning bundles in XS (what a site image does at boot)', () => {
  it('opens, and refuses, exactly as Node does: good, altered, another root, another site, a retired key epoch, empty', async () => {
    const { createPrivateKey, sign } = await import('node:crypto');
    const { newKeyPair, kidOf } = await import('../../host/signing/keys.js');
    const { openBundle, signBundle, signSiteKeyCert } = await import('../../firmware/core/provision/bundle.js');
    const key = () => {
      const pair = newKeyPair();
      const priv = createPrivateKey(pair.pem);
      return { kid: kidOf(pair.publicKey), publicKey: pair.publicKey, sign: (m: Uint8Array) => new Uint8Array(sign(null, m, priv)) };
    };
    const [root, otherRoot, siteKey] = [key(), key(), key()];
    const cert = (r: typeof root, epoch: number) => signSiteKeyCert({ site: 'ward-x', siteKey: siteKey.publicKey, epoch, issued: 1_790_000_000 }, r);
    const bundle = (over: object, c = cert(root, 1)) => {
      const r = signBundle({ site: 'ward-x', gateway: 'gw-3', issued: 1_790_000_000, broker: { url: 'mqtt://10.1.1.1:1883', username: 'gw-3', password: 's'.repeat(43) }, rootKey: root.publicKey, wifi: { ssid: 'devices', password: 'wpa2 secret' }, ...over }, siteKey, c);
      if (!r.ok) throw new Error(r.error);
      return r.value;
    };
    const good = bundle({});
    const altered = good.slice();
    altered[altered.length - 80] = altered[altered.length - 80]! ^ 1;
    const cases: Array<[string, Uint8Array, number]> = [
      ['good', good, 0],
      ['altered', altered, 0],
      ['another root', bundle({}, cert(otherRoot, 1)), 0],
      ['another site', bundle({ site: 'ward-y' }), 0],
      ['retired key epoch', good, 2],
      ['rotated key epoch', bundle({}, cert(root, 3)), 2],
      ['empty', new Uint8Array(0), 0],
    ];
    for (const [name, bytes, min] of cases) {
      const node = openBundle(bytes, 'ward-x', root.publicKey, ed25519Verify, min);
      const expected = node.ok ? { ok: true, epoch: node.value.siteEpoch, gateway: node.value.bundle.gateway, broker: node.value.bundle.broker, root: toHex(node.value.bundle.rootKey), wifi: node.value.bundle.wifi ?? null } : { ok: false, error: node.error };
      const call = await xs.call<unknown>('bundle', toHex(bytes), 'ward-x', toHex(root.publicKey), min);
      metering.push({ case: `bundle: ${name}`, compute: call.compute, heapCount: call.heapCount });
      expect(JSON.stringify(call.result), name).toBe(JSON.stringify(expected));
    }
    expect(openBundle(good, 'ward-x', root.publicKey, ed25519Verify).ok).toBe(true);
  });
});

