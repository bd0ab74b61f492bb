/**
 * The web app's own logic, in Node (no DOM needed): every refusal reason has plain words, alarms sort
 * by priority then newest, gateway states read as the docs say, and a value is never called live when
 * it is old, its gateway offline, or the station's link to the host down (docs/station.md).
 */
import { describe, expect, it } from 'vitest';
import { REJECT_REASONS } from '../../firmware/core/command/reasons.js';
import { gatewayState, reasonText, sortAlarms, wardPages } from '../../web/src/format.js';
import { Live } from '../../web/src/live.js';
import type { Alarm, Gateway } from '../../web/src/types.js';

const gw = (over: Partial<Gateway> = {}): Gateway => ({
  id: 'gw-1', bed: 'Bed 1', presence: 'online', presenceSince: 1_000_000, mode: 'online', firmware: '1.0.0', device: { kind: 'monitor', model: 'generic-monitor-v1', serial: 'M1' },
  buffer: { used: 0, capacity: 983_040, dropped: 0 }, settings: null, lastSeen: 1_000_000, birthAt: 900_000, ...over,
});

const alarm = (id: number, priority: Alarm['priority'], raised: number): Alarm => ({
  id, gateway: 'gw-1', class: 'clinical', code: `c${id}`, priority, message: 'm', detail: null, raised, cleared: null, acked_by: null, acked_at: null, silenced_by: null, silenced_until: null, escalations: 0, escalated_at: null,
});

describe('the station in words', () => {
  it('has plain words for every reason a gateway gives for refusing a command', () => {
    for (const r of REJECT_REASONS) {
      const text = reasonText(r);
      expect(text, r).not.toBe(r);
      expect(text.length, r).toBeGreaterThan(15);
    }
    expect(reasonText('hard-limit: rate 5000')).toMatch(/hard limits/);
    expect(reasonText('something new')).toBe('something new'); // an unknown reason is shown as given, not hidden
  });

  it('sorts alarms highest priority first, then newest first', () => {
    const sorted = sortAlarms([alarm(1, 'low', 5), alarm(2, 'high', 1), alarm(3, 'medium', 9), alarm(4, 'high', 7), alarm(5, 'info', 10)]);
    expect(sorted.map((a) => a.id)).toEqual([4, 2, 3, 1, 5]);
  });

  it('names gateway states: online, degraded with its buffer, offline with how long, back-filling', () => {
    expect(gatewayState(gw(), false, 1_000_000)).toEqual({ key: 'online', text: 'Online' });
    expect(gatewayState(gw({ presence: 'offline' }), false, 1_000_000 + 7 * 60_000).text).toBe('Offline · buffering 7 min');
    expect(gatewayState(gw({ presence: 'degraded', mode: 'degraded', presenceSince: 0 }), false, 20 * 60_000).text).toBe('Degraded · buffering 20 min');
    expect(gatewayState(gw({ presence: 'offline', presenceSince: null, lastSeen: null }), false, 0).text).toBe('Offline · buffering at the bedside');
    expect(gatewayState(gw({ presence: 'degraded', device: null }), false, 0).text).toBe('Degraded · no device');
    expect(gatewayState(gw({ presence: 'degraded', mode: 'recovering' }), true, 0).key).toBe('backfill');
    // offline wins over a back-fill seen a moment ago: the gateway is gone again
    expect(gatewayState(gw({ presence: 'offline' }), true, 1_000_000).key).toBe('offline');
  });

  it('never calls a value live when it is old, its gateway offline, or the link to the host down', () => {
    const live = new Live(() => undefined);
    const now = 10_000_000;
    live.ward.gateways.set('gw-1', gw());
    live.ward.link = 'live';
    const v = (age: number) => ({ v: 1, t: now - age, unit: '/min', historical: false });
    expect(live.isLive('gw-1', v(2_000), now, 'hr')).toBe(true);
    expect(live.isLive('gw-1', v(16_000), now, 'hr')).toBe(false);
    expect(live.isLive('gw-1', v(10 * 60_000), now, 'nibpSys')).toBe(true); // a cuff cycles every 5 to 15 min
    expect(live.isLive('gw-1', v(17 * 60_000), now, 'nibpSys')).toBe(false);
    expect(live.isLive('gw-1', undefined, now, 'hr')).toBe(false);
    expect(live.isLive('gw-2', v(1_000), now, 'hr')).toBe(false); // a gateway the station does not know
    live.ward.gateways.set('gw-1', gw({ presence: 'offline' }));
    expect(live.isLive('gw-1', v(1_000), now, 'hr')).toBe(false);
    live.ward.gateways.set('gw-1', gw());
    live.ward.link = 'lost';
    expect(live.isLive('gw-1', v(1_000), now, 'hr')).toBe(false);
  });
});

describe('the ward in pages', () => {
  const ids = Array.from({ length: 7 }, (_, i) => `gw-${i + 1}`);
  const label = (id: string) => id.replace('gw-', 'Bed ');

  it('shows one page of beds, clamps the page asked for, and names each page by its first and last bed', () => {
    const s = wardPages(ids, 3, 9, label, () => undefined);
    expect(s).toMatchObject({ page: 2, pages: 3, ids: ['gw-7'] });
    expect(s.marks.map((m) => [m.first, m.last])).toEqual([['Bed 1', 'Bed 3'], ['Bed 4', 'Bed 6'], ['Bed 7', 'Bed 7']]);
    expect(wardPages(ids, 3, -1, label, () => undefined).ids).toEqual(['gw-1', 'gw-2', 'gw-3']);
    expect(wardPages([], 60, 0, label, () => undefined)).toMatchObject({ page: 0, pages: 1, ids: [] });
    expect(wardPages(ids, 0, 0, label, () => undefined).pages).toBe(7); // a nonsense size is one bed per page, never a division by zero
  });

  it("marks every page with its most urgent alarm, so an alarm on a page not shown is still in sight", () => {
    const alarms: Record<string, Alarm['priority']> = { 'gw-2': 'low', 'gw-3': 'high', 'gw-5': 'medium', 'gw-6': 'info' };
    const s = wardPages(ids, 3, 0, label, (id) => alarms[id]);
    expect(s.marks.map((m) => m.priority)).toEqual(['high', 'medium', undefined]);
  });
});
