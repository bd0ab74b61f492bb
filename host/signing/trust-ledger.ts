/**
 * The record of every trust list a root key has signed, kept beside the key (`<root key>.ledger`,
 * one JSON line per list: epoch, issued, SHA-256 of the signed payload). Gateways take a new list only
 * if it is newer than theirs, by (epoch, issued), and refuse a different list with the same pair
 * (docs/commands.md, "The trust list"). So the signer's tools refuse to sign a list that is not newer
 * than every list this key has signed: two builds in the same second, or a rebuild at an old epoch,
 * can never produce two lists that gateways would fight over.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { decode } from '../../firmware/core/cbor/index.js';
import { parseCose } from '../../firmware/core/command/index.js';

export interface TrustVersion {
  readonly epoch: number;
  readonly issued: number;
}

export interface LedgerEntry extends TrustVersion {
  /** SHA-256 of the signed payload, hex. */
  readonly payload: string;
}

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
}

export function ledgerPath(rootKeyPath: string): string {
  return `${rootKeyPath}.ledger`;
}

/** Lexicographic (epoch, issued): negative when a is older than b. */
export function compareVersions(a: TrustVersion, b: TrustVersion): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.issued - b.issued;
}

export function readLedger(rootKeyPath: string): LedgerEntry[] {
  const file = ledgerPath(rootKeyPath);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      const e = JSON.parse(line) as Partial<LedgerEntry>;
      if (!Number.isSafeInteger(e.epoch) || !Number.isSafeInteger(e.issued) || typeof e.payload !== 'string') throw new LedgerError(`${file} line ${i + 1} is not a ledger entry`);
      return e as LedgerEntry;
    });
}

/** The newest version in the ledger (and in `also`, lists found elsewhere), or undefined. */
export function newestVersion(entries: readonly TrustVersion[]): TrustVersion | undefined {
  let best: TrustVersion | undefined;
  for (const e of entries) if (best === undefined || compareVersions(e, best) > 0) best = e;
  return best;
}

/** The (epoch, issued) and payload hash of a signed trust list file's bytes, or undefined if it is not one. */
export function versionOf(signed: Uint8Array): LedgerEntry | undefined {
  const cose = parseCose(signed);
  if (!cose.ok) return undefined;
  const r = decode(cose.value.payload, { maxDepth: 6, maxLength: 4096 });
  if (!r.ok || !(r.value instanceof Map)) return undefined;
  const epoch = r.value.get('epoch');
  const issued = r.value.get('issued');
  if (typeof epoch !== 'number' || typeof issued !== 'number') return undefined;
  return { epoch, issued, payload: createHash('sha256').update(cose.value.payload).digest('hex') };
}

/**
 * Refuses a version that is not newer than `newest` (what this key signed, or what gateways hold).
 * The same payload again is allowed: it is the same list.
 */
export function checkNewer(next: LedgerEntry, known: readonly LedgerEntry[]): void {
  for (const e of known) {
    const order = compareVersions(next, e);
    if (order === 0 && e.payload !== next.payload) {
      throw new LedgerError(`a different trust list with epoch ${e.epoch} and issue time ${e.issued} was already signed; gateways would refuse this one as a version conflict. Use a later --issued or a higher --epoch`);
    }
    if (order < 0) {
      throw new LedgerError(`a trust list with epoch ${e.epoch} issued ${e.issued} was already signed; gateways holding it would refuse epoch ${next.epoch} issued ${next.issued} as a rollback. Use --epoch ${e.epoch} with a later --issued, or a higher --epoch`);
    }
  }
}

/** Appends a signed list to the root key's ledger, durably, before the list is handed out. */
export function recordTrustList(rootKeyPath: string, signed: Uint8Array): LedgerEntry {
  const v = versionOf(signed);
  if (v === undefined) throw new LedgerError('not a signed trust list');
  const fd = openSync(ledgerPath(rootKeyPath), 'a', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ epoch: v.epoch, issued: v.issued, payload: v.payload })}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return v;
}
