/**
 * The Node platform's first boot: the provisioning bundle from a file (on the ESP32 it is the
 * `vigilcfg` partition; on Moddable's Linux runtime a file), opened by the core's rules with the
 * site's provisioning public key, as the firmware image carries it.
 */
import { readFileSync } from 'node:fs';
import type { Result } from '../../core/cbor/errors.js';
import { openBundle, type ProvisioningBundle } from '../../core/provision/bundle.js';
import { ed25519Verify } from './ed25519.js';

export function readBundle(path: string, site: string, siteKey: Uint8Array): Result<ProvisioningBundle, string> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    return { ok: false, error: `cannot read the bundle: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  return openBundle(bytes, site, siteKey, ed25519Verify);
}
