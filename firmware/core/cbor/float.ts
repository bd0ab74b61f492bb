/**
 * IEEE 754 half precision, which ES2022 lacks (Math.f16round and DataView.getFloat16 came later).
 * RFC 8949 §4.2.1 wants the shortest float that keeps the value, so the encoder needs to know when a
 * number fits in 16 bits exactly, and the decoder needs to read them.
 */

const TWO_POW_24 = 16777216; // 2^24: half subnormals are multiples of 2^-24

/** The 16-bit pattern of `v` when half precision holds it exactly, otherwise -1. NaN maps to 0x7e00. */
export function halfBits(v: number): number {
  if (v !== v) return 0x7e00; // RFC 8949 §4.2.1 / §4.2.2: the one canonical NaN
  const sign = v < 0 || (v === 0 && 1 / v < 0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  if (a > 65504) return -1;
  if (a < 6.103515625e-5) {
    // below 2^-14: subnormal, mantissa counts units of 2^-24
    const m = a * TWO_POW_24;
    return Number.isInteger(m) ? sign | m : -1;
  }
  let e = 15;
  let p = 32768; // 2^15
  while (p > a) {
    p /= 2;
    e -= 1;
  }
  const m = (a / p - 1) * 1024;
  return Number.isInteger(m) ? sign | ((e + 15) << 10) | m : -1;
}

export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return (sign * m) / TWO_POW_24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * (1 + m / 1024) * Math.pow(2, e - 15);
}
