import { describe, expect, it } from 'vitest';
import { publicKeyProblem } from '../../firmware/core/command/index.js';
import { fromHex } from '../../firmware/core/hex.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { createNodeEd25519Verify } from '../../host/crypto/ed25519.js';
import { runCoseVector, sigVectorMismatches, sigVectors } from '../portable/ed25519-vectors.js';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

ed.hashes.sha512 = sha512;

const verifiers = { 'pure-TS (firmware/crypto)': ed25519Verify, 'node:crypto with pre-checks (host)': createNodeEd25519Verify() };

describe.each(Object.entries(verifiers))('%s verifier', (_name, verify) => {
  it('gives the policy verdict on all 162 Wycheproof and speccheck cases', () => {
    expect(sigVectors.length).toBe(162);
    expect(sigVectorMismatches(verify)).toEqual([]);
  });

  it('rebuilds the COSE example ToBeSign byte for byte and verifies it, and not a tampered one', () => {
    const r = runCoseVector(verify);
    expect(r.toBeSigned).toBe(r.expectedToBeSigned);
    expect(r.verified).toBe(true);
    expect(r.tamperedVerified).toBe(false);
  });

  it('rejects inputs of the wrong length without throwing', () => {
    expect(verify(new Uint8Array(63), new Uint8Array(0), new Uint8Array(32))).toBe(false);
    expect(verify(new Uint8Array(64), new Uint8Array(0), new Uint8Array(31))).toBe(false);
  });
});

describe('why the pure-TS verifier is not plain noble', () => {
  it('noble with zip215: false accepts speccheck cases 2, 4 and 5 (small-order R, cofactored equation); the policy refuses them', () => {
    const accepted = sigVectors
      .filter((v) => v.name.startsWith('speccheck'))
      .filter((v) => {
        try {
          return ed.verify(fromHex(v.signature)!, fromHex(v.message)!, fromHex(v.publicKey)!, { zip215: false });
        } catch {
          return false;
        }
      })
      .map((v) => v.name);
    expect(accepted).toEqual(['speccheck 2', 'speccheck 3', 'speccheck 4', 'speccheck 5']);
  });
});

describe('enrolment refuses weak public keys', () => {
  it.each([
    ['small order (order 8)', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', 'small-order'],
    ['identity', '0100000000000000000000000000000000000000000000000000000000000000', 'small-order'],
    ['non-canonical y = p + 1', 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'non-canonical'],
    ['31 bytes', '00'.repeat(31), 'wrong-length'],
  ])('%s', (_name, hex, problem) => {
    expect(publicKeyProblem(fromHex(hex)!)).toBe(problem);
  });

  it('accepts a real key', () => {
    expect(publicKeyProblem(fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')!)).toBeUndefined();
  });
});
