/**
 * The provisioning bundle: everything one gateway needs to join its site, kept out of the firmware
 * image (one image serves a whole fleet) and written beside it at flashing (docs/provisioning.md).
 * A COSE_Sign1 (RFC 9052) by the site's provisioning key over a CBOR map under Vigil's profile:
 *
 *   { "v": 1, "site": tstr, "gateway": tstr, "issued": uint (unix s),
 *     "siteCert": bstr,   ; the site key's certificate: a COSE_Sign1 by the root key over
 *                         ; { "v": 1, "site": tstr, "siteKey": bstr .size 32, "epoch": uint, "issued": uint }
 *     "broker": { "url": "mqtt://host:port" / "mqtts://host:port", "username": tstr,
 *                 ? "password": tstr, ? "clientKey": tstr (PEM, RSA), ? "clientCert": tstr (PEM), ? "ca": tstr (PEM) },
 *     "rootKey": bstr .size 32, ? "profile": tstr, ? "wifi": { "ssid": tstr, "password": tstr } }
 *
 * The image carries only the site id and the site's root public key. The gateway accepts a bundle
 * whose site key the root certifies, at a key epoch no older than the newest it has seen (a rotated
 * site key is taken without re-flashing; once a gateway has seen the new epoch, bundles signed under
 * an older one are refused), signed by that site key, for that site; every field is checked with a
 * message naming it. Pure: the host's tools sign, the gateway (in Node and in XS) opens.
 */
import { decode, encode, type CborValue } from '../cbor/index.js';
import type { Result } from '../cbor/errors.js';
import { encodeSign1, parseCose, protectedHeader, sigStructure1 } from '../command/cose.js';
import { publicKeyProblem, type Ed25519Verify } from '../command/ed25519-policy.js';
import type { SigningKey } from '../command/sign.js';
import { idProblem } from '../protocol/topics.js';

export interface BrokerLogin {
  readonly url: string;
  readonly username: string;
  /** A password login (the broker's password file) … */
  readonly password?: string;
  /** … or an RSA client key and its certificate from the site CA (PEM; Moddable's TLS takes RSA client keys). */
  readonly clientKey?: string;
  readonly clientCert?: string;
  /** The CA that signed the broker's certificate (PEM), for mqtts. */
  readonly ca?: string;
}

export interface ProvisioningBundle {
  readonly site: string;
  readonly gateway: string;
  /** Unix seconds when it was issued. */
  readonly issued: number;
  readonly broker: BrokerLogin;
  /** The site's root public key: it signs the trust list. */
  readonly rootKey: Uint8Array;
  /** The device model (profile) the gateway expects at its bed, when the technician named one. */
  readonly profile?: string;
  readonly wifi?: { readonly ssid: string; readonly password: string };
}

/** A bundle is small (a password login) or a few KB (an RSA key, a certificate and a CA). */
export const BUNDLE_MAX_BYTES = 12 * 1024;
const PEM_MAX = 4096;
const BROKER_URL = /^mqtts?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/;
const PEM = (label: string) => new RegExp(`^-----BEGIN ${label}-----\\r?\\n[A-Za-z0-9+/=\\r\\n]+-----END ${label}-----\\r?\\n?$`);

type Problem = { readonly ok: false; readonly error: string };
const no = (error: string): Problem => ({ ok: false, error });

