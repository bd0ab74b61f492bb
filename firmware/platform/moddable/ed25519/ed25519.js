/*
 * Vigil: the gateway's Ed25519 verifier, native. libsodium's crypto_sign_verify_detached gives the
 * project's verdict policy by itself (strict RFC 8032: S < L, canonical A, no small-order A or R,
 * cofactorless equation); see docs/commands.md. Measured elsewhere at ~54 ms a verify on a 240 MHz
 * ESP32, where a pure-JS verify under XS takes seconds.
 *
 * verify(signature, message, publicKey) -> boolean; wrong lengths give false, never an exception.
 */
function verify(signature, message, publicKey) @ "xs_vigil_ed25519_verify";

export default verify;
