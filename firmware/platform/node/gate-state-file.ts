/**
 * The command gate's persisted state (last accepted counter, current challenge nonce) in a JSON file,
 * for the `vigil` tools and the Node platform. Writes are atomic and durable: a temporary file is
 * written and fsynced, then renamed over the old one, so a crash leaves either the old or the new state.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { NONCE_BYTES, type GateState } from '../../core/command/index.js';
import { fromHex, toHex } from '../../core/hex.js';

export interface GateStateJson {
  readonly lastCounter: number;
  readonly nonce: string;
}

export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

export function freshGateState(): GateState {
  return { lastCounter: 0, nonce: new Uint8Array(randomBytes(NONCE_BYTES)) };
}

export function toJson(s: GateState): GateStateJson {
  return { lastCounter: s.lastCounter, nonce: toHex(s.nonce) };
}

/** Reads the state file; a missing file is a fresh gateway (counter 0, a new random nonce), written at once. */
export function loadGateState(path: string): GateState {
  if (!existsSync(path)) {
    const fresh = freshGateState();
    saveGateState(path, fresh);
    return fresh;
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new StateFileError(`${path} is not a gateway state file: ${(e as Error).message}`);
  }
  const j = json as Partial<GateStateJson>;
  const nonce = typeof j.nonce === 'string' ? fromHex(j.nonce) : undefined;
  if (typeof j.lastCounter !== 'number' || !Number.isSafeInteger(j.lastCounter) || j.lastCounter < 0 || nonce === undefined || nonce.length !== NONCE_BYTES) {
    throw new StateFileError(`${path}: expected {"lastCounter": whole number >= 0, "nonce": ${NONCE_BYTES * 2} hex digits}`);
  }
  return { lastCounter: j.lastCounter, nonce };
}

export function saveGateState(path: string, s: GateState): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(toJson(s), null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  try {
    const dir = openSync(dirname(path), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // fsync of a directory is not possible everywhere; the rename itself is atomic
  }
}
