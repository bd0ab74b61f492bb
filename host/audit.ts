/**
 * The audit log: append-only, hash-chained, and anchored outside the database (docs/host.md, "Audit").
 *
 * Chain: entry n holds the SHA-256 of entry n-1, and its own hash covers its fields and that link, so
 * an edit, a deletion or a reordering breaks the chain where it happened. Triggers refuse UPDATE and
 * DELETE through SQLite; the chain catches anyone who goes around them. The host keeps the head of
 * the chain in memory and appends from it, never from what the database says the last entry is.
 *
 * Anchor: a plain chain can be recomputed by whoever can write the database. So the host signs
 * checkpoints, (seq, hash of entry seq, time), with its own Ed25519 audit key, kept apart from the
 * data directory (`<data dir>-audit/`, or wherever --audit-dir puts it), at most once a second when
 * the log has grown and at close. Each checkpoint is appended to `checkpoints.jsonl` beside the key
 * (never rewritten: put it on storage the data directory's users cannot write) and written as
 * `audit.head` in the data directory. Verification checks the chain, every checkpoint's signature,
 * and that every checkpointed entry is in the log with the hash the checkpoint names: an edited and
 * re-chained log, or one cut short (with or without its head), fails. At start the host checks the
 * log against its newest checkpoint and, if entries are missing or changed, records that in the log
 * itself and raises a security alarm; it never writes over the evidence.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './store/db.js';

const GENESIS = new Uint8Array(32);
const CHECKPOINT_CONTEXT = 'vigil-audit-checkpoint-v1';

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

export interface Checkpoint {
  readonly seq: number;
  /** Hex SHA-256 of entry `seq` (the chain's head then). */
  readonly hash: string;
  readonly t: number;
  /** Base64url Ed25519 signature by the audit key. */
  readonly sig: string;
}

/** Where the audit's anchor lives: its signing key and the append-only checkpoint file. */
export interface AuditAnchor {
  readonly key: KeyObject;
  readonly publicKey: KeyObject;
  readonly checkpointFile: string;
}

function entryHash(prev: Uint8Array, e: AuditEntry): Uint8Array {
  const h = createHash('sha256');
  h.update(prev);
  h.update(JSON.stringify([e.seq, e.t, e.actor, e.action, e.subject, e.detail]));
  return new Uint8Array(h.digest());
}

function signedText(c: Pick<Checkpoint, 'seq' | 'hash' | 't'>): Buffer {
  return Buffer.from(`${CHECKPOINT_CONTEXT}\n${c.seq}\n${c.hash}\n${c.t}`);
}

