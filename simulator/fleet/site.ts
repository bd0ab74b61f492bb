/**
 * The simulated hospital's site: root key, clinicians (each with a signing key under their own
 * passphrase), nursing-station users, and a trust list at epoch 2 that revokes one former clinician's
 * key (rex), so that the revoked-key and old-epoch attacks have something real to try. The epoch-1
 * list is kept beside it (trust-epoch1.cose): what an attacker replaying an old list would hold.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acceptTrustList, signTrustList, type SigningKey } from '../../firmware/core/command/index.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { AuditLog, defaultAuditDir, openAnchor } from '../../host/audit.js';
import { DEFAULT_COSIGN, DEFAULT_GRANTS } from '../../host/signing/grants.js';
import { readProtectedKey } from '../../host/signing/keyring.js';
import { loadSigningKey } from '../../host/signing/keys.js';
import { recordTrustList } from '../../host/signing/trust-ledger.js';
import { initSite, readSite, type SitePaths } from '../../host/site.js';
import { openDb } from '../../host/store/db.js';
import { Users } from '../../host/users.js';

export const DEMO = [
  { username: 'ana', person: 'ana.nurse', role: 'nurse', trust: ['nurse'] },
  { username: 'ben', person: 'ben.md', role: 'physician', trust: ['physician'] },
  { username: 'cleo', person: 'cleo.charge', role: 'charge-nurse', trust: ['charge-nurse'] },
  { username: 'pia', person: 'pia.pharm', role: 'pharmacist', trust: ['pharmacist'] },
  { username: 'dan', person: undefined, role: 'biomed', trust: [] },
  { username: 'eve', person: undefined, role: 'admin', trust: [] },
] as const;

/** A clinician who has left: the key is on the revocation list of epoch 2. No login. */
const FORMER = { person: 'rex.former', roles: ['physician'] };

export interface Logins {
  /** username → password, and username → signing passphrase (clinicians). */
  readonly passwords: Record<string, string>;
  readonly passphrases: Record<string, string>;
  readonly formerPassphrase: string;
}

export interface SimSite {
  readonly dir: string;
  readonly paths: SitePaths;
  readonly logins: Logins;
  /** Whether this run made the site (and its demo logins). */
  readonly made: boolean;
}

const LOGINS = 'demo-logins.json';

/** Opens the site in `dir`, or makes one there (with demo users) when there is none. */
export async function openSimSite(dir: string, site: string): Promise<SimSite> {
  if (existsSync(join(dir, 'site.json'))) {
    if (!existsSync(join(dir, LOGINS))) throw new Error(`${dir} holds a site that vigil sim did not make (no ${LOGINS}): choose another --data-dir, or run against that site's host with --host`);
    return { dir, paths: readSite(dir), logins: JSON.parse(readFileSync(join(dir, LOGINS), 'utf8')) as Logins, made: false };
  }
  const secret = () => randomBytes(9).toString('base64url');
  const passphrases: Record<string, string> = {};
  for (const d of DEMO) if (d.person !== undefined) passphrases[d.username] = secret();
  const formerPassphrase = secret();
  const clinicians = [...DEMO.filter((d) => d.person !== undefined).map((d) => ({ person: d.person!, roles: d.trust, passphrase: passphrases[d.username]! })), { ...FORMER, passphrase: formerPassphrase }];
  const nowS = Math.floor(Date.now() / 1000);
  const paths = initSite(dir, site, clinicians, nowS - 60);
  copyFileSync(paths.trustFile, join(dir, 'trust-epoch1.cose'));

  // epoch 2: the same signers, rex's key revoked
  const one = acceptTrustList(readFileSync(paths.trustFile), paths.rootPublicKey, undefined, ed25519Verify);
  if (!one.ok) throw new Error(`the site's first trust list does not verify: ${one.error.detail}`);
  const rex = readProtectedKey(join(paths.keyringDir, `${FORMER.person}.key`));
  const two = signTrustList({ site, epoch: 2, issued: nowS, signers: [...one.value.signers.values()], revoked: [rex.publicKey], grants: DEFAULT_GRANTS, cosign: DEFAULT_COSIGN }, loadSigningKey(join(dir, 'root.pem')));
  recordTrustList(join(dir, 'root.pem'), two);
  writeFileSync(paths.trustFile, two);

  const passwords: Record<string, string> = {};
  const db = openDb(join(dir, 'vigil.db'));
  try {
    const users = new Users(db, new AuditLog(db, join(dir, 'audit.head'), openAnchor(defaultAuditDir(dir))));
    for (const d of DEMO) {
      passwords[d.username] = secret();
      await users.add(Date.now(), 'vigil-sim', { username: d.username, role: d.role, person: d.person, password: passwords[d.username]! });
    }
  } finally {
    db.close();
  }
  const logins: Logins = { passwords, passphrases, formerPassphrase };
  writeFileSync(join(dir, LOGINS), JSON.stringify(logins, null, 2) + '\n', { mode: 0o600 });
  return { dir, paths, logins, made: true };
}

/** A clinician's signing key, unlocked with their passphrase (an insider's, or a stolen one). */
export async function clinicianKey(s: SimSite, person: string, passphrase: string): Promise<SigningKey> {
  return readProtectedKey(join(s.paths.keyringDir, `${person}.key`)).unlock(passphrase);
}

export const formerClinician = FORMER.person;
