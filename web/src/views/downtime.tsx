/**
 * The downtime sheet: per bed, the last known vitals and the device's present settings, each with the
 * time it was taken, on paper (the print stylesheet puts one bed per page; the browser's print to PDF
 * makes the PDF) — what nurses need to carry on by hand when systems go down.
 */
import { useNow, useProfiles, useSession, useWard } from '../session.js';
import { byBed, dateTime, fmt, gatewayState, KEY_VITALS, KIND_NAMES, metricLabel, sortAlarms, unitText } from '../format.js';
import type { Gateway, Profile } from '../types.js';

function Sheet(props: { g: Gateway; profile: Profile | undefined; printed: number }) {
  const ward = useWard();
  const { live } = useSession();
  const { g } = props;
  const values = ward.latest.get(g.id) ?? {};
  const kind = g.device?.kind ?? '';
  const keys = [...new Set([...(KEY_VITALS[kind] ?? []).map((m) => m.key), ...Object.keys(values)])];
  const alarms = sortAlarms([...ward.alarms.values()].filter((a) => a.gateway === g.id));
  const state = gatewayState(g, live.isBackfilling(g.id, props.printed), props.printed);
  return (
    <article class="sheet" data-gateway={g.id}>
      <header>
        <h2>
          {g.bed ?? g.id} — {KIND_NAMES[kind] ?? 'no device'}
        </h2>
        <p>
          Device {g.device?.model ?? '—'}, serial {g.device?.serial ?? '—'} · gateway {g.id} ({state.text}) · sheet printed {dateTime(props.printed)}
        </p>
      </header>
      <h3>Current device settings</h3>
      {g.settings === null ? (
        <p>The device has not reported its settings.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col">Value</th>
              <th scope="col">As reported</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(g.settings).map(([k, v]) => {
              const s = props.profile?.settings[k];
              return (
                <tr data-setting={k}>
                  <th scope="row">{k}</th>
                  <td class="num">
                    {fmt(v, typeof v === 'number' && !Number.isInteger(v) ? 1 : 0)} {s?.type === 'number' ? unitText(s.unit) : ''}
                  </td>
                  <td>{dateTime(g.lastSeen)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <h3>Last known vitals</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Measurement</th>
            <th scope="col">Value</th>
            <th scope="col">Taken at</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => {
            const v = values[k];
            const digits = (KEY_VITALS[kind] ?? []).find((m) => m.key === k)?.digits ?? 1;
            return (
              <tr data-metric={k}>
                <th scope="row">{metricLabel(k)}</th>
                <td class="num">
                  {fmt(v?.v, digits)} {v ? unitText(v.unit) : ''}
                </td>
                <td>{v ? dateTime(v.t) : 'no value'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <h3>Active alarms</h3>
      {alarms.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul>
          {alarms.map((a) => (
            <li>
              {a.priority.toUpperCase()} — {a.message} (since {dateTime(a.raised)})
            </li>
          ))}
        </ul>
      )}
      <p class="handwrite">Manual observations from {dateTime(props.printed)}: ______________________________________________</p>
    </article>
  );
}

export function DowntimePage(props: { id: string | undefined }) {
  const ward = useWard();
  useNow(5000); // the latest values, every 5 s
  const { user } = useSession();
  const profiles = useProfiles();
  const printed = Date.now() + ward.skew;
  const list = [...ward.gateways.values()]
    .filter((g) => props.id === undefined || g.id === props.id)
    .sort(byBed);
  return (
    <main id="main" class="page downtime">
      <div class="page-head no-print">
        <h1>Downtime sheet{props.id !== undefined ? ` — ${ward.gateways.get(props.id)?.bed ?? props.id}` : ''}</h1>
        <button type="button" onClick={() => print()}>
          Print or save as PDF
        </button>
      </div>
      <p class="print-only">
        Vigil downtime sheet · ward {ward.site} · printed {dateTime(printed)} by {user.display}
      </p>
      {ward.link !== 'live' ? <p class="error">This station has lost the host: the values below are the last it received.</p> : null}
      {list.map((g) => (
        <Sheet g={g} profile={profiles.find((p) => p.model === g.device?.model)} printed={printed} />
      ))}
    </main>
  );
}
