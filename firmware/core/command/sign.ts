/**
 * The signer's side of commands and trust lists, pure so that the host, the `vigil` tools and the
 * tests (in Node and XS) build byte-identical messages. The private key never enters here: a
 * `SigningKey` carries only a sign function (node:crypto on the host, noble in tests).
 * Not part of the gateway's build: the gateway only verifies.
 */
import { encodeClaims, type CommandClaims } from './claims.js';
import { encodeSign, encodeSign1, protectedHeader, sigStructure, sigStructure1 } from './cose.js';
import { encodeTrustPayload, type TrustListContent } from './trust.js';

export interface SigningKey {
  readonly kid: Uint8Array;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** COSE_Sign1 by one signer, or COSE_Sign (RFC 9052 §4.1) when a second person co-signs. */
export function signCommand(claims: CommandClaims, signer: SigningKey, cosigner?: SigningKey): Uint8Array {
  const payload = encodeClaims(claims);
  if (cosigner === undefined) {
    const prot = protectedHeader(signer.kid);
    return encodeSign1(prot, payload, signer.sign(sigStructure1(prot, payload)));
  }
  const body = new Uint8Array(0);
  return encodeSign(
    payload,
    [signer, cosigner].map((k) => {
      const prot = protectedHeader(k.kid);
      return { protected: prot, signature: k.sign(sigStructure(body, prot, payload)) };
    }),
  );
}

export function signTrustList(content: TrustListContent, root: SigningKey): Uint8Array {
  const payload = encodeTrustPayload(content);
  const prot = protectedHeader(root.kid);
  return encodeSign1(prot, payload, root.sign(sigStructure1(prot, payload)));
}
