/**
 * Failed logins, counted per user name and per client address over a sliding window: past the limit
 * the name (or the address) is refused for the rest of the window, even with the right password, with
 * a Retry-After. The tables are bounded: the oldest entry goes when a flood of names would grow them.
 */

export interface LoginLimits {
  /** Failures per user name in `windowMs` before it is locked (default 5). */
  readonly perUser: number;
  /** Failures per client address in `windowMs` before it is refused (default 20). */
  readonly perAddress: number;
  readonly windowMs: number;
  /** Entries kept per table (default 10,000). */
  readonly maxEntries: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perUser: 5, perAddress: 20, windowMs: 15 * 60_000, maxEntries: 10_000 };

class Window {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limit: number, private readonly windowMs: number, private readonly maxEntries: number) {}

  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }

  /** Seconds until `key` may try again, or 0. */
  blockedFor(key: string, now: number): number {
    const list = this.recent(key, now);
    if (list.length < this.limit) return 0;
    return Math.max(1, Math.ceil((list[list.length - this.limit]! + this.windowMs - now) / 1000));
  }

  fail(key: string, now: number): boolean {
    const list = this.recent(key, now);
    list.push(now);
    this.failures.delete(key); // re-inserted last: the map's order is the eviction order
    this.failures.set(key, list.slice(-this.limit));
    while (this.failures.size > this.maxEntries) this.failures.delete(this.failures.keys().next().value!);
    return list.length === this.limit;
  }
}

export class LoginGuard {
  private readonly users: Window;
  private readonly addresses: Window;

  constructor(limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {
    this.users = new Window(limits.perUser, limits.windowMs, limits.maxEntries);
    this.addresses = new Window(limits.perAddress, limits.windowMs, limits.maxEntries);
  }

  /** Seconds the caller must wait before another try for this name from this address, or 0. */
  blockedFor(username: string, address: string, now: number): number {
    return Math.max(this.users.blockedFor(username, now), this.addresses.blockedFor(address, now));
  }

  /** Counts a failure; true when it just locked the name (worth one audit entry). */
  fail(username: string, address: string, now: number): boolean {
    this.addresses.fail(address, now);
    return this.users.fail(username, now);
  }
}
