/**
 * What the host needs before it opens anything: the site id, the root-signed trust list (checked
 * against the root key and the site), the clinicians' keyring, the device profiles. A bad one is a
 * HostConfigError whose message says what to fix; nothing has been opened or written by then.
 */
import { existsSync, readFileSync } from 'node:fs';
import { acceptTrustList, type DeviceProfile, type TrustList } from '../firmware/core/command/index.js';
import { idProblem } from '../firmware/core/protocol/index.js';
import { PROFILES } from '../firmware/profiles/index.js';
import { loadKeyring, type LockedKey } from './signing/keyring.js';
import { createNodeEd25519Verify } from './crypto/ed25519.js';

/** The host cannot start with this configuration; the message says what to fix. */
export class HostConfigError extends Error {
  override readonly name = 'HostConfigError';
}

export interface HostConfig {
  readonly trust: TrustList | undefined;
  readonly trustBytes: Uint8Array | undefined;
  readonly keyring: ReadonlyMap<string, LockedKey>;
  readonly profiles: ReadonlyMap<string, DeviceProfile>;
}

export function loadHostConfig(o: { readonly site: string; readonly rootKey?: Uint8Array; readonly trustFile?: string; readonly keyringDir?: string }): HostConfig {
  const siteProblem = idProblem(o.site, 'site');
  if (siteProblem !== undefined) throw new HostConfigError(siteProblem);
  let trust: TrustList | undefined;
  let trustBytes: Uint8Array | undefined;
  if (o.trustFile !== undefined) {
    if (o.rootKey === undefined) throw new HostConfigError('a trust list needs the root public key that signed it');
    if (!existsSync(o.trustFile)) throw new HostConfigError(`no trust list at ${o.trustFile}`);
    trustBytes = new Uint8Array(readFileSync(o.trustFile));
    const r = acceptTrustList(trustBytes, o.rootKey, undefined, createNodeEd25519Verify());
    if (!r.ok) throw new HostConfigError(`${o.trustFile}: trust list refused: ${r.error.type}: ${r.error.detail}`);
    if (r.value.site !== o.site) throw new HostConfigError(`${o.trustFile} is the trust list of site ${r.value.site}, not ${o.site}`);
    trust = r.value;
  }
  let keyring: Map<string, LockedKey> = new Map();
  try {
    if (o.keyringDir !== undefined && existsSync(o.keyringDir)) keyring = loadKeyring(o.keyringDir, trust);
  } catch (e) {
    throw new HostConfigError(`keyring ${o.keyringDir}: ${(e as Error).message}`);
  }
  return { trust, trustBytes, keyring, profiles: PROFILES };
}
