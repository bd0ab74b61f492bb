/**
 * The audit log against someone who can write the data directory but not the audit key (issue 12,
 * item 12): they can edit rows and recompute the whole SHA-256 chain, delete the newest rows together
 * with `audit.head`, and let the host restart on the cut log. Every one of these must be found, by
 * `vigil audit verify` and by GET /api/audit/verify alike, and the host must notice at start.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Host } from '../../host/service.js';
import { readSite } from '../../host/site.js';
import { runCli } from '../support/api.js';
import { makeSite, PASSWORD, removeSite, startSiteHost } from '../support/ward.js';

const sites: string[] = [];
afterEach(() => {
  for (const d of sites.splice(0)) removeSite(d);
});

async function site(): Promise<{ dir: string; host: Host; token: string }> {
  const { dir, paths } = makeSite('ward-audit');
  sites.push(dir);
  const host = await startSiteHost(dir, paths);
  for (let i = 0; i < 5; i++) host.audit.append(Date.now(), 'eve', 'bed-assigned', `gateway/gw-${i}`, { bed: `B${i}` });
  const r = await fetch(`${host.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'eve', password: PASSWORD }) });
  return { dir, host, token: ((await r.json()) as { token: string }).token };
}

async function apiVerify(host: Host, token: string): Promise<{ problems: Array<{ problem: string }> }> {
  const r = await fetch(`${host.httpUrl}/api/audit/verify`, { headers: { authorization: `Bearer ${token}` } });
  return (await r.json()) as { problems: Array<{ problem: string }> };
}

const cliVerify = (dir: string) => runCli(['audit', 'verify', '--data-dir', dir]);

/** What an attacker with the database does: drop the guards, change rows, recompute every hash. */
function rewrite(dbFile: string, sql: string): void {
  const db = new Database(dbFile);
  db.exec('DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;');
  db.exec(sql);
  let prev = Buffer.alloc(32);
  const rows = db.prepare('SELECT seq, t, actor, action, subject, detail FROM audit ORDER BY seq').all() as Array<{ seq: number; t: number; actor: string; action: string; subject: string; detail: string }>;
  const put = db.prepare('UPDATE audit SET prev = ?, hash = ? WHERE seq = ?');
  for (const e of rows) {
    const hash = createHash('sha256').update(prev).update(JSON.stringify([e.seq, e.t, e.actor, e.action, e.subject, e.detail])).digest();
    put.run(prev, hash, e.seq);
    prev = hash;
  }
  db.close();
}

describe('the audit log against someone who can write the data directory', () => {
  it('finds rows edited and the whole chain recomputed, with a head file to match', async () => {
    const { dir, host, token } = await site();
    host.audit.checkpoint(Date.now());
    expect((await apiVerify(host, token)).problems).toEqual([]);
    await host.close();
    rewrite(join(dir, 'vigil.db'), "UPDATE audit SET actor = 'mallory' WHERE action = 'bed-assigned'");
    const db = new Database(join(dir, 'vigil.db'));
    const last = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: Buffer };
    db.close();
    rmSync(join(dir, 'audit.head'), { force: true });
    writeFileSync(join(dir, 'audit.head'), `${last.seq} ${last.hash.toString('hex')}\n`);
    const cli = await cliVerify(dir);
    expect(cli.code).toBe(1);
    expect(cli.out).toMatch(/rewritten/);
  });

  it('finds the newest rows deleted together with audit.head, and a restart on the cut log does not hide it', async () => {
    const s = await site();
    s.host.audit.checkpoint(Date.now());
    await s.host.close();
    rewrite(join(s.dir, 'vigil.db'), 'DELETE FROM audit WHERE seq > (SELECT max(seq) - 4 FROM audit)');
    rmSync(join(s.dir, 'audit.head'), { force: true });
    const cli = await cliVerify(s.dir);
    expect(cli.code).toBe(1);
    expect(cli.out).toMatch(/were cut off/);

    // the host starts again on the cut log: it says so, in the log and as an alarm, and the evidence stays
    const again = await startSiteHost(s.dir, readSite(s.dir));
    try {
      expect(again.alarms.list(true, 'host').map((a) => a.code)).toContain('audit-tampered');
      expect(again.audit.recent(5).map((e) => e.action)).toContain('audit-tamper-detected');
      const login = await fetch(`${again.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'eve', password: PASSWORD }) });
      const token = ((await login.json()) as { token: string }).token;
      const api = await apiVerify(again, token);
      // the entries the host appends now take the cut seqs: the checkpoint names a different entry there
      expect(api.problems.map((p) => p.problem).join('\n')).toMatch(/were cut off|rewritten/);
    } finally {
      await again.close();
    }
    const after = await cliVerify(s.dir);
    expect(after.code).toBe(1);
    expect(after.out).toMatch(/were cut off|rewritten/);
  });

  it('finds a forged checkpoint: one not signed by the audit key', async () => {
    const { dir, host, token } = await site();
    host.audit.checkpoint(Date.now());
    const file = join(`${dir}-audit`, 'checkpoints.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const c = JSON.parse(lines.at(-1)!) as { seq: number; hash: string; t: number; sig: string };
    appendFileSync(file, `${JSON.stringify({ ...c, t: c.t + 1 })}\n`);
    expect((await apiVerify(host, token)).problems.map((p) => p.problem).join('\n')).toMatch(/not the audit key's/);
    await host.close();
  });

  it('an intact log with its checkpoints verifies, from the CLI and the API', async () => {
    const { dir, host, token } = await site();
    host.audit.checkpoint(Date.now());
    expect((await apiVerify(host, token)).problems).toEqual([]);
    await host.close();
    const cli = await cliVerify(dir);
    expect(cli.out).toMatch(/intact: \d+ entries, \d+ signed checkpoints/);
    expect(cli.code).toBe(0);
  });
});
