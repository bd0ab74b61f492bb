/**
 * The host's storage health. A database that is locked by another process past the short busy
 * timeout, full, read-only or failing I/O must never end the host nor hold its event loop: what
 * could not be written is reported here, the host degrades (no acks, so gateways keep their records;
 * control messages queued in memory, bounded; /api/health answers 503), and it recovers by itself.
 *
 * While storage is failing, a write is tried at most once a second (`mayTry`), so a flood of messages
 * costs no busy-wait each. When a write succeeds again the queued messages are replayed in order and a
 * technical alarm records the outage (it could not be stored while it lasted).
 */
import type { StorageHealth, StreamMessage } from './types.js';

export type { StorageHealth } from './types.js';

const RETRY_MS = 1000;
export const REPLAY_MAX = 10_000;

export class Storage {
  private state: { ok: boolean; error: string | null; since: number | null } = { ok: true, error: null, since: null };
  private failures = 0;
  private lastTry = -Infinity;
  private lost = 0;
  private readonly queue: Array<readonly [string, Uint8Array]> = [];

  constructor(
    private readonly now: () => number,
    private readonly log: (line: string) => void,
    private readonly emit: (m: StreamMessage) => void,
    /** Called once storage works again, with the outage's window and last error. */
    private readonly recovered: (from: number, to: number, error: string) => void,
  ) {}

  get health(): StorageHealth {
    return { ...this.state, failures: this.failures, queued: this.queue.length, lost: this.lost };
  }

  get ok(): boolean {
    return this.state.ok;
  }

  /** Whether a write should be tried now: always when healthy, once a second while failing. */
  mayTry(): boolean {
    if (this.state.ok) return true;
    const t = this.now();
    if (t - this.lastTry < RETRY_MS) return false;
    this.lastTry = t;
    return true;
  }

  failed(what: string, e: unknown): void {
    const error = `${what}: ${(e as Error).message ?? String(e)}`;
    this.failures++;
    this.lastTry = this.now();
    if (!this.state.ok) {
      this.state = { ...this.state, error };
      return;
    }
    this.state = { ok: false, error, since: this.now() };
    this.log(`host: storage failing (${error}); no acks until it works again, control messages queued`);
    this.emit({ type: 'storage', ok: false, error });
  }

  succeeded(): void {
    if (this.state.ok) return;
    const { since, error } = this.state;
    this.state = { ok: true, error: null, since: null };
    this.log(`host: storage works again after ${Math.round((this.now() - since!) / 1000)} s`);
    this.emit({ type: 'storage', ok: true, error: null });
    this.recovered(since!, this.now(), error ?? 'unknown');
  }

  /** Keeps a control message to write later (oldest first); past the bound it is counted lost. */
  defer(topic: string, payload: Uint8Array): void {
    if (this.queue.length >= REPLAY_MAX) {
      this.lost++;
      return;
    }
    this.queue.push([topic, payload]);
  }

  get deferred(): number {
    return this.queue.length;
  }

  /** Replays deferred messages in order through `handle`, which returns false when storage fails again. */
  replay(handle: (topic: string, payload: Uint8Array) => boolean): void {
    while (this.queue.length > 0) {
      const [topic, payload] = this.queue[0]!;
      if (!handle(topic, payload)) return;
      this.queue.shift();
    }
  }
}

/** An error of the database itself (locked, busy, full, read-only, I/O), not of the data. */
export function isStorageError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|PROTOCOL|CORRUPT|NOTADB|NOMEM|INTERRUPT)/.test(code);
}
