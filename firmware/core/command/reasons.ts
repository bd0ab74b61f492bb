/**
 * Every reason the gateway gives for refusing a setting change (docs/commands.md). A refusal forwards
 * nothing, answers on `cmd/result` with the reason, and raises a security event.
 */
export const REJECT_REASONS = [
  // the envelope (RFC 9052)
  'malformed', // not CBOR of the profile, not a COSE_Sign1/COSE_Sign, a non-empty unprotected header, a signature not 64 bytes, a kid not 1–32 bytes
  'unsupported-algorithm', // alg is not EdDSA (-8)
  'alg-not-protected', // alg missing from the protected header
  'kid-not-protected', // kid missing from the protected header
  'unknown-critical-header', // crit names a header this gateway does not understand
  'duplicate-header-label', // a label twice in a protected header
  'too-many-signatures', // more than two signatures
  // who signed
  'no-trust-list', // this gateway has no trust list yet
  'unknown-signer', // kid not in the trust list
  'revoked-key', // the key is on the trust list's revocation list
  'bad-signature', // a signature does not verify
  'cosigner-not-distinct', // the second signature is by the same person as the first
  // what it says
  'bad-claims', // the payload is not a well-formed command
  'wrong-gateway',
  'wrong-device',
  'wrong-epoch', // signed under another key epoch than the gateway's trust list
  'clinician-mismatch', // the clinician named is not the person whose key signed
  'replay', // counter not above the last accepted one
  'stale-nonce', // not the gateway's current challenge nonce
  'expired', // past its expiry, by the gateway's trusted clock
  'not-yet-valid', // issued in the future, by the gateway's trusted clock
  'role-not-allowed', // no role of the (first) signer may change this setting
  'cosign-not-allowed', // no role of the second signer holds the trust list's cosign grant for this setting
  // the safety envelope (device profile)
  'unknown-setting',
  'unit-mismatch',
  'invalid-value', // wrong type; NaN, ±Infinity, -0, subnormal or beyond ±(2^53 − 1); or not one of an enumeration's values
  'hard-limit', // outside the hard limits: never allowed
  'soft-limit-needs-cosign', // outside the soft limits without a second person's signature
  'current-unknown', // the device's present value is unknown, so the step cannot be checked
  'step-too-large', // too far from the present value in one change
  'rate-limited', // too many changes of this setting within the hour
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];
