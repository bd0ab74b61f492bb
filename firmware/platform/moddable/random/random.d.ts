declare module 'vigil/random' {
  /** n bytes from the ESP32 hardware RNG. */
  export default function random(n: number): ArrayBuffer;
}
