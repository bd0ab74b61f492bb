/**
 * The host's database migration to schema 2 (protocol revision 2), run on a real database of the
 * revision-1 host: test/fixtures/host-v1.db was written by Vigil 980e3a9 (a host and three Node
 * gateways, one through an outage), and host-v1.expected.json holds what that code decoded from it.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../firmware/core/hex.js';
import { decodeBatch } from '../../firmware/core/vitals/index.js';
import { verifyAudit } from '../../host/audit.js';
import { openDb, SCHEMA_VERSION } from '../../host/store/db.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/host-v1.db');
interface Expected {
  gateways: Array<{ id: string; fw: string; fill_used: number; fill_capacity: number; dropped: number; device_serial: string }>;
  batches: Array<{ gateway: string; bootId: string; seq: number; historical: number; t0: number; clock: string; serial: string; columns: Array<{ mdc: number; unit: string; dt: number; values: Array<number | null> }> }>;
}
const expected = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/host-v1.expected.json'), 'utf8')) as Expected;

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function copy(): string {
  dir = mkdtempSync(join(tmpdir(), 'vigil-migrate-'));
  const path = join(dir, 'vigil.db');
  copyFileSync(FIXTURE, path);
  return path;
}

describe('migrating a revision-1 host database', () => {
  it('renames the gateway columns, keeps their values, and rewrites every stored batch without changing a sample', () => {
    const path = copy();
    const db = openDb(path);
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const gateways = db.prepare('SELECT id, firmware, buffer_used, buffer_capacity, buffer_dropped, device_serial FROM gateways ORDER BY id').all();
      expect(gateways).toEqual(expected.gateways.map((g) => ({ id: g.id, firmware: g.fw, buffer_used: g.fill_used, buffer_capacity: g.fill_capacity, buffer_dropped: g.dropped, device_serial: g.device_serial })));
      const rows = db.prepare('SELECT gateway, boot_id, seq, historical, body FROM batches ORDER BY gateway, boot_id, seq').all() as Array<{ gateway: string; boot_id: Uint8Array; seq: number; historical: number; body: Uint8Array }>;
      expect(rows).toHaveLength(expected.batches.length);
      expect(expected.batches.some((b) => b.historical === 1)).toBe(true);
      const kinds = new Set(expected.batches.map((b) => b.gateway));
      expect(kinds.size).toBe(3);
      rows.forEach((r, i) => {
        const want = expected.batches[i]!;
        const b = decodeBatch(r.body);
        if (!b.ok) throw new Error(`${r.gateway} seq ${r.seq}: ${b.error.detail}`);
        expect({ gateway: r.gateway, bootId: toHex(r.boot_id), seq: r.seq, historical: r.historical, t0: b.value.t0, clock: b.value.clock, serial: b.value.serial, columns: b.value.columns.map((c) => ({ mdc: c.mdc, unit: c.unit, dt: c.dt, values: c.values })) }).toEqual({
          ...want,
          columns: want.columns.map((c) => ({ mdc: c.mdc, unit: c.unit, dt: c.dt, values: c.values })),
        });
      });
      expect(verifyAudit(db).problems).toEqual([]); // the audit chain is not touched
    } finally {
      db.close();
    }
  });

  it('is done once: opening the migrated database again changes nothing', () => {
    const path = copy();
    openDb(path).close();
    const before = new Database(path).prepare('SELECT body FROM batches ORDER BY gateway, boot_id, seq').all();
    openDb(path).close();
    expect(new Database(path).prepare('SELECT body FROM batches ORDER BY gateway, boot_id, seq').all()).toEqual(before);
  });

  it('refuses a database of a newer schema than it knows, and leaves it as it was', () => {
    const path = copy();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openDb(path)).toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1}.*use a newer host`));
    const again = new Database(path);
    expect(again.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    expect((again.prepare("SELECT name FROM pragma_table_info('gateways')").all() as Array<{ name: string }>).map((c) => c.name)).toContain('fw');
    again.close();
  });

  it('migrates all or nothing: a failure halfway leaves the revision-1 database intact', () => {
    const path = copy();
    const raw = new Database(path);
    // a trigger that fails the rewrite of the last batch stands in for a crash halfway through
    const last = raw.prepare('SELECT seq FROM batches ORDER BY gateway DESC, boot_id DESC, seq DESC LIMIT 1').pluck().get() as number;
    raw.exec(`CREATE TRIGGER fail_late BEFORE UPDATE ON batches WHEN NEW.seq = ${last} BEGIN SELECT RAISE(ABORT, 'disk gone'); END`);
    raw.close();
    expect(() => openDb(path)).toThrow(/disk gone/);
    const after = new Database(path);
    expect(after.pragma('user_version', { simple: true })).toBe(0);
    expect((after.prepare("SELECT name FROM pragma_table_info('gateways')").all() as Array<{ name: string }>).map((c) => c.name)).toContain('fill_used');
    const bodies = after.prepare('SELECT body FROM batches').pluck().all() as Uint8Array[];
    expect(bodies.every((b) => decodeBatch(b).ok === false)).toBe(true); // still revision-1 records, not one rewritten
    after.close();
  });
});
