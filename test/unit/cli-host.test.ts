/** The host's command-line tools: `vigil host`, `site init`, `provision`, `user add`, `broker-config`. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPasswd, verifySecret } from '../../host/broker/passwd.js';

const bin = join(import.meta.dirname, '../../bin/vigil.mjs');
const vigil = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000, input });

describe('host tools', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-host-'));

  it('site init makes a site; provision issues a secret the broker accepts, and refuses bad ids', () => {
    const short = vigil(['site', 'init', '--site', 'ward-c', '--data-dir', dir, '--clinician', 'ana.nurse:nurse'], 'short\n');
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/ana\.nurse's signing passphrase on line 1 of stdin/);
    const init = vigil(['site', 'init', '--site', 'ward-c', '--data-dir', dir, '--clinician', 'ana.nurse:nurse'], 'ana types her own passphrase\n');
    expect(init.status).toBe(0);
    expect(readFileSync(join(dir, 'keyring', 'ana.nurse.key'), 'utf8')).not.toMatch(/PRIVATE KEY/);
    expect(vigil(['site', 'init', '--site', 'ward-c', '--data-dir', dir]).status).not.toBe(0);
    const p = vigil(['provision', 'gw-1', '--data-dir', dir]);
    expect(p.status).toBe(0);
    const secret = p.stdout.trim();
    expect(verifySecret(secret, readPasswd(join(dir, 'passwd')).get('gw-1')!)).toBe(true);
    expect(readFileSync(join(dir, 'passwd'), 'utf8')).not.toContain(secret);
    for (const bad of ['gw+1', 'a/b', '$x', 'trust']) {
      const r = vigil(['provision', bad, '--data-dir', dir]);
      expect({ bad, status: r.status }).toEqual({ bad, status: 2 });
      expect(r.stderr).toMatch(/cannot provision/);
    }
  });

  it('keys enrol puts a person\'s key in the keyring under the passphrase they type, and never over another', () => {
    const other = join(dir, 'enrolment');
    mkdirSync(join(other, 'keyring'), { recursive: true });
    const r = vigil(['keys', 'enrol', 'bo.nurse', '--role', 'nurse', '--data-dir', other], 'bo types this passphrase\n');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stderr).toMatch(/--signer [0-9a-f]{64}:nurse:bo\.nurse/);
    const again = vigil(['keys', 'enrol', 'bo.nurse', '--role', 'nurse', '--data-dir', other], 'bo types this passphrase\n');
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/never overwritten/);
    expect(vigil(['keys', 'enrol', 'cy.nurse', '--role', 'nurse', '--data-dir', other], 'short\n').stderr).toMatch(/at least 10 characters/);
  });

  it('user add takes the password on stdin and refuses a weak one', () => {
    expect(vigil(['user', 'add', 'ana', '--role', 'nurse', '--person', 'ana.nurse', '--data-dir', dir], 'a good long password\n').status).toBe(0);
    const weak = vigil(['user', 'add', 'bob', '--role', 'nurse', '--data-dir', dir], 'short\n');
    expect(weak.status).toBe(2);
    expect(weak.stderr).toMatch(/10 to 1024 characters/);
    expect(vigil(['user', 'add', 'cat', '--role', 'janitor', '--data-dir', dir], 'a good long password\n').stderr).toMatch(/role must be one of/);
  });

  it('broker-config mosquitto writes a config and a deny-by-default ACL', () => {
    const out = join(dir, 'mq');
    expect(vigil(['broker-config', 'mosquitto', '--out', out, '--data-dir', dir, '--port', '1884']).status).toBe(0);
    const conf = readFileSync(join(out, 'mosquitto.conf'), 'utf8');
    expect(conf).toMatch(/allow_anonymous false/);
    expect(conf).toMatch(/listener 1884 127\.0\.0\.1/);
    const acl = readFileSync(join(out, 'vigil.acl'), 'utf8');
    expect(acl).toMatch(/pattern write vigil\/v1\/ward-c\/%u\/vitals/);
    expect(acl).not.toMatch(/pattern write .*\/cmd$/m);
  });

  it('vigil host names the external-broker option when its broker port is taken', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const r = spawnSync(process.execPath, [bin, 'host', '--broker-port', String(port), '--http-port', '0', '--data-dir', dir], { encoding: 'utf8', timeout: 30_000 });
    server.close();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`port ${port} is taken.*--broker mqtt://127\\.0\\.0\\.1:${port}`));
  });

  it('vigil host without a site says how to make one', () => {
    const r = vigil(['host', '--data-dir', join(dir, 'nothing-here')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/vigil site init/);
  });
});
