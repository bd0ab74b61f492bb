/**
 * COSE signatures (RFC 9052) as Vigil uses them: COSE_Sign1 (tag 18) for one signer, COSE_Sign (tag 98)
 * for a setting change that needs a second person. Only EdDSA (-8, RFC 9053 §2.2) with Ed25519.
 *
 * Parsing is strict: the outer structure goes through the CBOR profile (so it is canonical), and the
 * header rules of RFC 9052 §3 are enforced: `alg` and `kid` protected, `crit` understood, no label
 * twice, and (Vigil's rule) every unprotected header empty.
 */
import { CborTag, decode, encode, type CborKey, type CborMap, type CborValue } from '../cbor/index.js';
import type { Result } from '../cbor/errors.js';
import { shown } from './fields.js';
import type { RejectReason } from './reasons.js';

export const COSE_SIGN1_TAG = 18;
export const COSE_SIGN_TAG = 98;
export const COSE_ALG_EDDSA = -8;
/** RFC 9052 §3.1 header labels. */
export const HeaderLabel = { alg: 1, crit: 2, contentType: 3, kid: 4 } as const;
/** The labels this implementation understands, and so may appear in `crit`. */
const UNDERSTOOD: readonly CborKey[] = [HeaderLabel.alg, HeaderLabel.contentType, HeaderLabel.kid];

const EMPTY = new Uint8Array(0);
const MAX_SIGNATURES = 2;

export interface CoseSigner {
  readonly kid: Uint8Array;
  readonly signature: Uint8Array;
  /** The exact bytes the signature covers: the Sig_structure (RFC 9052 §4.4). */
  readonly toBeSigned: Uint8Array;
}

export interface CoseMessage {
  readonly form: 'sign1' | 'sign';
  readonly payload: Uint8Array;
  readonly signers: readonly CoseSigner[];
}

export interface CoseProblem {
  readonly reason: RejectReason;
  readonly detail: string;
}

type Parsed<T> = Result<T, CoseProblem>;

function fail(reason: RejectReason, detail: string): { ok: false; error: CoseProblem } {
  return { ok: false, error: { reason, detail } };
}

// the array head and context text of each Sig_structure, as CBOR: [4 items, "Signature1"], [5 items, "Signature"]
const PREFIX_SIGN1 = Uint8Array.of(0x84, 0x6a, 0x53, 0x69, 0x67, 0x6e, 0x61, 0x74, 0x75, 0x72, 0x65, 0x31);
const PREFIX_SIGN = Uint8Array.of(0x85, 0x69, 0x53, 0x69, 0x67, 0x6e, 0x61, 0x74, 0x75, 0x72, 0x65);

/** Bytes of the shortest CBOR head of a byte string of `n` bytes (RFC 8949 §4.2.1). */
function bstrHeadLength(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** Writes a byte string (head and bytes) at `at`; returns the offset after it. */
function writeBstr(out: Uint8Array, at: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n < 24) out[at++] = 0x40 | n;
  else if (n < 0x100) {
    out[at++] = 0x58;
    out[at++] = n;
  } else if (n < 0x10000) {
    out[at++] = 0x59;
    out[at++] = n >> 8;
    out[at++] = n & 0xff;
  } else {
    out[at++] = 0x5a;
    out[at++] = (n >>> 24) & 0xff;
    out[at++] = (n >>> 16) & 0xff;
    out[at++] = (n >>> 8) & 0xff;
    out[at++] = n & 0xff;
  }
  out.set(bytes, at);
  return at + n;
}

/**
 * RFC 9052 §4.4: a Sig_structure, written directly (every verify builds one, so no general encoder):
 * an array of the context text and byte strings, in the deterministic profile, byte for byte what
 * `encode` would write.
 */
function sigStructureOf(prefix: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  let size = prefix.length;
  for (const p of parts) size += bstrHeadLength(p.length) + p.length;
  const out = new Uint8Array(size);
  out.set(prefix, 0);
  let at = prefix.length;
  for (const p of parts) at = writeBstr(out, at, p);
  return out;
}

/** RFC 9052 §4.4: Sig_structure for COSE_Sign1. */
export function sigStructure1(bodyProtected: Uint8Array, payload: Uint8Array, externalAad: Uint8Array = EMPTY): Uint8Array {
  return sigStructureOf(PREFIX_SIGN1, [bodyProtected, externalAad, payload]);
}

