/**
 * A site's files in the host's data directory: the root key that signs the trust list (root.pem; in
 * production it lives offline with the site's security officer and only root.pub is here), the site
 * provisioning key that signs gateways' bundles (site.pem, host/provisioning.ts), the
 * clinicians' keyring (keyring/<person>.key, each encrypted under its person's passphrase), the signed trust list (trust.cose), gateway secrets
 * (passwd) and the database (vigil.db). `vigil site init` makes them; site.json names the site.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signTrustList, type Signer } from '../firmware/core/command/index.js';
import { idProblem } from '../firmware/core/protocol/topics.js';
import { signSiteKeyCert } from '../firmware/core/provision/bundle.js';
import { fromHex, toHex } from '../firmware/core/hex.js';
import { DEFAULT_COSIGN, DEFAULT_GRANTS } from './signing/grants.js';
import { writeProtectedKey } from './signing/keyring.js';
import { kidOf, loadSigningKey, newKeyPair } from './signing/keys.js';
import { recordTrustList } from './signing/trust-ledger.js';

export interface SiteFile {
  readonly site: string;
  readonly rootPublicKey: string;
  /** The public half of site.pem, the key that signs provisioning bundles (host/provisioning.ts). */
  readonly sitePublicKey?: string;
  /** The key epoch of that key: 1 at init, one more at each rotation (its certificate is site.cert). */
  readonly siteKeyEpoch?: number;
}

export interface Clinician {
  readonly person: string;
  readonly roles: readonly string[];
  /** The person's own signing passphrase: their key is kept encrypted under it (signing/keyring.ts). */
  readonly passphrase: string;
}

export interface SitePaths {
  readonly site: string;
  readonly rootPublicKey: Uint8Array;
  readonly trustFile: string;
  readonly keyringDir: string;
  readonly passwdFile: string;
}

export class SiteError extends Error {
  override readonly name = 'SiteError';
}

export function readSite(dir: string): SitePaths {
  const file = join(dir, 'site.json');
  if (!existsSync(file)) throw new SiteError(`${dir} holds no site: run "vigil site init --data-dir ${dir} --site <id>" first`);
  const s = JSON.parse(readFileSync(file, 'utf8')) as SiteFile;
  const root = fromHex(s.rootPublicKey);
  if (root === undefined || root.length !== 32) throw new SiteError(`${file}: rootPublicKey must be 64 hex digits`);
  return { site: s.site, rootPublicKey: root, trustFile: join(dir, 'trust.cose'), keyringDir: join(dir, 'keyring'), passwdFile: join(dir, 'passwd') };
}

/** Makes a site: root key, the provisioning key that signs gateways' bundles, one signing key per clinician, and the root-signed trust list (epoch 1). */
export function initSite(dir: string, site: string, clinicians: readonly Clinician[], nowS = Math.floor(Date.now() / 1000)): SitePaths {
  const problem = idProblem(site, 'site');
  if (problem !== undefined) throw new SiteError(problem);
  if (existsSync(join(dir, 'site.json'))) throw new SiteError(`${dir} already holds a site`);
  mkdirSync(join(dir, 'keyring'), { recursive: true });
  const rootPem = newKeyPair().pem;
  writeFileSync(join(dir, 'root.pem'), rootPem, { mode: 0o600 });
  const root = loadSigningKey(join(dir, 'root.pem'));
  const signers: Signer[] = clinicians.map((c) => {
    if (!/^[a-z0-9][a-z0-9._-]{0,47}$/.test(c.person)) throw new SiteError(`person "${c.person}": a-z, 0-9, ".", "_", "-"`);
    const pair = newKeyPair();
    writeProtectedKey(join(dir, 'keyring'), c.person, pair.pem, c.passphrase);
    return { kid: kidOf(pair.publicKey), key: pair.publicKey, person: c.person, roles: [...c.roles] };
  });
  const trust = signTrustList({ site, epoch: 1, issued: nowS, signers, revoked: [], grants: DEFAULT_GRANTS, cosign: DEFAULT_COSIGN }, root);
  recordTrustList(join(dir, 'root.pem'), trust);
  writeFileSync(join(dir, 'trust.cose'), trust);
  const siteKey = newKeyPair();
  writeFileSync(join(dir, 'site.pem'), siteKey.pem, { mode: 0o600 });
  writeFileSync(join(dir, 'site.cert'), signSiteKeyCert({ site, siteKey: siteKey.publicKey, epoch: 1, issued: nowS }, root));
  writeFileSync(join(dir, 'site.json'), JSON.stringify({ site, rootPublicKey: toHex(root.publicKey), sitePublicKey: toHex(siteKey.publicKey), siteKeyEpoch: 1 } satisfies SiteFile, null, 2) + '\n');
  return readSite(dir);
}
