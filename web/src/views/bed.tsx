/**
 * One bed: its device and gateway, what works at the bedside while degraded, its alarms, trends over
 * selectable windows (back-filled history marked), the device's present settings and its command history.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Link, useCommands, useGatewayChanges, useNow, useProfiles, useSession, useWard } from '../session.js';
import { clockTime, dateTime, duration, fmt, gatewayState, KEY_VITALS, KIND_NAMES, sortAlarms, unitText } from '../format.js';
import { isSpot } from '../live.js';
import type { Gateway, Profile } from '../types.js';
import { AlarmRow } from './alarms.js';
import { CommandHistory } from './commands.js';
import { TrendChart, type Series } from './trend.js';

const WINDOWS = [
  { key: 'live', label: 'Live (5 min)', ms: 5 * 60_000 },
  { key: '1h', label: '1 h', ms: 3600_000 },
  { key: '8h', label: '8 h', ms: 8 * 3600_000 },
  { key: '24h', label: '24 h', ms: 24 * 3600_000 },
] as const;
type WindowKey = (typeof WINDOWS)[number]['key'];

interface TrendAnswer {
  readonly t: number[];
  readonly metrics: Record<string, { unit: string; v: Array<number | null>; historical: Array<boolean | null> }>;
}

function toSeries(a: TrendAnswer, keys: readonly string[]): Series[] {
  return keys.flatMap((key) => {
    const m = a.metrics[key];
    if (m === undefined) return [];
    const s: Series = { key, unit: m.unit, t: [], live: [], backfilled: [] };
    a.t.forEach((t, i) => {
      if (m.v[i] === null || m.v[i] === undefined) return;
      s.t.push(t / 1000);
      s.live.push(m.historical[i] ? null : m.v[i]!);
      s.backfilled.push(m.historical[i] ? m.v[i]! : null);
    });
    return [s];
  });
}

function Trends(props: { g: Gateway }) {
  const { live } = useSession();
  const [win, setWin] = useState<WindowKey>('live');
  const [series, setSeries] = useState<Series[] | null>(null);
  const [error, setError] = useState('');
  const [version, setVersion] = useState(0);
  const dirty = useRef(false);
  const w = WINDOWS.find((x) => x.key === win)!;
  const keys = (KEY_VITALS[props.g.device?.kind ?? ''] ?? []).map((m) => m.key);
  useEffect(() => {
    let gone = false;
    setSeries(null);
    setError('');
    const to = Date.now() + live.ward.skew;
    api<TrendAnswer>(`/api/gateways/${encodeURIComponent(props.g.id)}/trend?from=${to - w.ms}&to=${to}&points=${win === 'live' ? 300 : 720}`).then(
      (a) => !gone && setSeries(toSeries(a, keys)),
      (e: Error) => !gone && setError(e.message),
    );
    return () => {
      gone = true;
    };
  }, [props.g.id, win, keys.join()]);
  useEffect(() => {
    if (series === null || win !== 'live') return;
    const off = live.onVitals((m) => {
      if (m.gateway !== props.g.id || m.clock !== 'utc') return;
      for (const c of m.columns) {
        const s = series.find((x) => x.key === c.key);
        if (s === undefined) continue;
        c.values.forEach((v, i) => {
          if (v === null) return;
          const t = (m.t0 + i * c.dt) / 1000;
          s.t.push(t);
          s.live.push(m.historical ? null : v);
          s.backfilled.push(m.historical ? v : null);
        });
        // keep time order (a back-filled batch can be older than what is shown), and the window
        const order = s.t.map((_, i) => i).sort((a, b) => s.t[a]! - s.t[b]!);
        const cut = (Date.now() + live.ward.skew - w.ms) / 1000;
        const keep = order.filter((i) => s.t[i]! >= cut);
        s.t = keep.map((i) => s.t[i]!);
        s.live = keep.map((i) => s.live[i]!);
        s.backfilled = keep.map((i) => s.backfilled[i]!);
      }
      dirty.current = true;
    });
    const tick = setInterval(() => {
      if (dirty.current) {
        dirty.current = false;
        setVersion((v) => v + 1);
      }
    }, 1000);
    return () => {
      off();
      clearInterval(tick);
    };
  }, [series, win]);
  return (
    <section aria-labelledby="trends-title">
      <div class="section-head">
        <h2 id="trends-title">Trends</h2>
        <div class="segmented" role="group" aria-label="Trend window">
          {WINDOWS.map((x) => (
            <button type="button" aria-pressed={x.key === win} onClick={() => setWin(x.key)}>
              {x.label}
            </button>
          ))}
        </div>
      </div>
      <p class="legend-note">
        <span class="swatch live" aria-hidden="true" /> recorded live · <span class="swatch backfill" aria-hidden="true" /> back-filled: recorded by the gateway during an outage and sent afterwards
      </p>
      {error !== '' ? <p class="error">{error}</p> : null}
      {series === null && error === '' ? <p>Loading…</p> : null}
      {series?.length === 0 ? <p>No samples in this window.</p> : null}
      <div class="charts">
        {series?.map((s) => (
          <TrendChart series={s} version={version} windowMs={w.ms} skew={live.ward.skew} />
        ))}
      </div>
    </section>
  );
}

/** What still works at this bedside, and what does not, in the nurse's words. */
export function BedsideStatus(props: { g: Gateway; backfilling: boolean }) {
  const { g } = props;
  const now = useNow(5000);
  const ward = useWard();
  const reachable = g.presence !== 'offline' && ward.link === 'live';
  const lines: Array<{ ok: boolean; text: string }> = [
    { ok: true, text: g.device === null ? 'No device is identified on the gateway’s link.' : 'The device runs on its last verified settings.' },
    {
      ok: true,
      text:
        g.presence === 'offline'
          ? `The gateway keeps recording to its own memory (not heard from for ${duration(now - (g.lastSeen ?? now))}).`
          : props.backfilling
            ? 'The gateway is sending what it recorded during the outage (back-filling).'
            : 'The gateway is recording and sending live.',
    },
    reachable && g.presence === 'online'
      ? { ok: true, text: 'Remote setting changes can be sent (signed, within the device’s limits).' }
      : { ok: false, text: 'Remote setting changes are refused until the gateway is back online: change settings at the device.' },
  ];
  return (
    <ul class={`bedside ${lines.every((l) => l.ok) ? 'all-ok' : 'degraded'}`} aria-label="At the bedside">
      {lines.map((l) => (
        <li class={l.ok ? 'works' : 'refused'}>
          <span aria-hidden="true">{l.ok ? '✓' : '✗'}</span> {l.ok ? 'Works: ' : 'Does not work: '}
          {l.text}
        </li>
      ))}
    </ul>
  );
}

