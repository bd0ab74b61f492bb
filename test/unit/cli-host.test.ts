/** The host's command-line tools: `vigil host`, `site init`, `provision`, `user add`, `broker-config`. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
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
    const init = vigil(['site', 'init', '--site', 'ward-c', '--data-dir', dir, '--clinician', 'ana.nurse:nurse']);
    expect(init.status).toBe(0);
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
