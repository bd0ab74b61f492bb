/**
 * Provisioning bundles at the site (docs/provisioning.md): the site's provisioning key (site.pem, its
 * public half in site.json as `sitePublicKey`; made with the site, or the first time a bundle is made
 * for a site older than bundles), a gateway's broker secret (the broker's password file), and the
 * signed bundle that carries both to the gateway, with the root's certificate of the site key
 * (site.cert, epoch 1 at init, one more at each rotation). The firmware image carries only the site id
 * and the site's root public key: one image serves the whole fleet, and survives a site-key rotation.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '../firmware/core/hex.js';
import { openBundle, signBundle, signSiteKeyCert, type BrokerLogin, type ProvisioningBundle } from '../firmware/core/provision/bundle.js';
import { createNodeEd25519Verify } from './crypto/ed25519.js';
import { issueSecret } from './broker/passwd.js';
import { readSite, SiteError, type SiteFile } from './site.js';
import { loadSigningKey, newKeyPair } from './signing/keys.js';
import type { AuditLog } from './audit.js';
import type { Db } from './store/db.js';

/** The site's provisioning key and its root-signed certificate; made (epoch 1) the first time for a site older than bundles. */
export function siteProvisioningKey(dir: string, nowS = Math.floor(Date.now() / 1000)): { publicKey: Uint8Array; cert: Uint8Array; epoch: number; made: boolean } {
  const file = join(dir, 'site.json');
  const site = JSON.parse(readFileSync(file, 'utf8')) as SiteFile;
  const pem = join(dir, 'site.pem');
  const certFile = join(dir, 'site.cert');
  if (site.sitePublicKey !== undefined && existsSync(pem) && existsSync(certFile)) {
    const key = fromHex(site.sitePublicKey);
    if (key === undefined || key.length !== 32) throw new SiteError(`${file}: sitePublicKey must be 64 hex digits`);
    if (toHex(loadSigningKey(pem).publicKey) !== site.sitePublicKey) throw new SiteError(`${pem} does not match sitePublicKey in ${file}`);
    return { publicKey: key, cert: new Uint8Array(readFileSync(certFile)), epoch: site.siteKeyEpoch ?? 1, made: false };
  }
  if (existsSync(pem)) throw new SiteError(`${pem} exists but ${file} or ${certFile} does not name it: restore them from their backup`);
  const made = certifyNewSiteKey(dir, site, 1, nowS);
  return { ...made, made: true };
}

/** A new provisioning key for the site, certified by the root at `epoch`; files replaced whole (written aside, renamed). */
function certifyNewSiteKey(dir: string, site: SiteFile, epoch: number, nowS: number): { publicKey: Uint8Array; cert: Uint8Array; epoch: number } {
  const rootPem = join(dir, 'root.pem');
  if (!existsSync(rootPem)) throw new SiteError(`certifying a site key needs the root key (${rootPem}): run this where the site's security officer keeps it`);
  const pair = newKeyPair();
  const cert = signSiteKeyCert({ site: site.site, siteKey: pair.publicKey, epoch, issued: nowS }, loadSigningKey(rootPem));
  const put = (name: string, data: string | Uint8Array, mode = 0o644) => {
    writeFileSync(join(dir, `${name}.new`), data, { mode });
    renameSync(join(dir, `${name}.new`), join(dir, name));
  };
  put('site.pem', pair.pem, 0o600);
  put('site.cert', cert);
  put('site.json', JSON.stringify({ ...site, sitePublicKey: toHex(pair.publicKey), siteKeyEpoch: epoch }, null, 2) + '\n');
  return { publicKey: pair.publicKey, cert, epoch };
}

/**
 * Rotates the site's provisioning key (a suspected leak, or routine): a new key certified at the next
 * epoch. Gateways take bundles signed under it without re-flashing (their image carries the root key,
 * not the site key); a gateway that has booted on the new epoch refuses bundles of older ones.
 */
