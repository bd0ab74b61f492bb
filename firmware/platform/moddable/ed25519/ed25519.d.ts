declare module 'vigil/ed25519' {
  /** libsodium's crypto_sign_verify_detached: true only for a valid signature under Vigil's policy. */
  export default function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}
