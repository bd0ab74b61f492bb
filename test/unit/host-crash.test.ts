/**
 * The host killed with SIGKILL in the middle of a drain, and restarted: nothing is lost, because a
 * gateway frees a record only when the host's ack says it is committed, and the host acks only after
 * the commit. The host runs as its own process (`vigil host` against an external broker), exactly as
 * deployed; the broker and the gateway live on in this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../host/broker/embedded.js';
import { issueSecret } from '../../host/broker/passwd.js';
import type { SitePaths } from '../../host/site.js';
import { makeSite, removeSite, provision, sleep, startGateway, until, type TestGateway } from '../support/ward.js';

let dir: string;
let paths: SitePaths;
let broker: EmbeddedBroker;
let gw: TestGateway;
let child: ChildProcess | undefined;
let output = '';

function startHostProcess(): ChildProcess {
  const c = spawn(process.execPath, ['bin/vigil.mjs', 'host', '--data-dir', dir, '--broker', broker.url, '--broker-secret-file', join(dir, 'host.secret'), '--http-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  c.stdout!.on('data', (d) => (output += d));
  c.stderr!.on('data', (d) => (output += d));
  return c;
}

function stored(): { n: number; historical: number; seqs: Map<string, number[]> } {
  if (!existsSync(join(dir, 'vigil.db'))) return { n: 0, historical: 0, seqs: new Map() };
  const db = new Database(join(dir, 'vigil.db'), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    const rows = db.prepare("SELECT hex(boot_id) AS boot, seq, historical FROM batches WHERE gateway = 'gw-k' ORDER BY boot_id, seq").all() as Array<{ boot: string; seq: number; historical: number }>;
    const seqs = new Map<string, number[]>();
    for (const r of rows) seqs.set(r.boot, [...(seqs.get(r.boot) ?? []), r.seq]);
    return { n: rows.length, historical: rows.filter((r) => r.historical === 1).length, seqs };
  } catch {
    return { n: 0, historical: 0, seqs: new Map() }; // the schema is not there yet
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  ({ dir, paths } = makeSite('ward-k'));
  writeFileSync(join(dir, 'host.secret'), issueSecret(paths.passwdFile, 'host'));
  broker = await startEmbeddedBroker({ site: 'ward-k', port: 0, passwdFile: paths.passwdFile });
  gw = startGateway({ site: paths, id: 'gw-k', kind: 'monitor', brokerUrl: broker.url, secret: provision(paths, 'gw-k'), config: { batchMs: 100, outageBatchMs: 100, drainEveryMs: 150, drainBatch: 1 } });
});

afterAll(async () => {
  child?.kill('SIGKILL');
  gw?.device.stop();
  await gw?.gw.stop();
  await broker?.close();
  removeSite(dir);
});

describe('host killed mid-drain', () => {
  it('loses nothing: the gateway keeps every record until the restarted host has committed and acked it', async () => {
    // no host yet: the gateway is degraded and records to flash
    await until('degraded', () => gw.gw.core.mode === 'degraded');
    await sleep(4000);
    const backlog = gw.gw.core.log.stats().used;
    expect(backlog).toBeGreaterThan(0);

    child = startHostProcess();
    await until('the host has committed part of the backlog', () => stored().historical >= 3, 30_000);
    expect(gw.gw.core.log.stats().used).toBeGreaterThan(0); // mid-drain
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    const atKill = stored();
    expect(atKill.n).toBeGreaterThan(0);
    // the broker publishes the dead host's will: the gateway sees the host offline and degrades
    await until('gateway degraded by the host\'s will', () => gw.gw.core.mode === 'degraded');
    // and still holds what the dead host never acked
    expect(gw.gw.core.log.stats().used).toBeGreaterThan(0);

    child = startHostProcess();
    await until('drained and acked after the restart', () => gw.gw.core.mode === 'online' && gw.gw.core.log.stats().used === 0, 60_000);
    await sleep(500);
    const after = stored();
    expect(after.n).toBeGreaterThan(atKill.n);
    for (const [boot, seqs] of after.seqs) {
      const missing = [...Array(seqs.at(-1)! + 1).keys()].filter((s) => !seqs.includes(s));
      expect({ boot, missing }).toEqual({ boot, missing: [] });
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;
  }, 120_000);
});

afterAll(() => {
  if (process.env.VIGIL_DEBUG) console.log(output);
});
