/**
 * Consistent Overhead Byte Stuffing (Cheshire and Baker, 1999): a frame holds no 0x00 byte, so 0x00
 * delimits frames on the serial line and a receiver resynchronises at the next 0x00 after any loss.
 */

/** Encodes `data` (no delimiter added). Output is at most data.length + ceil(data.length / 254) + 1 bytes. */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + Math.ceil(data.length / 254) + 1);
  let codeAt = 0;
  let code = 1;
  let o = 1;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    } else {
      out[o++] = data[i]!;
      code++;
      if (code === 0xff) {
        out[codeAt] = code;
        codeAt = o++;
        code = 1;
      }
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** Decodes one frame (without its delimiter); undefined when it is not valid COBS. */
export function cobsDecode(frame: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(frame.length);
  let o = 0;
  let i = 0;
  while (i < frame.length) {
    const code = frame[i]!;
    if (code === 0 || i + code > frame.length) return undefined;
    for (let k = 1; k < code; k++) {
      const b = frame[i + k]!;
      if (b === 0) return undefined;
      out[o++] = b;
    }
    i += code;
    if (code !== 0xff && i < frame.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
