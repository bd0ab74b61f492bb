/**
 * Alarms: every active alarm, highest priority first then newest, with acknowledge and silence (the
 * host records the signed-in user), and the escalation state of an alarm nobody has acknowledged.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Link, useNow, useSession, useWard } from '../session.js';
import { clockTime, duration, PRIORITY_MARK, sortAlarms } from '../format.js';
import type { Alarm } from '../types.js';

const CLINICAL = ['nurse', 'charge-nurse', 'physician', 'pharmacist'];

export function mayHandle(role: string, a: Alarm): boolean {
  return CLINICAL.includes(role) || (role === 'biomed' && a.class !== 'clinical');
}

export function AlarmRow(props: { alarm: Alarm; bed: string }) {
  const a = props.alarm;
  const { user } = useSession();
  const now = useNow(5000);
  const [error, setError] = useState('');
  const mark = PRIORITY_MARK[a.priority];
  const silenced = a.silenced_until !== null && a.silenced_until > now;
  const act = (what: 'ack' | 'silence') => {
    setError('');
    api(`/api/alarms/${a.id}/${what}`, { method: 'POST', body: what === 'silence' ? { seconds: 120 } : undefined }).catch((e: Error) => setError(e.message));
  };
  const allowed = mayHandle(user.role, a);
  return (
    <li class={`alarm prio-${a.priority}${a.acked_by ? ' acked' : ''}`} data-alarm-id={a.id} data-code={a.code}>
      <div class="alarm-prio">
        <span class="shape" aria-hidden="true">
          {mark.shape}
        </span>{' '}
        {mark.text}
      </div>
      <div class="alarm-main">
        <div>
          <Link href={`/bed/${encodeURIComponent(a.gateway)}`}>{props.bed}</Link> · <span class="alarm-class">{a.class}</span> · <span class="alarm-message">{a.message}</span>
        </div>
        <div class="alarm-meta">
          raised {clockTime(a.raised, true)} ({duration(now - a.raised)} ago)
          {a.acked_by ? ` · acknowledged by ${a.acked_by} at ${clockTime(a.acked_at, true)}` : ' · not acknowledged'}
          {silenced ? ` · silenced by ${a.silenced_by} until ${clockTime(a.silenced_until, true)}` : ''}
          {a.escalations > 0 ? ` · escalated ${a.escalations}× (last at ${clockTime(a.escalated_at, true)})` : a.acked_by ? '' : ' · escalates if not acknowledged'}
        </div>
        {error !== '' ? (
          <div class="error" role="alert">
            {error}
          </div>
        ) : null}
      </div>
      <div class="alarm-actions">
        {allowed && a.acked_by === null ? (
          <button type="button" onClick={() => act('ack')}>
            Acknowledge
          </button>
        ) : null}
        {allowed && !silenced ? (
          <button type="button" class="secondary" onClick={() => act('silence')}>
            Silence 2 min
          </button>
        ) : null}
      </div>
    </li>
  );
}

export function AlarmsPage() {
  const ward = useWard();
  const alarms = sortAlarms(ward.alarms.values());
  return (
    <main id="main" class="page">
      <div class="page-head">
        <h1>Alarms</h1>
        <p class="summary" aria-live="polite">
          {alarms.length} active · {alarms.filter((a) => a.acked_by === null).length} not acknowledged
        </p>
      </div>
      {alarms.length === 0 ? <p>No active alarms.</p> : null}
      <ul class="alarm-list">
        {alarms.map((a) => {
          const g = ward.gateways.get(a.gateway);
          return <AlarmRow key={a.id} alarm={a} bed={g?.bed ?? a.gateway} />;
        })}
      </ul>
    </main>
  );
}
