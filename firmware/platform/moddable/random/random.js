/*
 * Vigil: cryptographically strong random bytes (ESP32: the hardware RNG; Linux: getrandom), for boot ids, challenge
 * nonces and backoff jitter. random(n) -> ArrayBuffer of n bytes.
 */
function random(n) @ "xs_vigil_random";

export default random;
