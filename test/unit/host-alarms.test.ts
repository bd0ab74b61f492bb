/** The alarm engine on its own, with a clock of the test's: raise once, clear, latch, escalate, audit. */
import { describe, expect, it } from 'vitest';
import { Alarms, breach, DEFAULT_LIMITS, parseLimits, type Alarm } from '../../host/alarms.js';
import { AuditLog, verifyAudit } from '../../host/audit.js';
import { openDb } from '../../host/store/db.js';

function setup() {
  const db = openDb(':memory:');
  const audit = new AuditLog(db);
  const seen: Array<[string, Alarm]> = [];
  const alarms = new Alarms(db, audit, (a, change) => seen.push([change, a]));
  return { db, audit, alarms, seen };
}

describe('alarms', () => {
  it('raises once per condition, keeps the higher priority, and clears when the condition does', () => {
    const { alarms, seen } = setup();
    const a = alarms.raise(0, 'gw', 'clinical', 'limit-hr', 'medium', 'hr 130');
    expect(alarms.raise(10, 'gw', 'clinical', 'limit-hr', 'medium', 'hr 131').id).toBe(a.id);
    expect(alarms.raise(20, 'gw', 'clinical', 'limit-hr', 'high', 'hr 160').priority).toBe('high');
    expect(alarms.list(true)).toHaveLength(1);
    alarms.clear(30, 'gw', 'limit-hr');
    expect(alarms.list(true)).toHaveLength(0);
    expect(seen.map(([c]) => c)).toEqual(['raised', 'raised', 'cleared']);
  });

  it('latches security alarms until someone acknowledges them', () => {
    const { alarms } = setup();
    const a = alarms.raise(0, 'gw', 'security', 'cmd-rejected', 'high', 'bad signature');
    alarms.clear(5, 'gw', 'cmd-rejected');
    expect(alarms.get(a.id).cleared).toBeNull();
    alarms.acknowledge(10, a.id, 'cleo');
    expect(alarms.get(a.id)).toMatchObject({ acked_by: 'cleo', cleared: 10 });
  });

  it('escalates an unacknowledged alarm one level per interval (low 5 min, medium 2 min), re-announces high ones, and stops when acknowledged', () => {
    const { alarms, audit, db } = setup();
    const a = alarms.raise(0, 'gw', 'technical', 'buffer-filling', 'low', 'buffer 60 %');
    alarms.tick(299_999);
    expect(alarms.get(a.id).priority).toBe('low');
    alarms.tick(300_000);
    expect(alarms.get(a.id).priority).toBe('medium');
    alarms.tick(419_999);
    expect(alarms.get(a.id).priority).toBe('medium');
    alarms.tick(420_000);
    expect(alarms.get(a.id).priority).toBe('high');
    alarms.tick(480_000);
    expect(alarms.get(a.id)).toMatchObject({ priority: 'high', escalations: 3 });
    alarms.acknowledge(490_000, a.id, 'ana');
    alarms.tick(900_000);
    expect(alarms.get(a.id).escalations).toBe(3);
    expect(audit.recent(10, `alarm/${a.id}`).map((e) => e.action).reverse()).toEqual(['alarm-raised', 'alarm-escalated', 'alarm-escalated', 'alarm-escalated', 'alarm-acknowledged']);
    expect(verifyAudit(db).problems).toEqual([]);
  });

  it('limits an audio pause to 2 minutes and refuses one on a cleared alarm', () => {
    const { alarms } = setup();
    const a = alarms.raise(0, 'gw', 'clinical', 'limit-spo2', 'high', 'spo2 80');
    expect(() => alarms.silence(1, a.id, 'ana', 600_000)).toThrow(/audio pause/);
    expect(alarms.silence(1, a.id, 'ana', 120_000).silenced_until).toBe(120_001);
    alarms.clear(2, 'gw', 'limit-spo2');
    expect(() => alarms.silence(3, a.id, 'ana', 60_000)).toThrow(/cleared/);
  });

  it('finds the worst breached limit, and validates per-bed limits', () => {
    const monitor = DEFAULT_LIMITS.monitor!;
    expect(breach(monitor, 'hr', 80)).toBeUndefined();
    expect(breach(monitor, 'hr', 125)?.priority).toBe('medium');
    expect(breach(monitor, 'hr', 35)?.priority).toBe('high');
    expect(breach(monitor, 'spo2', 88)?.priority).toBe('medium');
    expect(() => parseLimits([{ metric: 'hr', low: 100, high: 50, priority: 'high' }])).toThrow(/low < high/);
    expect(() => parseLimits([{ metric: 'hr', priority: 'urgent', low: 1 }])).toThrow(/priority/);
    expect(() => parseLimits('x')).toThrow(/array/);
  });
});