/** The audit directory's key (made on first use) and checkpoint file. */
export function openAnchor(auditDir: string): AuditAnchor {
  mkdirSync(auditDir, { recursive: true, mode: 0o700 });
  const keyFile = join(auditDir, 'audit-key.pem');
  if (!existsSync(keyFile)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  }
  const key = createPrivateKey(readFileSync(keyFile));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${keyFile}: expected an Ed25519 key`);
  return { key, publicKey: createPublicKey(key), checkpointFile: join(auditDir, 'checkpoints.jsonl') };
}

/** The default audit directory: beside the data directory, not in it. */
export function defaultAuditDir(dataDir: string): string {
  return `${dataDir.replace(/[/\\]+$/, '')}-audit`;
}

/** Every checkpoint in the file, oldest first; lines that do not parse are reported. */
export function readCheckpoints(file: string): { checkpoints: Checkpoint[]; bad: number[] } {
  const checkpoints: Checkpoint[] = [];
  const bad: number[] = [];
  if (!existsSync(file)) return { checkpoints, bad };
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const c = JSON.parse(line) as Checkpoint;
      if (Number.isSafeInteger(c.seq) && typeof c.hash === 'string' && Number.isSafeInteger(c.t) && typeof c.sig === 'string') checkpoints.push(c);
      else bad.push(i + 1);
    } catch {
      bad.push(i + 1);
    }
  });
  return { checkpoints, bad };
}

export function checkpointValid(c: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedText(c), publicKey, Buffer.from(c.sig, 'base64url'));
  } catch {
    return false;
  }
}

export class AuditLog {
  private readonly insert;
  private readonly headFile: string | undefined;
  private readonly anchor: AuditAnchor | undefined;
  private head: { seq: number; hash: Uint8Array };
  private checkpointed = 0;

  constructor(private readonly db: Db, headFile?: string, anchor?: AuditAnchor) {
    this.headFile = headFile;
    this.anchor = anchor;
    db.exec(`
      CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    `);
    this.insert = db.prepare('INSERT INTO audit (seq, t, actor, action, subject, detail, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const last = db.prepare<[], { seq: number; hash: Uint8Array }>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get();
    this.head = { seq: last?.seq ?? 0, hash: last?.hash ?? GENESIS };
    if (anchor !== undefined) {
      const newest = readCheckpoints(anchor.checkpointFile).checkpoints.at(-1);
      this.checkpointed = newest?.seq ?? 0;
    }
  }

  /** Appends one entry (inside the caller's transaction when there is one). */
  append(t: number, actor: string, action: string, subject: string, detail: Record<string, unknown> = {}): AuditEntry {
    const e: AuditEntry = { seq: this.head.seq + 1, t, actor, action, subject, detail: JSON.stringify(detail) };
    const hash = entryHash(this.head.hash, e);
    this.insert.run(e.seq, e.t, e.actor, e.action, e.subject, e.detail, this.head.hash, hash);
    // the head moves only if the insert stood; a rolled-back transaction would leave it ahead, so the
    // caller's transaction failing resets it from the database (resync)
    this.head = { seq: e.seq, hash };
    if (this.anchor === undefined && this.headFile !== undefined) this.writeHead(`${e.seq} ${Buffer.from(hash).toString('hex')}\n`);
    return e;
  }

  /** After a failed transaction: the head as the database has it. */
  resync(): void {
    const last = this.db.prepare<[], { seq: number; hash: Uint8Array }>('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get();
    this.head = { seq: last?.seq ?? 0, hash: last?.hash ?? GENESIS };
  }

  /** Signs and records a checkpoint of the head, if the log grew since the last one. */
  checkpoint(t: number): Checkpoint | undefined {
    if (this.anchor === undefined || this.head.seq <= this.checkpointed) return undefined;
    const c0 = { seq: this.head.seq, hash: Buffer.from(this.head.hash).toString('hex'), t };
    const c: Checkpoint = { ...c0, sig: sign(null, signedText(c0), this.anchor.key).toString('base64url') };
    const line = `${JSON.stringify(c)}\n`;
    const fd = openSync(this.anchor.checkpointFile, 'a', 0o600);
    try {
      writeSync(fd, line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (this.headFile !== undefined) this.writeHead(line);
    this.checkpointed = c.seq;
    return c;
  }

  /**
   * The log against its newest checkpoint, at start: problems when entries the checkpoint covers are
   * missing or changed (the database was cut short or rewritten while the host was down).
   */
  checkAgainstAnchor(): AuditProblem[] {
    if (this.anchor === undefined) return [];
    return anchorProblems(this.db, this.anchor.publicKey, readCheckpoints(this.anchor.checkpointFile).checkpoints.slice(-1));
  }

  recent(limit: number, subject?: string): AuditEntry[] {
    const rows = subject === undefined
      ? this.db.prepare('SELECT seq, t, actor, action, subject, detail FROM audit ORDER BY seq DESC LIMIT ?').all(limit)
      : this.db.prepare('SELECT seq, t, actor, action, subject, detail FROM audit WHERE subject = ? ORDER BY seq DESC LIMIT ?').all(subject, limit);
    return rows as AuditEntry[];
  }

  /** What verification needs besides the database. */
  get anchorForVerify(): { headFile?: string; publicKey?: KeyObject; checkpointFile?: string } {
    return { headFile: this.headFile, publicKey: this.anchor?.publicKey, checkpointFile: this.anchor?.checkpointFile };
  }

  private writeHead(text: string): void {
    writeFileSync(`${this.headFile}.tmp`, text);
    renameSync(`${this.headFile}.tmp`, this.headFile!);
  }
}

/** Checkpoints against the log: each must be signed by the audit key and name an entry the log holds, with that hash. */
function anchorProblems(db: Db, publicKey: KeyObject, checkpoints: readonly Checkpoint[]): AuditProblem[] {
  const problems: AuditProblem[] = [];
  const last = db.prepare<[], { seq: number }>('SELECT seq FROM audit ORDER BY seq DESC LIMIT 1').get()?.seq ?? 0;
  const at = db.prepare<[number], { hash: Uint8Array }>('SELECT hash FROM audit WHERE seq = ?');
  for (const c of checkpoints) {
    if (!checkpointValid(c, publicKey)) {
      problems.push({ seq: c.seq, problem: 'a checkpoint whose signature is not the audit key\'s (forged or damaged)' });
      continue;
    }
    const row = at.get(c.seq);
    if (row === undefined) problems.push({ seq: c.seq, problem: `the log ends at entry ${last}, but entry ${c.seq} was checkpointed at ${new Date(c.t).toISOString()}: entries ${last + 1}..${c.seq} were cut off` });
    else if (Buffer.from(row.hash).toString('hex') !== c.hash) problems.push({ seq: c.seq, problem: 'the log up to here was rewritten: its hash is not the one checkpointed (entries edited and the chain recomputed)' });
  }
  return problems;
}

/**
 * Walks the whole chain and checks it against every checkpoint (and the head file, when there is no
 * checkpoint file); an empty list means it is intact. The CLI and the API both call this.
 */
export function verifyAudit(db: Db, anchor: { headFile?: string; publicKey?: KeyObject; checkpointFile?: string } = {}): { entries: number; checkpoints: number; problems: AuditProblem[] } {
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
  let checkpoints = 0;
  if (anchor.checkpointFile !== undefined && anchor.publicKey !== undefined) {
    const read = readCheckpoints(anchor.checkpointFile);
    checkpoints = read.checkpoints.length;
    for (const line of read.bad) problems.push({ seq: 0, problem: `checkpoint file line ${line} is not a checkpoint` });
    if (entries > 0 && checkpoints === 0) problems.push({ seq: 0, problem: `no checkpoint in ${anchor.checkpointFile}: the log cannot be told from a recomputed one` });
    problems.push(...anchorProblems(db, anchor.publicKey, read.checkpoints));
    if (anchor.headFile !== undefined && existsSync(anchor.headFile)) {
      const head = readCheckpoints(anchor.headFile).checkpoints[0];
      if (head !== undefined && !read.checkpoints.some((c) => c.seq === head.seq && c.hash === head.hash)) problems.push({ seq: head.seq, problem: 'audit.head names a checkpoint the checkpoint file does not hold' });
    }
  } else if (anchor.headFile !== undefined && existsSync(anchor.headFile)) {
    const [seqText, hex] = readFileSync(anchor.headFile, 'utf8').trim().split(' ');
    const headSeq = Number(seqText);
    if (headSeq !== expected - 1 || hex !== Buffer.from(prev).toString('hex')) {
      problems.push({ seq: headSeq, problem: `the log ends at entry ${expected - 1} but the recorded head is entry ${headSeq} (entries cut off the end, or the head replaced)` });
    }
  }
  return { entries, checkpoints, problems };
}

/** Loads the audit directory for verification only (the key must exist). */
export function readAnchor(auditDir: string): { publicKey: KeyObject; checkpointFile: string } {
  const keyFile = join(auditDir, 'audit-key.pem');
  if (!existsSync(keyFile)) throw new Error(`no audit key at ${keyFile}: give the host's --audit-dir`);
  return { publicKey: createPublicKey(createPrivateKey(readFileSync(keyFile))), checkpointFile: join(auditDir, 'checkpoints.jsonl') };
}

