/**
 * The fleet, for biomed and the charge nurse: every gateway with its firmware, its device's model and
 * serial, how full its flash buffer is, when it was last heard and how steady its link has been; and
 * the ward notices (declare a drill or an outage, end it).
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Link, useNow, useSession, useWard } from '../session.js';
import { byBed, clockTime, duration, gatewayState, KIND_NAMES } from '../format.js';
import type { Gateway } from '../types.js';

type FleetRow = Gateway & { readonly linkDrops1h: number };

const MAY_DECLARE = ['charge-nurse', 'admin', 'biomed'];

function NoticeForm() {
  const [kind, setKind] = useState('drill');
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  return (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        setError('');
        api('/api/notices', { body: { kind, message } }).then(
          () => setMessage(''),
          (x: Error) => setError(x.message),
        );
      }}
    >
      <label>
        Kind
        <select value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
          <option value="drill">Drill</option>
          <option value="outage">Outage</option>
          <option value="maintenance">Maintenance</option>
        </select>
      </label>
      <label>
        Message for every station
        <input value={message} maxLength={200} onInput={(e) => setMessage(e.currentTarget.value)} />
      </label>
      <button type="submit">Declare</button>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

function linkText(r: FleetRow): string {
  if (r.linkDrops1h === 0) return r.presence === 'offline' ? 'down' : 'steady';
  return `${r.linkDrops1h} drop${r.linkDrops1h === 1 ? '' : 's'} in the last hour${r.linkDrops1h >= 3 ? ' (unstable)' : ''}`;
}

export function FleetPage() {
  const ward = useWard();
  const { user, live } = useSession();
  const now = useNow(5000);
  const [rows, setRows] = useState<FleetRow[]>([]);
  useEffect(() => {
    void api<FleetRow[]>('/api/fleet').then(setRows, () => undefined);
  }, [Math.floor(now / 15_000), ward.link]);
  const drops = new Map(rows.map((r) => [r.id, r.linkDrops1h]));
  const list = [...ward.gateways.values()].sort(byBed);
  return (
    <main id="main" class="page">
      <h1>Fleet</h1>
      {MAY_DECLARE.includes(user.role) ? (
        <section aria-labelledby="notice-title">
          <h2 id="notice-title">Ward notice</h2>
          <p>A notice shows as a banner at every station until it is ended.</p>
          <NoticeForm />
        </section>
      ) : null}
      <section aria-labelledby="gw-title">
        <h2 id="gw-title">Gateways ({list.length})</h2>
        <div class="table-wrap">
          <table class="fleet">
            <thead>
              <tr>
                <th scope="col">Bed</th>
                <th scope="col">Gateway</th>
                <th scope="col">State</th>
                <th scope="col">Firmware</th>
                <th scope="col">Device</th>
                <th scope="col">Model</th>
                <th scope="col">Serial</th>
                <th scope="col">Buffer</th>
                <th scope="col">Last seen</th>
                <th scope="col">Link</th>
              </tr>
            </thead>
            <tbody>
              {list.map((g) => {
                const st = gatewayState(g, live.isBackfilling(g.id, now), now);
                const used = g.buffer?.used ?? null;
                const cap = g.buffer?.capacity ?? null;
                const row: FleetRow = { ...g, linkDrops1h: drops.get(g.id) ?? 0 };
                return (
                  <tr data-gateway={g.id}>
                    <td>
                      <Link href={`/bed/${encodeURIComponent(g.id)}`}>{g.bed ?? '—'}</Link>
                    </td>
                    <td>{g.id}</td>
                    <td class={`gw-${st.key}`}>{st.text}</td>
                    <td>{g.firmware ?? '—'}</td>
                    <td>{KIND_NAMES[g.device?.kind ?? ''] ?? '—'}</td>
                    <td>{g.device?.model ?? '—'}</td>
                    <td>{g.device?.serial ?? '—'}</td>
                    <td class="num">
                      {used !== null && cap ? `${((100 * used) / cap).toFixed(1)} % (${Math.round(used / 1024)} of ${Math.round(cap / 1024)} KB)` : '—'}
                      {g.buffer?.dropped ? <span class="error"> · {g.buffer.dropped} lost</span> : null}
                    </td>
                    <td>
                      {clockTime(g.lastSeen, true)}
                      {g.lastSeen !== null && now - g.lastSeen > 60_000 ? <span class="muted"> ({duration(now - g.lastSeen)} ago)</span> : null}
                    </td>
                    <td>{linkText(row)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
    </main>
  );
}