export function SettingsTable(props: { g: Gateway; profile: Profile | undefined }) {
  const settings = props.g.settings;
  if (settings === null) return <p>The device has not reported its settings yet.</p>;
  return (
    <table class="settings">
      <thead>
        <tr>
          <th scope="col">Setting</th>
          <th scope="col">Value</th>
          <th scope="col">Soft limits</th>
          <th scope="col">Hard limits</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(settings).map(([k, v]) => {
          const s = props.profile?.settings[k];
          return (
            <tr data-setting={k}>
              <th scope="row">{k}</th>
              <td class="num">
                {fmt(v, typeof v === 'number' && !Number.isInteger(v) ? 1 : 0)} {s?.type === 'number' ? unitText(s.unit) : ''}
              </td>
              <td>{s?.type === 'number' ? `${s.soft[0]}–${s.soft[1]}` : s?.type === 'enum' ? s.values.join(', ') : '—'}</td>
              <td>{s?.type === 'number' ? `${s.hard[0]}–${s.hard[1]}` : '—'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function BedPage(props: { id: string }) {
  const ward = useWard();
  useGatewayChanges(props.id);
  const { live } = useSession();
  const now = useNow(5000);
  const profiles = useProfiles();
  const commands = useCommands(props.id);
  const g = ward.gateways.get(props.id);
  if (g === undefined)
    return (
      <main id="main" class="page">
        <h1>No bed {props.id}</h1>
        <Link href="/">Back to the ward</Link>
      </main>
    );
  const kind = g.device?.kind ?? '';
  const values = ward.latest.get(g.id);
  const backfilling = live.isBackfilling(g.id, now);
  const state = gatewayState(g, backfilling, now);
  const alarms = sortAlarms([...ward.alarms.values()].filter((a) => a.gateway === g.id));
  const profile = profiles.find((p) => p.model === g.device?.model);
  return (
    <main id="main" class="page bed">
      <div class="page-head">
        <h1>
          {g.bed ?? g.id} <span class="muted">· {KIND_NAMES[kind] ?? 'no device'}</span>
        </h1>
        <span class={`gw-state gw-${state.key}`} data-state={state.key}>
          {state.text}
        </span>
        <div class="actions">
          {g.device !== null ? <Link href={`/console/${encodeURIComponent(g.id)}`} class="button">Change a setting</Link> : null}
          <Link href={`/downtime/${encodeURIComponent(g.id)}`} class="button secondary">
            Downtime sheet
          </Link>
        </div>
      </div>
      <p class="muted">
        Gateway {g.id} · firmware {g.firmware ?? '—'} · device {g.device?.model ?? '—'} serial {g.device?.serial ?? '—'} · last heard {clockTime(g.lastSeen, true)}
      </p>
      <BedsideStatus g={g} backfilling={backfilling} />
      <section aria-labelledby="now-title">
        <h2 id="now-title">Now</h2>
        <dl class="big-vitals">
          {(KEY_VITALS[kind] ?? []).map((m) => {
            const v = values?.[m.key];
            const isLive = live.isLive(g.id, v, now, m.key);
            return (
              <div class={`big ${isLive ? '' : 'stale'}`} data-metric={m.key}>
                <dt>{m.label}</dt>
                <dd>
                  <span class="value">{fmt(v?.v, m.digits)}</span> <span class="unit">{v ? unitText(v.unit) : ''}</span>
                </dd>
                <dd class="fresh">{v === undefined ? 'no value yet' : isLive ? `${isSpot(m.key) ? 'measured' : 'live ·'} ${clockTime(v.t, true)}` : `not live · taken ${dateTime(v.t)}`}</dd>
              </div>
            );
          })}
        </dl>
      </section>
      <section aria-labelledby="bed-alarms-title">
        <h2 id="bed-alarms-title">Alarms</h2>
        {alarms.length === 0 ? (
          <p>No active alarm.</p>
        ) : (
          <ul class="alarm-list">
            {alarms.map((a) => (
              <AlarmRow alarm={a} bed={g.bed ?? g.id} />
            ))}
          </ul>
        )}
      </section>
      <Trends g={g} />
      <section aria-labelledby="settings-title">
        <h2 id="settings-title">Device settings</h2>
        <SettingsTable g={g} profile={profile} />
      </section>
      <section aria-labelledby="history-title">
        <h2 id="history-title">Command history</h2>
        <CommandHistory commands={commands} profile={profile} />
      </section>
    </main>
  );
}

