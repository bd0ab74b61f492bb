/**
 * Provisioning bundles at the site (docs/provisioning.md): the site's provisioning key (site.pem, its
 * public half in site.json as `sitePublicKey`; made with the site, or the first time a bundle is made
 * for a site older than bundles), a gateway's broker secret (the broker's password file), and the
 * signed bundle that carries both to the gateway. The firmware image carries only the site id and the
 * site's provisioning public key: one image serves the whole fleet.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex } from '../firmware/core/hex.js';
import { openBundle, signBundle, type BrokerLogin, type ProvisioningBundle } from '../firmware/core/provision/bundle.js';
import { createNodeEd25519Verify } from './crypto/ed25519.js';
import { issueSecret } from './broker/passwd.js';
import { readSite, SiteError, type SiteFile } from './site.js';
import { loadSigningKey, newKeyPair } from './signing/keys.js';
import type { AuditLog } from './audit.js';
import type { Db } from './store/db.js';

/** The site's provisioning public key, making the key pair the first time. */
export function siteProvisioningKey(dir: string): { publicKey: Uint8Array; made: boolean } {
  const file = join(dir, 'site.json');
  const site = JSON.parse(readFileSync(file, 'utf8')) as SiteFile & { sitePublicKey?: string };
  const pem = join(dir, 'site.pem');
  if (site.sitePublicKey !== undefined && existsSync(pem)) {
    const key = fromHex(site.sitePublicKey);
    if (key === undefined || key.length !== 32) throw new SiteError(`${file}: sitePublicKey must be 64 hex digits`);
    if (toHex(loadSigningKey(pem).publicKey) !== site.sitePublicKey) throw new SiteError(`${pem} does not match sitePublicKey in ${file}`);
    return { publicKey: key, made: false };
  }
  if (existsSync(pem)) throw new SiteError(`${pem} exists but ${file} names no sitePublicKey: restore site.json from its backup`);
  const pair = newKeyPair();
  writeFileSync(pem, pair.pem, { mode: 0o600 });
  writeFileSync(file, JSON.stringify({ ...site, sitePublicKey: toHex(pair.publicKey) }, null, 2) + '\n');
  return { publicKey: pair.publicKey, made: true };
}

export interface BundleRequest {
  readonly gateway: string;
  readonly brokerUrl: string;
  readonly profile?: string;
  readonly wifi?: { readonly ssid: string; readonly password: string };
  /** A client key and certificate instead of a password (PEM). */
  readonly tls?: { readonly clientKey: string; readonly clientCert: string; readonly ca?: string };
  readonly nowS?: number;
}

/**
 * Makes a gateway's bundle: checks everything first (so a bad request changes nothing), then issues
 * its broker secret (unless it logs in by certificate) and signs the bundle with the site key.
 */
export function makeBundle(dir: string, r: BundleRequest): { bundle: Uint8Array; contents: ProvisioningBundle; siteKeyMade: boolean } {
  const site = readSite(dir);
  const { made } = siteProvisioningKey(dir);
  const key = loadSigningKey(join(dir, 'site.pem'));
  const broker = (password: string | undefined): BrokerLogin => ({
    url: r.brokerUrl,
    username: r.gateway,
    ...(password === undefined ? {} : { password }),
    ...(r.tls === undefined ? {} : { clientKey: r.tls.clientKey, clientCert: r.tls.clientCert, ...(r.tls.ca === undefined ? {} : { ca: r.tls.ca }) }),
  });
  const contents = (password: string | undefined): ProvisioningBundle => ({
    site: site.site,
    gateway: r.gateway,
    issued: r.nowS ?? Math.floor(Date.now() / 1000),
    broker: broker(password),
    rootKey: site.rootPublicKey,
    ...(r.profile === undefined ? {} : { profile: r.profile }),
    ...(r.wifi === undefined ? {} : { wifi: r.wifi }),
  });
  // a dry signing with a stand-in secret finds every problem before the password file changes
  const dry = signBundle(contents(r.tls === undefined ? 'x'.repeat(43) : undefined), key);
  if (!dry.ok) throw new SiteError(dry.error);
  const password = r.tls === undefined ? issueSecret(site.passwdFile, r.gateway) : undefined;
  const c = contents(password);
  const signed = signBundle(c, key);
  if (!signed.ok) throw new SiteError(signed.error);
  return { bundle: signed.value, contents: c, siteKeyMade: made };
}

/** The site's provisioning public key from site.json, or undefined when no bundle has been made yet. */
export function readSitePublicKey(dir: string): Uint8Array | undefined {
  const file = join(dir, 'site.json');
  if (!existsSync(file)) return undefined;
  const hex = (JSON.parse(readFileSync(file, 'utf8')) as SiteFile).sitePublicKey;
  const key = hex === undefined ? undefined : fromHex(hex);
  return key?.length === 32 ? key : undefined;
}

export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/**
 * The host registers a gateway from its bundle: opened exactly as the gateway opens it (signed by this
 * site's provisioning key, for this site), then the gateway is known before it first connects — its
 * id, the device model expected at its bed, when it was provisioned. Audited.
 */
export function registerGateway(host: { readonly db: Db; readonly audit: AuditLog; readonly site: string; readonly dataDir: string }, now: number, by: string, bytes: Uint8Array): { gateway: string; expectedModel: string | null; provisionedAt: number } {
  const key = readSitePublicKey(host.dataDir);
  if (key === undefined) throw new RegistrationError(`site ${host.site} has no provisioning key yet: make the gateway's bundle with "vigil provision <id> --bundle <file> --broker <url>"`, 409);
  const opened = openBundle(bytes, host.site, key, createNodeEd25519Verify());
  if (!opened.ok) throw new RegistrationError(`bundle refused: ${opened.error}`, 400);
  const b = opened.value;
  host.db.transaction(() => {
    host.db.prepare("INSERT INTO gateways (id, presence) VALUES (?, 'offline') ON CONFLICT (id) DO NOTHING").run(b.gateway);
    host.db.prepare('UPDATE gateways SET expected_model = ?, provisioned_at = ? WHERE id = ?').run(b.profile ?? null, b.issued * 1000, b.gateway);
    host.audit.append(now, by, 'gateway-registered', `gateway/${b.gateway}`, { expectedModel: b.profile ?? null, issued: b.issued, broker: b.broker.url, login: b.broker.password === undefined ? 'certificate' : 'password' });
  })();
  return { gateway: b.gateway, expectedModel: b.profile ?? null, provisionedAt: b.issued * 1000 };
}
