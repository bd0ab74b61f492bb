/*
 * Vigil: random bytes from the ESP32's hardware RNG (esp_fill_random), for boot ids, challenge
 * nonces and backoff jitter. random(n) -> ArrayBuffer of n bytes.
 */
function random(n) @ "xs_vigil_random";

export default random;