export function rotateSiteKey(dir: string, nowS = Math.floor(Date.now() / 1000)): { epoch: number; publicKey: Uint8Array } {
  const current = siteProvisioningKey(dir, nowS);
  const site = JSON.parse(readFileSync(join(dir, 'site.json'), 'utf8')) as SiteFile;
  const next = certifyNewSiteKey(dir, site, current.epoch + 1, nowS);
  return { epoch: next.epoch, publicKey: next.publicKey };
}

/**
 * A gateway's broker login by certificate: an RSA key (PKCS#1 PEM: what Moddable's TLS takes) and a
 * certificate with the gateway's id as its common name (Mosquitto's use_identity_as_username), signed
 * by the site CA (`ca/ca.pem`, made here the first time). X.509 by the OpenSSL command line, never by
 * hand; the key is made in a private temporary folder and leaves it only inside the bundle.
 */
export function issueClientCert(dir: string, gateway: string, site: string): { clientKey: string; clientCert: string; ca: string } {
  const caDir = join(dir, 'ca');
  const openssl = (args: string[], cwd: string) => {
    const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
    if (r.error !== undefined) throw new SiteError(`openssl is needed for certificate logins (apt-get install openssl): ${r.error.message}`);
    if (r.status !== 0) throw new SiteError(`openssl ${args[0]} failed: ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
  };
  if (!existsSync(join(caDir, 'ca.pem'))) {
    mkdirSync(caDir, { recursive: true, mode: 0o700 });
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', `/CN=Vigil site ${site} CA`], caDir);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-cert-'));
  try {
    openssl(['genrsa', '-traditional', '-out', 'gw.key', '2048'], tmp);
    openssl(['req', '-new', '-key', 'gw.key', '-subj', `/CN=${gateway}`, '-out', 'gw.csr'], tmp);
    openssl(['x509', '-req', '-in', 'gw.csr', '-CA', join(caDir, 'ca.pem'), '-CAkey', join(caDir, 'ca.key'), '-CAcreateserial', '-CAserial', join(caDir, 'ca.srl'), '-days', '825', '-out', 'gw.pem'], tmp);
    return { clientKey: readFileSync(join(tmp, 'gw.key'), 'utf8'), clientCert: readFileSync(join(tmp, 'gw.pem'), 'utf8'), ca: readFileSync(join(caDir, 'ca.pem'), 'utf8') };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
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
  const { made, cert } = siteProvisioningKey(dir);
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
  const dry = signBundle(contents(r.tls === undefined ? 'x'.repeat(43) : undefined), key, cert);
  if (!dry.ok) throw new SiteError(dry.error);
  const password = r.tls === undefined ? issueSecret(site.passwdFile, r.gateway) : undefined;
  const c = contents(password);
  const signed = signBundle(c, key, cert);
  if (!signed.ok) throw new SiteError(signed.error);
  return { bundle: signed.value, contents: c, siteKeyMade: made };
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
  const opened = openBundle(bytes, host.site, readSite(host.dataDir).rootPublicKey, createNodeEd25519Verify());
  if (!opened.ok) throw new RegistrationError(`bundle refused: ${opened.error}`, 400);
  const b = opened.value.bundle;
  host.db.transaction(() => {
    host.db.prepare("INSERT INTO gateways (id, presence) VALUES (?, 'offline') ON CONFLICT (id) DO NOTHING").run(b.gateway);
    host.db.prepare('UPDATE gateways SET expected_model = ?, provisioned_at = ? WHERE id = ?').run(b.profile ?? null, b.issued * 1000, b.gateway);
    host.audit.append(now, by, 'gateway-registered', `gateway/${b.gateway}`, { expectedModel: b.profile ?? null, issued: b.issued, broker: b.broker.url, login: b.broker.password === undefined ? 'certificate' : 'password' });
  })();
  return { gateway: b.gateway, expectedModel: b.profile ?? null, provisionedAt: b.issued * 1000 };
}
