/**
 * The ward overview: a tile per bed with its device, the key vitals of that kind, the alarm state
 * (shape and text as well as colour), the gateway's state and how fresh the values are.
 */
import { memo } from 'preact/compat';
import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Link, useNow, useSession, useWard } from '../app.js';
import { byBed, duration, fmt, gatewayState, KEY_VITALS, KIND_NAMES, PRIORITY_MARK, sortAlarms, unitText } from '../format.js';
import { isSpot, latencySamples } from '../live.js';
import type { Alarm, Gateway, LatestValue } from '../types.js';


interface TileProps {
  readonly g: Gateway;
  readonly values: Record<string, LatestValue> | undefined;
  readonly alarm: Alarm | undefined;
  readonly alarms: number;
  readonly live: boolean;
  readonly backfilling: boolean;
  /** The age of the newest value, in whole minutes, when not live (changes the text). */
  readonly staleMin: number;
  /** Minutes since the gateway was last seen, when offline. */
  readonly offlineMin: number;
  readonly skew: number;
}

export const Tile = memo(function Tile(p: TileProps) {
  const { g } = p;
  const kind = g.device?.kind ?? 'unknown';
  const show = KEY_VITALS[kind] ?? [];
  const newest = p.values === undefined ? undefined : Math.max(...Object.values(p.values).map((v) => v.t));
  const state = gatewayState(g, p.backfilling, Date.now());
  const seen = useRef<number | undefined>(undefined);
  useLayoutEffect(() => {
    // the value is in the page: how long since the device took its newest sample
    if (newest !== undefined && p.live && (seen.current === undefined || newest > seen.current)) {
      if (seen.current !== undefined) latencySamples.push(Date.now() + p.skew - newest);
      if (latencySamples.length > 100_000) latencySamples.splice(0, 50_000);
    }
    seen.current = newest;
  }, [newest, p.live]);
  const mark = p.alarm === undefined ? undefined : PRIORITY_MARK[p.alarm.priority];
  return (
    <li class={`tile state-${state.key}${p.alarm ? ` alarm-${p.alarm.priority}` : ''}${p.live ? '' : ' stale'}`} data-gateway={g.id}>
      <Link href={`/bed/${encodeURIComponent(g.id)}`} class="tile-link">
        <div class="tile-head">
          <span class="bed">{g.bed ?? g.id}</span>
          <span class="kind">{KIND_NAMES[kind] ?? 'No device'}</span>
        </div>
        <div class={`alarm-badge ${p.alarm ? `prio-${p.alarm.priority}` : 'none'}`} data-alarm={p.alarm?.code ?? ''}>
          {p.alarm && mark ? (
            <>
              <span class="shape" aria-hidden="true">
                {mark.shape}
              </span>{' '}
              {mark.text} · {p.alarm.message.replace(/^[^:]*: /, '')}
              {p.alarms > 1 ? ` (+${p.alarms - 1})` : ''}
              {p.alarm.acked_by ? ' · acknowledged' : ''}
              {p.alarm.silenced_until !== null && p.alarm.silenced_until > Date.now() ? ' · silenced' : ''}
            </>
          ) : (
            'No active alarm'
          )}
        </div>
        <dl class="vitals">
          {show.map((m) => {
            const v = p.values?.[m.key];
            return (
              <div class="vital" data-metric={m.key}>
                <dt>{m.label}</dt>
                <dd>
                  <span class="value">{fmt(v?.v, m.digits)}</span> <span class="unit">{v ? unitText(v.unit) : ''}</span>
                </dd>
              </div>
            );
          })}
        </dl>
        <div class="tile-foot">
          <span class={`gw-state gw-${state.key}`} data-state={state.key}>
            <span aria-hidden="true">{state.key === 'online' ? '●' : state.key === 'offline' ? '○' : state.key === 'backfill' ? '↻' : '◐'}</span> {state.text}
          </span>
          <span class="fresh" data-live={p.live ? 'yes' : 'no'}>
            {newest === undefined ? 'no values yet' : p.live ? 'live' : `not live · ${p.staleMin < 1 ? 'under 1 min' : duration(p.staleMin * 60_000)} old`}
          </span>
        </div>
      </Link>
    </li>
  );
});

type Filter = 'all' | 'alarms' | 'attention';

export function WardPage() {
  const ward = useWard();
  const { live } = useSession();
  const now = useNow(5000);
  const [filter, setFilter] = useState<Filter>('all');
  const alarmsBy = new Map<string, Alarm[]>();
  for (const a of sortAlarms(ward.alarms.values())) alarmsBy.set(a.gateway, [...(alarmsBy.get(a.gateway) ?? []), a]);
  // the order changes only with the beds: sorted again when one comes or goes, and every 5 s (a bed renamed)
  const order = useMemo(() => [...ward.gateways.values()].sort(byBed).map((g) => g.id), [ward.gateways.size, now]);
  let beds = order.flatMap((id) => ward.gateways.get(id) ?? []);
  if (filter === 'alarms') beds = beds.filter((g) => alarmsBy.has(g.id));
  if (filter === 'attention') beds = beds.filter((g) => g.presence !== 'online' || live.isBackfilling(g.id, now));
  const counts = { online: 0, degraded: 0, offline: 0 };
  for (const g of ward.gateways.values()) counts[g.presence]++;
  return (
    <main id="main" class="page">
      <div class="page-head">
        <h1>Ward {ward.site}</h1>
        <p class="summary" aria-live="polite">
          {ward.gateways.size} beds · {counts.online} online · {counts.degraded} degraded · {counts.offline} offline · {ward.alarms.size} active alarms
        </p>
        <label class="filter">
          Show{' '}
          <select value={filter} onChange={(e) => setFilter(e.currentTarget.value as Filter)}>
            <option value="all">every bed</option>
            <option value="alarms">beds with alarms</option>
            <option value="attention">beds not fully online</option>
          </select>
        </label>
      </div>
      {ward.gateways.size === 0 ? <p>No gateways have reported yet.</p> : null}
      <ul class="tiles" aria-label="Beds">
        {beds.map((g) => {
          const values = ward.latest.get(g.id);
          const newest = values === undefined ? undefined : Math.max(...Object.values(values).map((v) => v.t));
          const isLive = values !== undefined && Object.entries(values).some(([k, v]) => !isSpot(k) && live.isLive(g.id, v, now, k));
          const list = alarmsBy.get(g.id);
          return (
            <Tile
              key={g.id}
              g={g}
              values={values}
              alarm={list?.[0]}
              alarms={list?.length ?? 0}
              live={isLive}
              backfilling={live.isBackfilling(g.id, now)}
              staleMin={isLive || newest === undefined ? 0 : Math.floor((now + ward.skew - newest) / 60_000)}
              offlineMin={g.presence === 'offline' ? Math.floor((now - (g.lastSeen ?? now)) / 60_000) : 0}
              skew={ward.skew}
            />
          );
        })}
      </ul>
    </main>
  );
}
