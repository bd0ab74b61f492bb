/**
 * The audit log: append-only and hash-chained. Entry n holds the SHA-256 of entry n-1, and its own
 * hash covers its fields and that link, so an edit, a deletion or a reordering breaks the chain
 * where it happened. Triggers refuse UPDATE and DELETE through SQLite; the chain catches anyone who
 * goes around them. The last entry's hash is also kept beside the database (`audit.head`), so
 * cutting entries off the end is caught too.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Db } from './store/db.js';

const GENESIS = new Uint8Array(32);

export interface AuditEntry {
  readonly seq: number;
  readonly t: number;
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly detail: string;
}

export interface AuditProblem {
  readonly seq: number;
  readonly problem: string;
}

function entryHash(prev: Uint8Array, e: AuditEntry): Uint8Array {
  const h = createHash('sha256');
  h.update(prev);
  h.update(JSON.stringify([e.seq, e.t, e.actor, e.action, e.subject, e.detail]));
  return new Uint8Array(h.digest());
}

export class AuditLog {
  private readonly insert;
  private readonly last;
  private readonly headFile: string | undefined;

  constructor(private readonly db: Db, headFile?: string) {
    this.headFile = headFile;
    db.exec(`
      CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    `);
    this.insert = db.prepare('INSERT INTO audit (seq, t, actor, action, subject, detail, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.last = db.prepare<[], { seq: number; hash: Uint8Array }>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
  }

  /** Appends one entry (inside the caller's transaction when there is one). */
  append(t: number, actor: string, action: string, subject: string, detail: Record<string, unknown> = {}): AuditEntry {
    const last = this.last.get();
    const e: AuditEntry = { seq: (last?.seq ?? 0) + 1, t, actor, action, subject, detail: JSON.stringify(detail) };
    const prev = last?.hash ?? GENESIS;
    const hash = entryHash(prev, e);
    this.insert.run(e.seq, e.t, e.actor, e.action, e.subject, e.detail, prev, hash);
    if (this.headFile !== undefined) {
      writeFileSync(`${this.headFile}.tmp`, `${e.seq} ${Buffer.from(hash).toString('hex')}\n`);
      renameSync(`${this.headFile}.tmp`, this.headFile);
    }
    return e;
  }

  recent(limit: number, subject?: string): AuditEntry[] {
    const rows = subject === undefined
      ? this.db.prepare('SELECT seq, t, actor, action, subject, detail FROM audit ORDER BY seq DESC LIMIT ?').all(limit)
      : this.db.prepare('SELECT seq, t, actor, action, subject, detail FROM audit WHERE subject = ? ORDER BY seq DESC LIMIT ?').all(subject, limit);
    return rows as AuditEntry[];
  }
}

/** Walks the whole chain; an empty list means it is intact. */
export function verifyAudit(db: Db, headFile?: string): { entries: number; problems: AuditProblem[] } {
  const problems: AuditProblem[] = [];
  let prev: Uint8Array = GENESIS;
  let expected = 1;
  let entries = 0;
  const rows = db.prepare('SELECT seq, t, actor, action, subject, detail, prev, hash FROM audit ORDER BY rowid').iterate() as IterableIterator<AuditEntry & { prev: Uint8Array; hash: Uint8Array }>;
  for (const row of rows) {
    entries++;
    if (row.seq !== expected) problems.push({ seq: row.seq, problem: row.seq > expected ? `entries ${expected}..${row.seq - 1} are missing` : `out of order: expected ${expected}` });
    if (!Buffer.from(row.prev).equals(Buffer.from(prev))) problems.push({ seq: row.seq, problem: 'does not link to the entry before it (deleted, inserted or reordered)' });
    if (!Buffer.from(entryHash(row.prev, row)).equals(Buffer.from(row.hash))) problems.push({ seq: row.seq, problem: 'its contents do not match its hash (edited)' });
    prev = row.hash;
    expected = row.seq + 1;
  }
  if (headFile !== undefined && existsSync(headFile)) {
    const [seqText, hex] = readFileSync(headFile, 'utf8').trim().split(' ');
    const headSeq = Number(seqText);
    if (headSeq !== expected - 1 || hex !== Buffer.from(prev).toString('hex')) {
      problems.push({ seq: headSeq, problem: `the log ends at entry ${expected - 1} but the recorded head is entry ${headSeq} (entries cut off the end, or the head replaced)` });
    }
  }
  return { entries, problems };
}
