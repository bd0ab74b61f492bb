/**
 * Commands signed by an independent COSE library (@auth0/cose, which encodes with cbor-x), to show
 * that Vigil's gate takes what RFC 9052 §3 says a recipient must take:
 *  - a protected header whose map keys are in the signer's order (kid before alg here), signed over
 *    those exact bytes;
 *  - a COSE_Sign whose empty body protected header is h'a0' (the library encodes an empty map).
 * Node only: the library uses WebCrypto. The bytes it makes are handed to XS and to the native verifier.
 */
import { Algorithms, Headers, Sign, Sign1 } from '@auth0/cose';
import { Encoder, Tag } from 'cbor-x';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { encodeClaims } from '../../firmware/core/command/index.js';
import { claims, keys } from '../portable/command-cases.js';

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** A node:crypto private key for one of the deterministic test keys. */
export function nodeKey(k: { secret: Uint8Array; publicKey: Uint8Array }): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64u(k.secret), x: b64u(k.publicKey) }, format: 'jwk' });
}

const kidFirst = (kid: Uint8Array) => new Map<number, unknown>([[Headers.KeyID, kid], [Headers.Algorithm, Algorithms.EdDSA]]);

export interface ForeignCommands {
  /** COSE_Sign1 by the nurse, protected header {4: kid, 1: -8} in that order. */
  readonly sign1: Uint8Array;
  /** COSE_Sign by a physician and a pharmacist (a soft-limit override), body protected h'a0'. */
  readonly sign: Uint8Array;
}

export async function foreignCommands(): Promise<ForeignCommands> {
  const one = await Sign1.sign(kidFirst(keys.nurse.kid) as never, new Map() as never, encodeClaims(claims()), nodeKey(keys.nurse));
  const both = await Sign.sign(
    new Map() as never,
    new Map() as never,
    encodeClaims(claims({ clinician: 'dr.bell', set: { rate: [550, 'mL/h'] } })),
    [keys.physician, keys.pharmacist].map((k) => ({ key: nodeKey(k), protectedHeaders: kidFirst(k.kid) as never, unprotectedHeaders: new Map() as never })),
  );
  // @auth0/cose 1.0.2 serialises each COSE_Signature's protected header as a map instead of the byte
  // string it signed (RFC 9052 §4.1 wants bstr), so its COSE_Sign bytes are not COSE. Everything signed
  // (body protected h'a0', each signer's protected bytes, the signatures) is the library's own; only the
  // outer array is assembled here, with cbor-x, from those parts.
  const parts = both as unknown as {
    encodedProtectedHeaders: Uint8Array;
    payload: Uint8Array;
    signatures: ReadonlyArray<{ encodedProtectedHeaders: Uint8Array; signature: Uint8Array }>;
  };
  const cbor = new Encoder({ tagUint8Array: false, useRecords: false, mapsAsObjects: false, variableMapSize: true });
  const sign = cbor.encode(
    new Tag([parts.encodedProtectedHeaders, new Map(), parts.payload, parts.signatures.map((s) => [s.encodedProtectedHeaders, new Map(), s.signature])], 98),
  );
  return { sign1: new Uint8Array(one.encode()), sign: new Uint8Array(sign) };
}
