/**
 * Schema migrations of the host's database (store/db.ts runs them by PRAGMA user_version).
 *
 * Version 2 (protocol revision 2, issue 11): one name per concept from the wire to the database, and
 * batches stored as the gateway stores them. The gateway columns `fw`, `fill_used`, `fill_capacity`,
 * `dropped` become `firmware`, `buffer_used`, `buffer_capacity`, `buffer_dropped`. Each stored batch,
 * the whole text-keyed record of revision 1 ({bootId, seq, t0, clock, serial, metrics: [{mdc, v, dt,
 * unit?, scale?, gaps?, n?}]}), is rewritten as a revision-2 batch body. The sample bytes (`v`) are the
 * same in both; only the map around them changes, so no sample is decoded or altered.
 */
import { decode, encode, type CborKey, type CborValue } from '../../firmware/core/cbor/index.js';
import type Database from 'better-sqlite3';

type Db = Database.Database;

const MDC_SCADA = 0x20000;

export function migrateToV2(db: Db): void {
  const columns = new Set((db.prepare("SELECT name FROM pragma_table_info('gateways')").all() as Array<{ name: string }>).map((c) => c.name));
  for (const [from, to] of [['fw', 'firmware'], ['fill_used', 'buffer_used'], ['fill_capacity', 'buffer_capacity'], ['dropped', 'buffer_dropped']] as const) {
    if (columns.has(from) && !columns.has(to)) db.exec(`ALTER TABLE gateways RENAME COLUMN ${from} TO ${to}`);
  }
  const rows = db.prepare('SELECT gateway, boot_id, seq, body FROM batches').all() as Array<{ gateway: string; boot_id: Uint8Array; seq: number; body: Uint8Array }>;
  const update = db.prepare('UPDATE batches SET body = ? WHERE gateway = ? AND boot_id = ? AND seq = ?');
  for (const r of rows) {
    const body = v1ToV2(r.body);
    if (body !== undefined) update.run(body, r.gateway, r.boot_id, r.seq);
  }
}

/** Version 3: the device's present settings as the gateway's birth reports them, since when it has its presence, and each command's values before it. */
export function migrateToV3(db: Db): void {
  const columns = new Set((db.prepare("SELECT name FROM pragma_table_info('gateways')").all() as Array<{ name: string }>).map((c) => c.name));
  if (!columns.has('settings')) db.exec('ALTER TABLE gateways ADD COLUMN settings TEXT');
  if (!columns.has('presence_since')) db.exec('ALTER TABLE gateways ADD COLUMN presence_since INTEGER');
  const commandColumns = new Set((db.prepare("SELECT name FROM pragma_table_info('commands')").all() as Array<{ name: string }>).map((c) => c.name));
  if (commandColumns.size > 0 && !commandColumns.has('previous')) db.exec('ALTER TABLE commands ADD COLUMN previous TEXT');
}

/** Version 4: the device's own firmware version (from its hello, through the birth), for matching security advisories; what a gateway's provisioning bundle registered. */
export function migrateToV4(db: Db): void {
  const columns = new Set((db.prepare("SELECT name FROM pragma_table_info('gateways')").all() as Array<{ name: string }>).map((c) => c.name));
  if (!columns.has('device_firmware')) db.exec('ALTER TABLE gateways ADD COLUMN device_firmware TEXT');
  if (!columns.has('expected_model')) db.exec('ALTER TABLE gateways ADD COLUMN expected_model TEXT');
  if (!columns.has('provisioned_at')) db.exec('ALTER TABLE gateways ADD COLUMN provisioned_at INTEGER');
}

/** A revision-1 record as a revision-2 batch body; undefined when it is already one (or not a batch). */
export function v1ToV2(bytes: Uint8Array): Uint8Array | undefined {
  const r = decode(bytes, { maxDepth: 6, maxLength: 8192 });
  if (!r.ok || !(r.value instanceof Map) || !r.value.has('metrics')) return undefined;
  const m = r.value;
  const metrics = m.get('metrics') as ReadonlyArray<Map<CborKey, CborValue>>;
  const dt = (metrics[0]?.get('dt') as number | undefined) ?? 1000; // the batch's default; other columns give theirs
  const columns = metrics.map((c) => {
    const out = new Map<CborKey, CborValue>([[1, (c.get('mdc') as number) ^ MDC_SCADA], [2, c.get('v') as Uint8Array]]);
    if (c.get('dt') !== dt) out.set(3, c.get('dt') as number);
    if (c.has('unit')) out.set(4, c.get('unit') as string);
    if (c.has('scale')) out.set(5, c.get('scale') as number);
    if (c.has('gaps')) out.set(6, c.get('gaps') as Uint8Array);
    if (c.has('n')) out.set(7, c.get('n') as number);
    return out;
  });
  const body = new Map<CborKey, CborValue>([[1, m.get('t0') as number], [3, m.get('serial') as string], [4, columns], [5, dt]]);
  if (m.get('clock') === 'boot') body.set(2, 1);
  return encode(body);
}
