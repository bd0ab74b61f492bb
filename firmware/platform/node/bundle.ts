/**
 * The Node platform's boot from a provisioning bundle: the bundle from a file (on the ESP32 the
 * `vigilcfg` partition; on Moddable's Linux runtime a file), opened by the core's rules with the
 * site's root public key (what a site image carries), at a site-key epoch no older than the newest
 * this gateway has seen (kept in `epochFile`, as the firmware keeps it in NVS).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Result } from '../../core/cbor/errors.js';
import { openBundle, type ProvisioningBundle } from '../../core/provision/bundle.js';
import { ed25519Verify } from './ed25519.js';

export function readBundle(path: string, site: string, rootKey: Uint8Array, epochFile?: string): Result<ProvisioningBundle, string> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    return { ok: false, error: `cannot read the bundle: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  const seen = epochFile !== undefined && existsSync(epochFile) ? Number(readFileSync(epochFile, 'utf8')) || 0 : 0;
  const r = openBundle(bytes, site, rootKey, ed25519Verify, seen);
  if (!r.ok) return r;
  if (epochFile !== undefined && r.value.siteEpoch > seen) writeFileSync(epochFile, String(r.value.siteEpoch));
  return { ok: true, value: r.value.bundle };
}
