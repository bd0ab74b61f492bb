/**
 * Security: refused commands with their reasons, anomalies and rogue clients (the gateways' security
 * events and the host's own security alarms), and the trust list in force with its epoch and signers.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { useNow, useWard } from '../session.js';
import { dateTime, PRIORITY_MARK, reasonText } from '../format.js';
import type { Alarm, Priority } from '../types.js';

interface EventRow {
  readonly id: number;
  readonly gateway: string;
  readonly t: number;
  readonly clock: string;
  readonly code: string;
  readonly priority: Priority;
  readonly detail: Record<string, unknown> | null;
  readonly received: number;
}

interface Trust {
  readonly site: string;
  readonly epoch: number;
  readonly issued: number;
  readonly signers: ReadonlyArray<{ person: string; roles: readonly string[]; kid: string; revoked: boolean }>;
  readonly revoked: readonly string[];
  readonly grants: Record<string, readonly string[]>;
  readonly cosign: Record<string, readonly string[]>;
}

function detailText(d: Record<string, unknown> | null): string {
  if (d === null || typeof d !== 'object') return '';
  const reason = typeof d.reason === 'string' ? reasonText(d.reason) : undefined;
  const rest = Object.entries(d)
    .filter(([k]) => k !== 'reason')
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');
  return [reason, rest].filter((x) => x !== undefined && x !== '').join(' — ');
}

export function SecurityPage() {
  const ward = useWard();
  const now = useNow(10_000);
  const [events, setEvents] = useState<EventRow[]>([]);
  const [alarms, setAlarms] = useState<Alarm[]>([]);
  const [trust, setTrust] = useState<Trust | null | undefined>(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    api<EventRow[]>('/api/events?class=security&limit=200').then(setEvents, (e: Error) => setError(e.message));
    api<Alarm[]>('/api/alarms?active=0').then((a) => setAlarms(a.filter((x) => x.class === 'security').slice(0, 200)), (e: Error) => setError(e.message));
  }, [Math.floor(now / 10_000), ward.link]);
  useEffect(() => {
    api<Trust | null>('/api/trust').then(setTrust, (e: Error) => setError(e.message));
  }, []);
  const bed = (id: string) => ward.gateways.get(id)?.bed ?? id;
  return (
    <main id="main" class="page">
      <h1>Security</h1>
      {error ? <p class="error">{error}</p> : null}
      <section aria-labelledby="sec-alarms-title">
        <h2 id="sec-alarms-title">Security alarms</h2>
        {alarms.length === 0 ? <p>None.</p> : null}
        <ul class="alarm-list">
          {alarms.map((a) => (
            <li class={`alarm prio-${a.priority}${a.cleared ? ' cleared' : ''}`} data-code={a.code}>
              <div class="alarm-prio">
                <span aria-hidden="true">{PRIORITY_MARK[a.priority].shape}</span> {PRIORITY_MARK[a.priority].text}
              </div>
              <div class="alarm-main">
                <div>
                  {bed(a.gateway)} · <code>{a.code}</code> · {a.message}
                </div>
                <div class="alarm-meta">
                  raised {dateTime(a.raised)}
                  {a.cleared ? ` · cleared ${dateTime(a.cleared)}` : ' · active'}
                  {a.acked_by ? ` · acknowledged by ${a.acked_by}` : ''}
                </div>
              </div>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="sec-events-title">
        <h2 id="sec-events-title">Security events from the gateways</h2>
        {events.length === 0 ? <p>None.</p> : null}
        <div class="table-wrap">
          <table class="events">
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Bed</th>
                <th scope="col">Event</th>
                <th scope="col">What happened</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr data-code={e.code}>
                  <td>{dateTime(e.received)}</td>
                  <td>{bed(e.gateway)}</td>
                  <td>
                    <code>{e.code}</code>
                  </td>
                  <td>{detailText(e.detail)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="trust-title">
        <h2 id="trust-title">Trust list</h2>
        {trust === null ? <p class="error">The host has no trust list: no command can be signed.</p> : null}
        {trust ? (
          <>
            <p data-epoch={trust.epoch}>
              Site {trust.site} · epoch <strong>{trust.epoch}</strong> · issued {dateTime(trust.issued)} · {trust.signers.length} signers · {trust.revoked.length} revoked keys
            </p>
            <table class="signers">
              <thead>
                <tr>
                  <th scope="col">Person</th>
                  <th scope="col">Roles</th>
                  <th scope="col">May change</th>
                  <th scope="col">Key id</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {trust.signers.map((s) => (
                  <tr data-person={s.person}>
                    <td>{s.person}</td>
                    <td>{s.roles.join(', ')}</td>
                    <td>{s.roles.flatMap((r) => trust.grants[r] ?? []).join(', ') || '—'}</td>
                    <td>
                      <code>{s.kid.slice(0, 16)}</code>
                    </td>
                    <td>{s.revoked ? 'revoked' : 'in force'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : null}
      </section>
    </main>
  );
}
