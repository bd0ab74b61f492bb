/**
 * Which gateway data raises which host alarm (docs/host.md, "Alarms"): vitals against the bed's
 * limits, the buffer fill and drop count in a birth, and the gateway's own events. The alarm engine
 * (alarms.ts) keeps one alarm per condition, so these rules may raise the same condition repeatedly.
 */
import type { VitalsBatch } from '../firmware/core/vitals/index.js';
import { metricByMdc } from '../firmware/core/vitals/index.js';
import { breach, type AlarmClass, type Alarms, type Limit, type Priority } from './alarms.js';

/** A live batch against the bed's limits: the worst breach per metric raises, a batch inside them clears. */
export function checkLimits(alarms: Alarms, now: number, gateway: string, batch: VitalsBatch, limits: readonly Limit[]): void {
  if (limits.length === 0) return;
  for (const c of batch.columns) {
    const key = metricByMdc(c.mdc)?.key ?? String(c.mdc);
    if (!limits.some((l) => l.metric === key)) continue;
    let worst: Limit | undefined;
    let worstValue: number | undefined;
    let any = false;
    for (const v of c.values) {
      if (v === null) continue;
      any = true;
      const hit = breach(limits, key, v);
      if (hit !== undefined && (worst === undefined || (hit.priority === 'high' && worst.priority !== 'high'))) {
        worst = hit;
        worstValue = v;
      }
    }
    const code = `limit-${key}`;
    if (worst !== undefined) {
      const range = `${worst.low ?? '-'}..${worst.high ?? '-'}`;
      alarms.raise(now, gateway, 'clinical', code, worst.priority, `${key} ${worstValue} ${c.unit} outside ${range}`, { metric: key, value: worstValue, low: worst.low, high: worst.high });
    } else if (any) alarms.clear(now, gateway, code);
  }
}

/** A birth's buffer: filling (≥ 50 % low, ≥ 80 % medium), and records dropped since the last birth. */
export function alarmsFromBirth(alarms: Alarms, now: number, gateway: string, fill: { used: number; capacity: number; dropped: number }, droppedBefore: number | null): void {
  const share = fill.capacity > 0 ? fill.used / fill.capacity : 0;
  const message = `${gateway}: buffer ${Math.round(share * 100)} % full`;
  if (share >= 0.8) alarms.raise(now, gateway, 'technical', 'buffer-filling', 'medium', message, { ...fill });
  else if (share >= 0.5) alarms.raise(now, gateway, 'technical', 'buffer-filling', 'low', message, { ...fill });
  else alarms.clear(now, gateway, 'buffer-filling');
  if (droppedBefore !== null && fill.dropped > droppedBefore) {
    alarms.raise(now, gateway, 'technical', 'data-dropped', 'medium', `${gateway}: ${fill.dropped - droppedBefore} more records lost to a full buffer`, { dropped: fill.dropped });
  }
}

/** A gateway's event: device link lost and back, and every non-info event at its priority (forged or unknown signers: high). */
export function alarmFromEvent(alarms: Alarms, now: number, gateway: string, cls: AlarmClass, code: string, priority: Priority | 'info', detail: Record<string, unknown>): void {
  if (code === 'device-silent') return void alarms.raise(now, gateway, 'technical', 'device-link-lost', 'high', `${gateway}: the device link is lost (no data from the device)`, detail);
  if (code === 'device-back') return alarms.clear(now, gateway, 'device-link-lost');
  if (code === 'device-alarm' && typeof detail.alarm === 'string') {
    // the device's own alarm (occlusion, air in line, disconnection…): raised while the device says so
    const own = `device-${detail.alarm}`;
    if (detail.on === true) return void alarms.raise(now, gateway, 'clinical', own, 'high', `${gateway}: the device alarms: ${detail.alarm}`, detail);
    return alarms.clear(now, gateway, own);
  }
  if (priority === 'info') return;
  const forged = code === 'cmd-rejected' && (detail.reason === 'bad-signature' || detail.reason === 'unknown-signer' || detail.reason === 'revoked-key');
  alarms.raise(now, gateway, cls, code, forged ? 'high' : priority, `${gateway}: ${cls} event ${code}`, detail);
}
