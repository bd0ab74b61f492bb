/**
 * Linux (Moddable's simulator runtime): the provisioning bundle from a file, `bundleFile` in the
 * config (what `vigil provision --bundle` wrote). A missing file holds none.
 */
import { File } from 'file';
import config from 'mc/config';

export function readBundleBytes(): Uint8Array {
  const path = (config as unknown as { bundleFile?: string }).bundleFile ?? '/tmp/vigil-bundle.cbor';
  if (!File.exists(path)) return new Uint8Array(0);
  const f = new File(path);
  try {
    return new Uint8Array(f.read(ArrayBuffer, f.length));
  } finally {
    f.close();
  }
}

/** Where the bundle is read from, for messages. */
export const BUNDLE_SOURCE = 'the bundle file';
