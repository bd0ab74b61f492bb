/** Moddable APIs take ArrayBuffers; the core works in Uint8Arrays. A copy of exactly the viewed bytes. */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}
