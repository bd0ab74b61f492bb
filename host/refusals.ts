/**
 * What the host refuses from gateways: every refusal is counted (per channel) and shown on the stream;
 * at most one per gateway and channel every 10 s is also stored as a `host-refused-payload` event, so a
 * flood costs no disk write per message. Control channels (state, event, cmd/result) are rate-limited
 * per gateway: a gateway sends a few a minute, a compromised one must not buy a write each.
 */
import { isStorageError, type Storage } from './storage.js';
import type { Db } from './store/db.js';
import type { HostCounters, StreamMessage } from './types.js';

const ERROR_EVENT_EVERY_MS = 10_000;
export const CONTROL_WINDOW_MS = 10_000;
export const CONTROL_PER_WINDOW = 100;

export class Refusals {
  private readonly lastStored = new Map<string, number>();
  private readonly rate = new Map<string, { start: number; count: number }>();
  private readonly insert;

  constructor(
    db: Db,
    private readonly counters: HostCounters,
    private readonly emit: (m: StreamMessage) => void,
    private readonly now: () => number,
    private readonly storage?: Storage,
    /** Raises the refusal as an alarm, at the rate refusals are stored (a flood raises no more). */
    private readonly alarm?: (gateway: string, channel: string, error: string) => void,
  ) {
    this.insert = db.prepare("INSERT INTO events (gateway, class, code, priority, detail, received) VALUES (?, 'technical', 'host-refused-payload', 'low', ?, ?)");
  }

  /** `alarm`: false when the cause has an alarm of its own. */
  refuse(gateway: string, channel: string, error: string, alarm = true): void {
    this.counters.refused[channel] = (this.counters.refused[channel] ?? 0) + 1;
    const key = `${gateway}/${channel}`;
    const t = this.now();
    this.emit({ type: 'error', gateway, channel, error });
    if ((this.lastStored.get(key) ?? -Infinity) + ERROR_EVENT_EVERY_MS > t) return; // counted; one stored event per 10 s is enough
    this.lastStored.set(key, t);
    this.counters.errorEvents++;
    if (alarm) this.alarm?.(gateway, channel, error);
    if (this.storage !== undefined && !this.storage.mayTry()) return; // counted; not worth a wait on a failing disk
    try {
      this.insert.run(gateway, JSON.stringify({ channel, error: error.slice(0, 500) }), t);
      this.storage?.succeeded();
    } catch (e) {
      if (!isStorageError(e)) throw e;
      this.storage?.failed('refusal event', e);
    }
  }

  /** Whether another control message from `gateway` on `channel` is within the rate. */
  withinRate(gateway: string, channel: string): boolean {
    const key = `${gateway}/${channel}`;
    const t = this.now();
    const r = this.rate.get(key);
    if (r === undefined || t - r.start >= CONTROL_WINDOW_MS) {
      this.rate.set(key, { start: t, count: 1 });
      return true;
    }
    return ++r.count <= CONTROL_PER_WINDOW;
  }
}
