/** Bytewise lexicographic comparison of bytes[a0, a1) with bytes[b0, b1) (RFC 8949 §4.2.1 key order). */
export function compareSpans(bytes: Uint8Array, a0: number, a1: number, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) {
    const d = bytes[a0 + i]! - bytes[b0 + i]!;
    if (d !== 0) return d;
  }
  return a1 - a0 - (b1 - b0);
}