/** RFC 9052 §4.4: Sig_structure for one signer of a COSE_Sign. */
export function sigStructure(bodyProtected: Uint8Array, signProtected: Uint8Array, payload: Uint8Array, externalAad: Uint8Array = EMPTY): Uint8Array {
  return sigStructureOf(PREFIX_SIGN, [bodyProtected, signProtected, externalAad, payload]);
}

/** The protected header Vigil signs under: alg EdDSA and the signer's kid (RFC 9052 §3.1). */
export function protectedHeader(kid: Uint8Array): Uint8Array {
  return encode(new Map<CborKey, CborValue>([[HeaderLabel.alg, COSE_ALG_EDDSA], [HeaderLabel.kid, kid]]));
}

export function encodeSign1(bodyProtected: Uint8Array, payload: Uint8Array, signature: Uint8Array): Uint8Array {
  return encode(new CborTag(COSE_SIGN1_TAG, [bodyProtected, new Map(), payload, signature]));
}

export function encodeSign(payload: Uint8Array, signatures: ReadonlyArray<{ protected: Uint8Array; signature: Uint8Array }>): Uint8Array {
  return encode(new CborTag(COSE_SIGN_TAG, [EMPTY, new Map(), payload, signatures.map((s) => [s.protected, new Map(), s.signature])]));
}

/** RFC 8032 §5.1.6: an Ed25519 signature is 64 bytes. */
const SIGNATURE_BYTES = 64;
/** docs/commands.md: a kid names a trust-list signer in 1 to 32 bytes. */
const KID_MAX = 32;

const EMPTY_MAP_BYTES = 0xa0;

/** Names the labels of a header map for a reason: `3, 99, "note"`. */
function labels(m: CborMap): string {
  const out: string[] = [];
  for (const k of m.keys()) out.push(typeof k === 'string' ? shown(k) : String(k));
  return out.join(', ');
}

/**
 * Parses a header bucket pair; returns the kid when present in the protected bucket.
 * RFC 9052 §3: the protected header is signed as received, so `h''` and `h'a0'` both stand for an
 * empty map and its keys may come in any order (a label twice is refused). The unprotected header
 * must be empty: nothing unauthenticated is read, and a signed command has exactly one valid form.
 */
function headers(protectedBytes: Uint8Array, unprotected: CborValue, requireAlg: boolean, options: ParseOptions): Parsed<{ kid: Uint8Array | undefined }> {
  let prot: CborMap = new Map();
  if (protectedBytes.length > 0 && !(protectedBytes.length === 1 && protectedBytes[0] === EMPTY_MAP_BYTES)) {
    const r = decode(protectedBytes, { maxDepth: 4, maxLength: 64, anyKeyOrder: true });
    if (!r.ok) {
      if (r.error.type === 'duplicate-key') return fail('duplicate-header-label', `protected header: ${r.error.message}`);
      return fail('malformed', `protected header: ${r.error.message}`);
    }
    if (!(r.value instanceof Map)) return fail('malformed', 'protected header is not a map');
    prot = r.value;
  }
  if (!(unprotected instanceof Map)) return fail('malformed', 'unprotected header is not a map');
  const looseKid = options.unprotectedKid === true && unprotected.size === 1 && unprotected.has(HeaderLabel.kid);
  if (unprotected.size > 0 && !looseKid) {
    return fail('malformed', `the unprotected header must be empty; it holds label ${labels(unprotected)}`);
  }
  const crit = prot.get(HeaderLabel.crit);
  if (crit !== undefined) {
    if (!Array.isArray(crit) || crit.length === 0) return fail('malformed', 'crit must be a non-empty array of labels');
    for (const label of crit as readonly CborValue[]) {
      if (UNDERSTOOD.indexOf(label as CborKey) < 0) return fail('unknown-critical-header', `crit names header ${typeof label === 'string' ? shown(label) : String(label)}`);
    }
  }
  if (requireAlg || prot.has(HeaderLabel.alg)) {
    if (!prot.has(HeaderLabel.alg)) return fail('alg-not-protected', 'alg must be in the protected header');
    if (prot.get(HeaderLabel.alg) !== COSE_ALG_EDDSA) return fail('unsupported-algorithm', `alg ${String(prot.get(HeaderLabel.alg))}, expected EdDSA (-8)`);
  }
  const kid = looseKid ? unprotected.get(HeaderLabel.kid) : prot.get(HeaderLabel.kid);
  if (kid === undefined) return { ok: true, value: { kid: undefined } };
  if (!(kid instanceof Uint8Array)) return fail('malformed', 'kid must be a byte string');
  if (kid.length === 0 || kid.length > KID_MAX) return fail('malformed', `kid must be 1 to ${KID_MAX} bytes, got ${kid.length}`);
  return { ok: true, value: { kid } };
}

