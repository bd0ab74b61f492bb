/**
 * Ed25519 and COSE vectors, as cases any verifier can run: Wycheproof (150), speccheck (12) and the
 * COSE example. Expected verdicts follow libsodium's policy (shared/vectors/README.md).
 */
import { fromHex, toHex } from '../../firmware/core/hex.js';
import { parseCose, type Ed25519Verify } from '../../firmware/core/command/index.js';
import cose from '../vectors/cose-eddsa-sig-01.json' with { type: 'json' };
import speccheck from '../vectors/ed25519-speccheck-cases.json' with { type: 'json' };
import wycheproof from '../vectors/wycheproof-ed25519.json' with { type: 'json' };

export interface SigVector {
  readonly name: string;
  readonly publicKey: string;
  readonly message: string;
  readonly signature: string;
  /** The verdict under libsodium's policy. */
  readonly valid: boolean;
}

/** Speccheck ("Taming the many EdDSAs"): under the strict policy only case 3 verifies. */
const SPECCHECK_VALID = new Set([3]);

export const sigVectors: readonly SigVector[] = [
  ...wycheproof.testGroups.flatMap((g) =>
    g.tests.map((t) => ({
      name: `wycheproof ${t.tcId}${t.comment ? ` (${t.comment})` : ''}`,
      publicKey: g.publicKey.pk,
      message: t.msg,
      signature: t.sig,
      // Every Wycheproof verdict agrees with the strict policy: no 'valid' case is refused by it.
      valid: t.result === 'valid',
    })),
  ),
  ...speccheck.map((c, i) => ({ name: `speccheck ${i}`, publicKey: c.pub_key, message: c.message, signature: c.signature, valid: SPECCHECK_VALID.has(i) })),
];

const bytes = (hex: string): Uint8Array => {
  const b = fromHex(hex);
  if (b === undefined) throw new Error(`bad hex in a vector: ${hex.slice(0, 16)}…`);
  return b;
};

/** Runs every signature vector through `verify`; returns the names of those whose verdict differs. */
export function sigVectorMismatches(verify: Ed25519Verify): string[] {
  return sigVectors.filter((v) => verify(bytes(v.signature), bytes(v.message), bytes(v.publicKey)) !== v.valid).map((v) => v.name);
}

export interface CoseOutcome {
  readonly toBeSigned: string;
  readonly expectedToBeSigned: string;
  readonly verified: boolean;
  readonly tamperedVerified: boolean;
}

/** The COSE example: parse, rebuild ToBeSign byte for byte, verify, and verify once more after a flip. */
export function runCoseVector(verify: Ed25519Verify): CoseOutcome {
  const message = bytes(cose.output.cbor);
  const parsed = parseCose(message, { unprotectedKid: true }); // the public example puts kid in the unprotected header
  if (!parsed.ok) throw new Error(`COSE example refused: ${parsed.error.reason}: ${parsed.error.detail}`);
  const signer = parsed.value.signers[0]!;
  const key = bytes(cose.input.sign0.key.x_hex);
  const tampered = signer.toBeSigned.slice();
  tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
  return {
    toBeSigned: toHex(signer.toBeSigned),
    expectedToBeSigned: cose.intermediates.ToBeSign_hex.toLowerCase(),
    verified: verify(signer.signature, signer.toBeSigned, key),
    tamperedVerified: verify(signer.signature, tampered, key),
  };
}
