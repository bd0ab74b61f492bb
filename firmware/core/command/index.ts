export { encodeClaims, parseClaims, NONCE_BYTES, type CommandClaims, type RequestedSetting, type SettingValue } from './claims.js';
export { COSE_ALG_EDDSA, COSE_SIGN1_TAG, COSE_SIGN_TAG, encodeSign, encodeSign1, parseCose, protectedHeader, sigStructure, sigStructure1, type CoseMessage } from './cose.js';
export { ED25519_L, passesPreChecks, publicKeyProblem, type Ed25519Verify, type PublicKeyProblem } from './ed25519-policy.js';
export { checkEnvelope } from './envelope.js';
export { createCommandGate, type CommandGate, type CommandResult, type Decision, type GateEffect, type GateState, type SubmitInput } from './gate.js';
export { DEVICE_KINDS, parseProfile, qualifiedSetting, type DeviceKind, type DeviceProfile, type Setting } from './profile.js';
export { REJECT_REASONS, type RejectReason } from './reasons.js';
export { acceptTrustList, encodeTrustPayload, rolesAllow, type Signer, type TrustList, type TrustListContent, type TrustProblem } from './trust.js';
export { signCommand, signTrustList, type SigningKey } from './sign.js';
