/** The ACL abuse suite against the embedded aedes broker (its twin against Mosquitto: test/services). */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityOf, mayPublish, maySubscribe } from '../../host/broker/acl.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../host/broker/embedded.js';
import { hashSecret, issueSecret, readPasswd } from '../../host/broker/passwd.js';
import { aclAbuseSuite } from '../support/acl-abuse.js';

let dir: string;
let broker: EmbeddedBroker;
const secrets = new Map<string, string>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-acl-'));
  broker = await startEmbeddedBroker({ site: 'ward-a', port: 0, passwdFile: join(dir, 'passwd') });
});
afterAll(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

function secret(user: string): string {
  let s = secrets.get(user);
  if (s === undefined) {
    if (!('refused' in identityOf(user))) s = issueSecret(join(dir, 'passwd'), user);
    else {
      // bypass provisioning's own check: write the bad id straight into the file, to prove the broker refuses it too
      s = 'a-secret-for-a-bad-id';
      if (/[\n:]/.test(user)) throw new Error('not representable');
      writeFileSync(join(dir, 'passwd'), `${readFileSync(join(dir, 'passwd'), 'utf8')}${user}:${hashSecret(s)}\n`);
      expect(readPasswd(join(dir, 'passwd')).has(user)).toBe(true);
    }
    secrets.set(user, s);
  }
  return s;
}

aclAbuseSuite('the embedded aedes broker', () => ({ url: broker.url, site: 'ward-a', secret, clientIdBound: true, subackDenies: true, badIdsRefusedAtConnect: true }));

describe('ACL rules', () => {
  const gw = { kind: 'gateway', id: 'gw-a' } as const;
  it('deny by default: only the listed channels under the own prefix', () => {
    expect(mayPublish(gw, 's', 'vigil/v1/s/gw-a/vitals')).toBe(true);
    expect(mayPublish(gw, 's', 'vigil/v1/s/gw-a/cmd/result')).toBe(true);
    expect(mayPublish(gw, 's', 'vigil/v1/s/gw-a/cmd')).toBe(false);
    expect(mayPublish(gw, 's', 'vigil/v1/s/gw-ab/vitals')).toBe(false);
    expect(mayPublish(gw, 's', 'vigil/v1/s/gw-a/vitals/x')).toBe(false);
    expect(mayPublish({ kind: 'host' }, 's', 'vigil/v1/s/')).toBe(false);
    expect(mayPublish({ kind: 'host' }, 's', 'vigil/v1/s/+/cmd')).toBe(false);
    expect(maySubscribe({ kind: 'host' }, 's', 'vigil/v1/s/#')).toBe(true);
    expect(maySubscribe({ kind: 'host' }, 's', 'vigil/v1/s/a#')).toBe(false);
    expect(maySubscribe({ kind: 'host' }, 's', 'vigil/v1/s/#/x')).toBe(false);
    expect(maySubscribe(gw, 's', 'vigil/v1/s/trust')).toBe(true);
  });
  it('refuses ids outside the id syntax and names why', () => {
    expect(identityOf('gw+1')).toEqual({ refused: '"+" in the id' });
    expect(identityOf('a/b')).toEqual({ refused: '"/" in the id' });
    expect(identityOf('gw\u0007')).toEqual({ refused: 'control characters in the id' });
    expect(identityOf('trust')).toHaveProperty('refused');
    expect(identityOf('host')).toEqual({ kind: 'host' });
  });
});
