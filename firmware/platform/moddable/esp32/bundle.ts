/**
 * ESP32: the provisioning bundle from the `vigilcfg` data partition (partitions.csv), as `vigil flash`
 * writes it: a 4-byte big-endian length, then the bundle. An erased partition (0xFF…) holds none.
 */
import Flash from 'flash';

export function readBundleBytes(): Uint8Array {
  let flash: Flash;
  try {
    flash = new Flash('vigilcfg');
  } catch {
    return new Uint8Array(0);
  }
  const head = new Uint8Array(flash.read(0, 4) as ArrayBuffer);
  const length = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  if (length === 0 || length > flash.byteLength - 4) return new Uint8Array(0);
  return new Uint8Array(flash.read(4, length) as ArrayBuffer);
}

/** Where the bundle is read from, for messages. */
export const BUNDLE_SOURCE = 'the vigilcfg partition';
