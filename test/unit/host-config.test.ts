/** The host refuses a configuration it cannot run safely, before it touches its database, and says why. */
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeProtectedKey } from '../../host/signing/keyring.js';
import { newKeyPair } from '../../host/signing/keys.js';
import { startHost, type HostOptions } from '../../host/service.js';
import { makeSite } from '../support/ward.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function options(): HostOptions & { dir: string } {
  const { dir, paths } = makeSite('ward-cfg');
  made.push(dir);
  return { dir, site: paths.site, dataDir: dir, broker: { embedded: { port: 0 } }, http: { port: 0 }, rootKey: paths.rootPublicKey, trustFile: paths.trustFile, keyringDir: paths.keyringDir, log: () => undefined };
}

describe('host configuration', () => {
  it('refuses a trust list signed by another root', async () => {
    const o = options();
    const other = makeSite('ward-cfg');
    made.push(other.dir);
    await expect(startHost({ ...o, rootKey: other.paths.rootPublicKey })).rejects.toThrow(/trust list refused: bad-signature/);
    expect(existsSync(join(o.dir, 'vigil.db'))).toBe(false);
  });

  it('refuses the trust list of another site', async () => {
    const o = options();
    await expect(startHost({ ...o, site: 'ward-other' })).rejects.toThrow(/trust list of site ward-cfg, not ward-other/);
  });

  it('refuses a keyring key that the trust list does not enrol', async () => {
    const o = options();
    writeProtectedKey(o.keyringDir!, 'stranger', newKeyPair().pem, 'the stranger signs here');
    await expect(startHost(o)).rejects.toThrow(/stranger\.key: kid [0-9a-f]+ is not in the trust list/);
  });

  it('refuses a private key kept in the clear in the keyring, and says how to protect it', async () => {
    const o = options();
    writeFileSync(join(o.keyringDir!, 'ana.nurse.pem'), newKeyPair().pem);
    await expect(startHost(o)).rejects.toThrow(/ana\.nurse\.pem holds a private key in the clear.*vigil keys enrol/);
    expect(existsSync(join(o.dir, 'vigil.db'))).toBe(false);
  });

  it('refuses a key file whose person is not the one the trust list names for its key', async () => {
    const o = options();
    const f = readdirSync(o.keyringDir!).find((x) => x.startsWith('ana.nurse'))!;
    const text = JSON.parse(readFileSync(join(o.keyringDir!, f), 'utf8')) as { person: string };
    unlinkSync(join(o.keyringDir!, f));
    writeFileSync(join(o.keyringDir!, 'x.key'), JSON.stringify({ ...text, person: 'ben.md' }));
    await expect(startHost(o)).rejects.toThrow(/the trust list names this key's signer ana\.nurse, the file says ben\.md/);
  });

  it('refuses a bad site id and a missing trust list', async () => {
    const o = options();
    await expect(startHost({ ...o, site: 'Ward 1' })).rejects.toThrow(/site id "Ward 1"/);
    await expect(startHost({ ...o, trustFile: join(o.dir, 'none.cose') })).rejects.toThrow(/no trust list at/);
  });
});
