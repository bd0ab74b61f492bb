/**
 * The host's SQLite database (better-sqlite3: synchronous, one connection, prepared statements; the
 * project's measured choice, DESIGN.md). WAL with synchronous=FULL: a committed transaction survives
 * a crash or a power cut, which is what an `ack` promises. One row per vitals batch (the CBOR as the
 * gateway sent it): measured fastest here, and the batch is the unit of acknowledgement.
 */
import Database from 'better-sqlite3';
import { migrateToV2, migrateToV3, migrateToV4 } from './migrations.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS gateways (
  id TEXT PRIMARY KEY,
  bed TEXT,
  presence TEXT NOT NULL DEFAULT 'offline',  -- online / degraded / offline
  presence_since INTEGER,                     -- host ms when it took this presence
  bd_seq INTEGER,
  boot_id BLOB,
  firmware TEXT,
  device_kind TEXT, device_model TEXT, device_serial TEXT,
  device_firmware TEXT,                       -- the device's own firmware version, as it reports it
  expected_model TEXT,                        -- the device model its provisioning bundle names
  provisioned_at INTEGER,                     -- when its bundle was issued (ms), null: not registered from a bundle
  nonce BLOB,
  mode TEXT,                                  -- the gateway's own view: online / degraded / recovering
  buffer_used INTEGER, buffer_capacity INTEGER, buffer_dropped INTEGER,
  last_seen INTEGER,                          -- host ms of the last message of any kind
  birth_at INTEGER,
  limits TEXT,                                -- per-bed clinical alarm limits (JSON), null: defaults
  -- the device's present settings from the last birth (JSON), null: not reported
  settings TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS advisories (
  id TEXT PRIMARY KEY,                        -- the CSAF document's tracking id
  version TEXT NOT NULL,                      -- its tracking version (a revision replaces the older)
  title TEXT NOT NULL,
  imported INTEGER NOT NULL,
  imported_by TEXT NOT NULL,
  summary TEXT NOT NULL                       -- JSON: CVEs, CVSS, remediations, products, what was not understood
) STRICT;
CREATE TABLE IF NOT EXISTS notices (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,                         -- drill / outage / maintenance
  message TEXT NOT NULL,
  started INTEGER NOT NULL,
  started_by TEXT NOT NULL,
  ended INTEGER,
  ended_by TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS boots (
  gateway TEXT NOT NULL,
  boot_id BLOB NOT NULL,
  through INTEGER NOT NULL DEFAULT -1,        -- highest contiguous seq committed or known lost
  first_seen INTEGER NOT NULL,
  PRIMARY KEY (gateway, boot_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
  gateway TEXT NOT NULL,
  boot_id BLOB NOT NULL,
  seq INTEGER NOT NULL,
  t0 INTEGER NOT NULL,
  clock TEXT NOT NULL,
  serial TEXT NOT NULL,
  historical INTEGER NOT NULL,
  received INTEGER NOT NULL,
  body BLOB NOT NULL,                         -- the batch exactly as the gateway stored it in flash
  PRIMARY KEY (gateway, boot_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS batches_received ON batches (received);
CREATE INDEX IF NOT EXISTS batches_time ON batches (gateway, t0); -- the station's trends
CREATE TABLE IF NOT EXISTS gaps (
  gateway TEXT NOT NULL,
  boot_id BLOB NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  reported INTEGER NOT NULL,
  PRIMARY KEY (gateway, boot_id, first_seq, last_seq)
) STRICT;
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  gateway TEXT NOT NULL,
  boot_id BLOB,
  t INTEGER, clock TEXT,
  class TEXT NOT NULL, code TEXT NOT NULL, priority TEXT NOT NULL,
  detail TEXT NOT NULL,
  received INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS events_received ON events (received);
CREATE TABLE IF NOT EXISTS alarms (
  id INTEGER PRIMARY KEY,
  gateway TEXT NOT NULL,
  class TEXT NOT NULL,                        -- clinical / technical / security
  code TEXT NOT NULL,
  priority TEXT NOT NULL,                     -- high / medium / low (IEC 60601-1-8)
  message TEXT NOT NULL,
  detail TEXT NOT NULL,
  raised INTEGER NOT NULL,
  cleared INTEGER,
  acked_by TEXT, acked_at INTEGER,
  silenced_by TEXT, silenced_until INTEGER,
  escalations INTEGER NOT NULL DEFAULT 0,
  escalated_at INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS alarms_open ON alarms (cleared, gateway);
CREATE TABLE IF NOT EXISTS commands (
  id INTEGER PRIMARY KEY,
  gateway TEXT NOT NULL,
  counter INTEGER,
  order_id TEXT NOT NULL,
  params TEXT NOT NULL,
  previous TEXT,                              -- the device's values of those settings when asked (JSON), null: not known
  requested_by TEXT NOT NULL,
  cosigned_by TEXT,
  status TEXT NOT NULL,                       -- awaiting-cosign / pending / accepted / rejected / applied / failed / timed-out / withdrawn
  reason TEXT,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS commands_counter ON commands (gateway, counter) WHERE counter IS NOT NULL;
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  t INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev BLOB NOT NULL,
  hash BLOB NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY,
  display TEXT NOT NULL,
  role TEXT NOT NULL,
  person TEXT,                                -- the trust list's person this user signs as
  password TEXT NOT NULL,                     -- scrypt$N$r$p$salt$hash
  created INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE IF NOT EXISTS sessions (
  token_hash BLOB PRIMARY KEY,
  username TEXT NOT NULL,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL
) STRICT;
`;

/** How long a write waits for another process's lock before it fails (ms). */
export const BUSY_TIMEOUT_MS = 100;

export function openDb(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // another process holding the write lock (a backup, an sqlite3 shell) makes a write wait this long,
  // on the event loop, then fail: the host degrades (storage.ts) rather than freezing for seconds
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  migrate(db);
  return db;
}

/** The schema version this code writes (PRAGMA user_version). */
export const SCHEMA_VERSION = 4;

/**
 * Brings a database to SCHEMA_VERSION, in one transaction: a new one gets the schema; version 0 (the
 * first host) has its gateway columns renamed to the protocol's names (fw → firmware, fill_* →
 * buffer_*) and its stored batches rewritten from the whole text-keyed record to the batch body of
 * protocol revision 2 (migrations.ts); version 2 gains the gateways' device settings (3); version 3 the device's own firmware version, imported advisories and provisioning (4); a newer version than this code knows is refused.
 */
function migrate(db: Db): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw new Error(`the database is at schema version ${version}; this host knows up to ${SCHEMA_VERSION}: use a newer host`);
  if (version === SCHEMA_VERSION) return;
  const hasTables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'gateways'").get() as { n: number };
  db.transaction(() => {
    if (hasTables.n > 0 && version < 2) migrateToV2(db);
    if (hasTables.n > 0 && version < 3) migrateToV3(db);
    if (hasTables.n > 0 && version < 4) migrateToV4(db);
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