function signature(v: CborValue): Parsed<Uint8Array> {
  if (!(v instanceof Uint8Array)) return fail('malformed', 'signature must be a byte string');
  if (v.length !== SIGNATURE_BYTES) return fail('malformed', `signature must be ${SIGNATURE_BYTES} bytes, got ${v.length}`);
  return { ok: true, value: v };
}

function kidOf(h: { kid: Uint8Array | undefined }): Parsed<Uint8Array> {
  return h.kid !== undefined ? { ok: true, value: h.kid } : fail('kid-not-protected', 'kid must be in the protected header');
}

export interface ParseOptions {
  /**
   * Accept a kid alone in the unprotected header. Only for public test vectors (the cose-wg example
   * puts it there); never for commands or trust lists.
   */
  readonly unprotectedKid?: boolean;
  /** The longest byte string (the payload) accepted; 4096 unless a larger document (a provisioning bundle) needs more. */
  readonly maxLength?: number;
}

/**
 * Parses a COSE_Sign1 or COSE_Sign and computes each signer's ToBeSigned bytes. It checks structure and
 * header rules only; signatures are checked by the caller, against its trust list.
 * In a COSE_Sign the first signature is the requesting clinician's, the second the co-signer's.
 */
export function parseCose(bytes: Uint8Array, options: ParseOptions = {}): Parsed<CoseMessage> {
  const r = decode(bytes, { tags: [COSE_SIGN1_TAG, COSE_SIGN_TAG], maxDepth: 8, maxLength: options.maxLength ?? 4096 });
  if (!r.ok) return fail('malformed', `CBOR: ${r.error.message} (at byte ${r.error.offset})`);
  const top = r.value;
  if (!(top instanceof CborTag) || !Array.isArray(top.value)) return fail('malformed', 'expected a tagged COSE_Sign1 or COSE_Sign array');
  const items = top.value as readonly CborValue[];
  const [bodyProtected, unprotected, payload, last] = items;
  if (items.length !== 4 || !(bodyProtected instanceof Uint8Array)) return fail('malformed', 'expected [protected, unprotected, payload, signature(s)]');
  if (!(payload instanceof Uint8Array)) return fail('malformed', 'payload must be an attached byte string');


  if (top.tag === COSE_SIGN1_TAG) {
    const h = headers(bodyProtected, unprotected, true, options);
    if (!h.ok) return h;
    const sig = signature(last);
    if (!sig.ok) return sig;
    const kid = kidOf(h.value);
    if (!kid.ok) return kid;
    return {
      ok: true,
      value: { form: 'sign1', payload, signers: [{ kid: kid.value, signature: sig.value, toBeSigned: sigStructure1(bodyProtected, payload) }] },
    };
  }

  const body = headers(bodyProtected, unprotected, false, options);
  if (!body.ok) return body;
  if (body.value.kid !== undefined) return fail('malformed', 'a COSE_Sign body header names no kid; each signature carries its own');
  if (!Array.isArray(last) || last.length === 0) return fail('malformed', 'COSE_Sign needs an array of COSE_Signature');
  const sigs = last as readonly CborValue[];
  if (sigs.length > MAX_SIGNATURES) return fail('too-many-signatures', `${sigs.length} signatures, at most ${MAX_SIGNATURES}`);
  const signers: CoseSigner[] = [];
  for (const s of sigs) {
    if (!Array.isArray(s) || s.length !== 3) return fail('malformed', 'COSE_Signature must be [protected, unprotected, signature]');
    const [signProtected, signUnprotected, sigBytes] = s as readonly CborValue[];
    if (!(signProtected instanceof Uint8Array)) return fail('malformed', 'a COSE_Signature protected header must be a byte string');
    const h = headers(signProtected, signUnprotected, true, options);
    if (!h.ok) return h;
    const sig = signature(sigBytes);
    if (!sig.ok) return sig;
    const kid = kidOf(h.value);
    if (!kid.ok) return kid;
    signers.push({ kid: kid.value, signature: sig.value, toBeSigned: sigStructure(bodyProtected, signProtected, payload) });
  }
  return { ok: true, value: { form: 'sign', payload, signers } };
}
