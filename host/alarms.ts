/**
 * The host's alarms, with IEC 60601-1-8 priorities (high, medium, low). Three classes:
 *  - clinical: per-bed limits on vitals (defaults per device kind, overridable per bed);
 *  - technical: gateway offline, device link lost, buffer filling, data dropped;
 *  - security: commands rejected by a gateway, anomalies, unknown signers.
 * An alarm is raised once per condition (gateway + code + key) and clears when the condition does;
 * security alarms latch until acknowledged. Acknowledge and silence (audio paused) by a named user;
 * an unacknowledged alarm escalates one priority level at a time. Every step is audited.
 * These alarms add to the device's own bedside alarms; they never replace or silence them.
 */
import { METRICS, metricByKey } from '../firmware/core/vitals/index.js';
import type { AuditLog } from './audit.js';
import type { Db } from './store/db.js';

export type Priority = 'high' | 'medium' | 'low';
export type AlarmClass = 'clinical' | 'technical' | 'security';

export interface Alarm {
  readonly id: number;
  readonly gateway: string;
  readonly class: AlarmClass;
  readonly code: string;
  readonly priority: Priority;
  readonly message: string;
  readonly detail: string;
  readonly raised: number;
  readonly cleared: number | null;
  readonly acked_by: string | null;
  readonly acked_at: number | null;
  readonly silenced_by: string | null;
  readonly silenced_until: number | null;
  readonly escalations: number;
  readonly escalated_at: number | null;
}

/** A limit on one metric (by the key of firmware/core/vitals/metrics.ts). */
export interface Limit {
  readonly metric: string;
  readonly low?: number;
  readonly high?: number;
  readonly priority: Priority;
}

/** Adult defaults, per device kind; a bed's own limits replace them (PUT /api/gateways/:id/limits). */
export const DEFAULT_LIMITS: Readonly<Record<string, readonly Limit[]>> = {
  monitor: [
    { metric: 'hr', low: 40, high: 150, priority: 'high' },
    { metric: 'hr', low: 50, high: 120, priority: 'medium' },
    { metric: 'spo2', low: 85, priority: 'high' },
    { metric: 'spo2', low: 90, priority: 'medium' },
    { metric: 'rr', low: 8, high: 30, priority: 'medium' },
    { metric: 'nibpSys', low: 80, high: 180, priority: 'medium' },
    { metric: 'temp', low: 35, high: 38.5, priority: 'low' },
  ],
  pump: [{ metric: 'vtbiRemain', low: 5, priority: 'low' }],
  ventilator: [
    { metric: 'ppeak', high: 40, priority: 'high' },
    { metric: 'vte', low: 200, priority: 'medium' },
    { metric: 'mv', low: 3, high: 15, priority: 'medium' },
    { metric: 'fio2', low: 21, priority: 'medium' },
  ],
};

const RANK: Record<Priority, number> = { low: 0, medium: 1, high: 2 };
const UP: Record<Priority, Priority> = { low: 'medium', medium: 'high', high: 'high' };

export interface AlarmOptions {
  /** Unacknowledged for this long (ms) → one level up; high alarms are re-announced. */
  readonly escalateAfterMs?: Readonly<Record<Priority, number>>;
  /** Longest audio pause a user may ask for (ms). */
  readonly maxSilenceMs?: number;
}

export class AlarmError extends Error {
  override readonly name = 'AlarmError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export class Alarms {
  private readonly escalateAfter: Readonly<Record<Priority, number>>;
  private readonly maxSilenceMs: number;
  private readonly findOpen;
  private readonly insert;
  private readonly byId;
  /** gateway/code of every alarm not yet cleared: most vitals batches clear nothing, and need not ask SQLite. */
  private readonly open = new Set<string>();