/** Every rule of the format; undefined when the bundle holds, else what is wrong, naming the field. */
export function bundleProblem(b: ProvisioningBundle): string | undefined {
  const site = idProblem(b.site, 'site');
  if (site !== undefined) return `site: ${site}`;
  const gw = idProblem(b.gateway, 'gateway');
  if (gw !== undefined) return `gateway: ${gw}`;
  if (!Number.isSafeInteger(b.issued) || b.issued < 0) return 'issued: a time in unix seconds';
  const { url, username, password, clientKey, clientCert, ca } = b.broker;
  if (!BROKER_URL.test(url)) return `broker.url: mqtt://host[:port] or mqtts://host[:port], got "${url}"`;
  const port = /:(\d+)\/?$/.exec(url);
  if (port !== null && (Number(port[1]) < 1 || Number(port[1]) > 65535)) return `broker.url: port ${port[1]} is not 1 to 65535`;
  if (username !== b.gateway) return `broker.username: the broker knows a gateway by its id ("${b.gateway}"), got "${username}"`;
  const tls = clientKey !== undefined || clientCert !== undefined;
  if (password !== undefined && tls) return 'broker: a password or a client key and certificate, not both';
  if (password === undefined && !tls) return 'broker: a password, or a client key and certificate, is needed';
  if (password !== undefined && (password.length < 16 || password.length > 256)) return 'broker.password: 16 to 256 characters (a provisioned secret)';
  if (tls) {
    if (clientKey === undefined || clientCert === undefined) return 'broker: a client key needs its certificate, and a certificate its key';
    if (!url.startsWith('mqtts://')) return 'broker.url: a client certificate is presented over TLS: use mqtts://';
    if (clientKey.length > PEM_MAX || !PEM('(RSA )?PRIVATE KEY').test(clientKey)) return 'broker.clientKey: an RSA private key in PEM';
    if (clientCert.length > PEM_MAX || !PEM('CERTIFICATE').test(clientCert)) return 'broker.clientCert: a certificate in PEM';
  }
  if (ca !== undefined && (ca.length > PEM_MAX || !PEM('CERTIFICATE').test(ca))) return 'broker.ca: a certificate in PEM';
  if (b.rootKey.length !== 32) return 'rootKey: 32 bytes';
  const rootProblem = publicKeyProblem(b.rootKey);
  if (rootProblem !== undefined) return `rootKey: unusable (${rootProblem})`;
  if (b.profile !== undefined && !/^[a-z0-9][a-z0-9.-]{0,63}$/.test(b.profile)) return `profile: a model id like "generic-pump-v1", got "${b.profile}"`;
  if (b.wifi !== undefined) {
    if (b.wifi.ssid.length < 1 || b.wifi.ssid.length > 32) return 'wifi.ssid: 1 to 32 characters';
    if (b.wifi.password.length !== 0 && (b.wifi.password.length < 8 || b.wifi.password.length > 63)) return 'wifi.password: 8 to 63 characters (WPA2), or empty for an open network';
  }
  return undefined;
}

function payloadOf(b: ProvisioningBundle, siteCert: Uint8Array): Uint8Array {
  const broker = new Map<string, CborValue>([['url', b.broker.url], ['username', b.broker.username]]);
  for (const k of ['password', 'clientKey', 'clientCert', 'ca'] as const) if (b.broker[k] !== undefined) broker.set(k, b.broker[k]!);
  const m = new Map<string, CborValue>([
    ['v', 1],
    ['site', b.site],
    ['gateway', b.gateway],
    ['issued', b.issued],
    ['siteCert', siteCert],
    ['broker', broker],
    ['rootKey', b.rootKey],
  ]);
  if (b.profile !== undefined) m.set('profile', b.profile);
  if (b.wifi !== undefined) m.set('wifi', new Map<string, CborValue>([['ssid', b.wifi.ssid], ['password', b.wifi.password]]));
  return encode(m);
}

/** The root's word that a key signs this site's bundles, from a key epoch on. */
export interface SiteKeyCert {
  readonly site: string;
  readonly siteKey: Uint8Array;
  readonly epoch: number;
  /** Unix seconds. */
  readonly issued: number;
}

/** Certifies a site provisioning key with the site's root key (at `vigil site init`, and at each rotation: epoch + 1). */
export function signSiteKeyCert(c: SiteKeyCert, root: SigningKey): Uint8Array {
  const payload = encode(new Map<string, CborValue>([['v', 1], ['site', c.site], ['siteKey', c.siteKey], ['epoch', c.epoch], ['issued', c.issued]]));
  const prot = protectedHeader(root.kid);
  return encodeSign1(prot, payload, root.sign(sigStructure1(prot, payload)));
}

/** A site key certificate checked against the root key in the image, for `site`. */
export function openSiteKeyCert(bytes: Uint8Array, site: string, rootKey: Uint8Array, verify: Ed25519Verify): Result<SiteKeyCert, string> {
  const cose = parseCose(bytes);
  if (!cose.ok || cose.value.form !== 'sign1' || cose.value.signers.length !== 1) return no('its site key certificate is not a COSE_Sign1');
  const signer = cose.value.signers[0]!;
  if (!verify(signer.signature, signer.toBeSigned, rootKey)) return no(`its site key is not certified by the root key of ${site}: made for another site, or altered`);
  const r = decode(cose.value.payload, { maxDepth: 2, maxLength: 64 });
  const m = r.ok && r.value instanceof Map ? (r.value as Map<unknown, unknown>) : undefined;
  const key = m?.get('siteKey');
  const epoch = m?.get('epoch');
  const issued = m?.get('issued');
  if (m === undefined || m.get('v') !== 1 || !(key instanceof Uint8Array) || key.length !== 32 || typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1 || typeof issued !== 'number') return no('its site key certificate is malformed');
  if (m.get('site') !== site) return no(`its site key is certified for site "${String(m.get('site'))}", this gateway belongs to "${site}"`);
  const problem = publicKeyProblem(key);
  if (problem !== undefined) return no(`its certified site key is unusable (${problem})`);
  return { ok: true, value: { site, siteKey: key, epoch, issued } };
}