  constructor(private readonly db: Db, private readonly audit: AuditLog, private readonly notify: (a: Alarm, change: string) => void, opts: AlarmOptions = {}) {
    this.escalateAfter = opts.escalateAfterMs ?? { high: 60_000, medium: 120_000, low: 300_000 };
    this.maxSilenceMs = opts.maxSilenceMs ?? 120_000;
    this.findOpen = db.prepare<[string, string], Alarm>('SELECT * FROM alarms WHERE gateway = ? AND code = ? AND cleared IS NULL');
    this.insert = db.prepare('INSERT INTO alarms (gateway, class, code, priority, message, detail, raised) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.byId = db.prepare<[number], Alarm>('SELECT * FROM alarms WHERE id = ?');
    for (const a of db.prepare<[], { gateway: string; code: string }>('SELECT gateway, code FROM alarms WHERE cleared IS NULL').all()) this.open.add(`${a.gateway}/${a.code}`);
  }

  /** Raises an alarm unless the same condition is already active (then only a higher priority sticks). */
  raise(now: number, gateway: string, cls: AlarmClass, code: string, priority: Priority, message: string, detail: Record<string, unknown> = {}): Alarm {
    const open = this.findOpen.get(gateway, code);
    if (open !== undefined) {
      if (RANK[priority] > RANK[open.priority]) {
        this.db.prepare('UPDATE alarms SET priority = ?, message = ?, acked_by = NULL, acked_at = NULL WHERE id = ?').run(priority, message, open.id);
        this.audit.append(now, 'host', 'alarm-raised', `alarm/${open.id}`, { gateway, code, priority, message, was: open.priority });
        const a = this.byId.get(open.id)!;
        this.notify(a, 'raised');
        return a;
      }
      return open;
    }
    const id = Number(this.insert.run(gateway, cls, code, priority, message, JSON.stringify(detail), now).lastInsertRowid);
    this.open.add(`${gateway}/${code}`);
    this.audit.append(now, 'host', 'alarm-raised', `alarm/${id}`, { gateway, class: cls, code, priority, message });
    const a = this.byId.get(id)!;
    this.notify(a, 'raised');
    return a;
  }

  /** The condition is gone: the alarm clears (security alarms latch until acknowledged). */
  clear(now: number, gateway: string, code: string): void {
    if (!this.open.has(`${gateway}/${code}`)) return;
    const open = this.findOpen.get(gateway, code);
    if (open === undefined) return;
    if (open.class === 'security' && open.acked_by === null) return;
    this.db.prepare('UPDATE alarms SET cleared = ? WHERE id = ?').run(now, open.id);
    this.open.delete(`${gateway}/${code}`);
    this.audit.append(now, 'host', 'alarm-cleared', `alarm/${open.id}`, { gateway, code });
    this.notify(this.byId.get(open.id)!, 'cleared');
  }

  acknowledge(now: number, id: number, user: string): Alarm {
    const a = this.get(id);
    if (a.acked_by !== null && a.cleared === null) return a;
    this.db.prepare('UPDATE alarms SET acked_by = ?, acked_at = ? WHERE id = ?').run(user, now, id);
    this.audit.append(now, user, 'alarm-acknowledged', `alarm/${id}`, { gateway: a.gateway, code: a.code, priority: a.priority });
    // a latched security alarm whose cause has passed clears once someone has seen it
    if (a.class === 'security' && a.cleared === null) {
      this.db.prepare('UPDATE alarms SET cleared = ? WHERE id = ?').run(now, id);
      this.open.delete(`${a.gateway}/${a.code}`);
    }
    const out = this.get(id);
    this.notify(out, 'acknowledged');
    return out;
  }

  silence(now: number, id: number, user: string, ms: number): Alarm {
    const a = this.get(id);
    if (!(ms > 0) || ms > this.maxSilenceMs) throw new AlarmError(`an audio pause lasts 1 ms to ${this.maxSilenceMs / 1000} s`, 400);
    if (a.cleared !== null) throw new AlarmError(`alarm ${id} has already cleared`, 409);
    this.db.prepare('UPDATE alarms SET silenced_by = ?, silenced_until = ? WHERE id = ?').run(user, now + ms, id);
    this.audit.append(now, user, 'alarm-silenced', `alarm/${id}`, { gateway: a.gateway, code: a.code, until: now + ms });
    const out = this.get(id);
    this.notify(out, 'silenced');
    return out;
  }

  /** Escalates alarms left unacknowledged too long. Call every few seconds. */
  tick(now: number): void {
    const rows = this.db.prepare<[], Alarm>('SELECT * FROM alarms WHERE cleared IS NULL AND acked_by IS NULL').all();
    for (const a of rows) {
      // each level waits its own interval, counted from the last escalation
      if (now < (a.escalated_at ?? a.raised) + this.escalateAfter[a.priority]) continue;
      const next = UP[a.priority];
      this.db.prepare('UPDATE alarms SET priority = ?, escalations = escalations + 1, escalated_at = ? WHERE id = ?').run(next, now, a.id);
      this.audit.append(now, 'host', 'alarm-escalated', `alarm/${a.id}`, { gateway: a.gateway, code: a.code, from: a.priority, to: next, unacknowledgedMs: now - a.raised });
      this.notify(this.get(a.id), 'escalated');
    }
  }

  get(id: number): Alarm {
    const a = this.byId.get(id);
    if (a === undefined) throw new AlarmError(`no alarm ${id}`, 404);
    return a;
  }

  list(active: boolean, gateway?: string, limit = 200): Alarm[] {
    const where = [active ? 'cleared IS NULL' : '1', gateway === undefined ? '1' : 'gateway = ?'].join(' AND ');
    const args: unknown[] = gateway === undefined ? [] : [gateway];
    return this.db.prepare(`SELECT * FROM alarms WHERE ${where} ORDER BY CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, raised DESC LIMIT ?`).all(...args, limit) as Alarm[];
  }
}

/** Which limit, if any, a value breaks (the highest priority breached). */
export function breach(limits: readonly Limit[], metric: string, value: number): Limit | undefined {
  let worst: Limit | undefined;
  for (const l of limits) {
    if (l.metric !== metric) continue;
    if ((l.low !== undefined && value < l.low) || (l.high !== undefined && value > l.high)) {
      if (worst === undefined || RANK[l.priority] > RANK[worst.priority]) worst = l;
    }
  }
  return worst;
}

export function parseLimits(v: unknown): Limit[] {
  if (!Array.isArray(v)) throw new AlarmError('limits must be an array of { metric, low?, high?, priority }', 400);
  return v.map((x, i) => {
    const o = x as Record<string, unknown>;
    const ok =
      typeof o === 'object' && o !== null && typeof o.metric === 'string' && (o.priority === 'high' || o.priority === 'medium' || o.priority === 'low') &&
      (o.low === undefined || typeof o.low === 'number') && (o.high === undefined || typeof o.high === 'number') && (o.low !== undefined || o.high !== undefined) &&
      (o.low === undefined || o.high === undefined || (o.low as number) < (o.high as number));
    if (!ok) throw new AlarmError(`limits[${i}]: expected { metric, low?, high? (low < high), priority: high|medium|low }`, 400);
    // a typo must not replace a bed's defaults with a limit on nothing
    if (metricByKey(o.metric as string) === undefined) throw new AlarmError(`limits[${i}]: no metric ${JSON.stringify(String(o.metric).slice(0, 40))}; the metrics are ${METRICS.map((m) => m.key).join(', ')}`, 400);
    return { metric: o.metric as string, low: o.low as number | undefined, high: o.high as number | undefined, priority: o.priority as Priority };
  });
}