/** Signs a bundle with the site's provisioning key (certified by `siteCert`); refuses one that breaks a rule (the message names the field). */
export function signBundle(b: ProvisioningBundle, siteKey: SigningKey, siteCert: Uint8Array): Result<Uint8Array, string> {
  const problem = bundleProblem(b);
  if (problem !== undefined) return no(problem);
  const payload = payloadOf(b, siteCert);
  const prot = protectedHeader(siteKey.kid);
  const bytes = encodeSign1(prot, payload, siteKey.sign(sigStructure1(prot, payload)));
  return bytes.length > BUNDLE_MAX_BYTES ? no(`the bundle is ${bytes.length} bytes; at most ${BUNDLE_MAX_BYTES}`) : { ok: true, value: bytes };
}

const str = (m: Map<unknown, unknown>, k: string): string | undefined => {
  const v = m.get(k);
  return typeof v === 'string' ? v : undefined;
};

/**
 * Opens a bundle as the gateway does at boot: its site key certified by `rootKey` (the site's root
 * public key, in the firmware image) at an epoch of at least `minEpoch` (the newest the gateway has
 * seen), the bundle signed by that key, for `site`, every field within its rules. Gives the bundle
 * and the key epoch, for the gateway to keep.
 */
export function openBundle(bytes: Uint8Array, site: string, rootKey: Uint8Array, verify: Ed25519Verify, minEpoch = 0): Result<{ readonly bundle: ProvisioningBundle; readonly siteEpoch: number }, string> {
  if (bytes.length === 0) return no('no bundle: the gateway has not been provisioned (vigil provision, then vigil flash)');
  if (bytes.length > BUNDLE_MAX_BYTES) return no(`the bundle is ${bytes.length} bytes; at most ${BUNDLE_MAX_BYTES}`);
  const cose = parseCose(bytes, { maxLength: BUNDLE_MAX_BYTES });
  if (!cose.ok) return no(`not a signed bundle: ${cose.error.detail}`);
  if (cose.value.form !== 'sign1' || cose.value.signers.length !== 1) return no('not a signed bundle: one signature (COSE_Sign1) expected');
  const r = decode(cose.value.payload, { maxDepth: 3, maxLength: PEM_MAX });
  if (!r.ok || !(r.value instanceof Map)) return no('the signed payload is not a CBOR map');
  const m = r.value as Map<unknown, unknown>;
  const certBytes = m.get('siteCert');
  if (!(certBytes instanceof Uint8Array)) return no('no site key certificate in the bundle');
  const cert = openSiteKeyCert(certBytes, site, rootKey, verify);
  if (!cert.ok) return cert;
  if (cert.value.epoch < minEpoch) return no(`signed under site key epoch ${cert.value.epoch}; this gateway has seen epoch ${minEpoch}: a retired site key`);
  const signer = cose.value.signers[0]!;
  if (!verify(signer.signature, signer.toBeSigned, cert.value.siteKey)) return no(`not signed by the site key its certificate names: altered`);
  if (m.get('v') !== 1) return no(`bundle version ${String(m.get('v'))}: this firmware reads version 1`);
  const broker = m.get('broker');
  const root = m.get('rootKey');
  const wifi = m.get('wifi');
  const issued = m.get('issued');
  if (!(broker instanceof Map)) return no('broker: missing');
  if (!(root instanceof Uint8Array)) return no('rootKey: missing');
  if (typeof issued !== 'number') return no('issued: missing');
  if (wifi !== undefined && !(wifi instanceof Map)) return no('wifi: a map of ssid and password');
  const b: ProvisioningBundle = {
    site: str(m, 'site') ?? '',
    gateway: str(m, 'gateway') ?? '',
    issued,
    broker: {
      url: str(broker, 'url') ?? '',
      username: str(broker, 'username') ?? '',
      ...(str(broker, 'password') === undefined ? {} : { password: str(broker, 'password')! }),
      ...(str(broker, 'clientKey') === undefined ? {} : { clientKey: str(broker, 'clientKey')! }),
      ...(str(broker, 'clientCert') === undefined ? {} : { clientCert: str(broker, 'clientCert')! }),
      ...(str(broker, 'ca') === undefined ? {} : { ca: str(broker, 'ca')! }),
    },
    rootKey: root,
    ...(m.has('profile') ? { profile: str(m, 'profile') ?? '' } : {}),
    ...(wifi instanceof Map ? { wifi: { ssid: str(wifi, 'ssid') ?? '', password: str(wifi, 'password') ?? '' } } : {}),
  };
  if (b.site !== site) return no(`made for site "${b.site}", this gateway belongs to "${site}"`);
  if (b.rootKey.length !== rootKey.length || b.rootKey.some((x, i) => x !== rootKey[i])) return no('it names another root key than this gateway\'s');
  const problem = bundleProblem(b);
  return problem === undefined ? { ok: true, value: { bundle: b, siteEpoch: cert.value.epoch } } : no(problem);
}
