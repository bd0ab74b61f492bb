/**
 * The ward overview: a tile per bed with its device, the key vitals of that kind, the alarm state
 * (shape and text as well as colour), the gateway's state and how fresh the values are.
 */
import { memo } from 'preact/compat';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Link, useGatewayChanges, useNow, useSession, useWard } from '../session.js';
import { byBed, duration, fmt, gatewayState, KEY_VITALS, KIND_NAMES, PAGE_SIZES, PRIORITY_MARK, unitText, wardPages } from '../format.js';
import { isSpot, latencySamples, STALE_MS, type LinkState } from '../live.js';


interface TileProps {
  readonly id: string;
  /** The station's link to the host: when it drops, every tile says its values are not live. */
  readonly link: LinkState;
}

/**
 * A bed's tile. It follows its own gateway (useGatewayChanges): a new batch re-renders this tile
 * alone, never the ward, so a ward of a thousand beds stays responsive.
 */
export const Tile = memo(function Tile(p: TileProps) {
  useGatewayChanges(p.id);
  const { live } = useSession();
  const ward = live.ward;
  const g = ward.gateways.get(p.id);
  const values = ward.latest.get(p.id);
  const alarms = ward.alarmsByGateway.get(p.id) ?? [];
  const alarm = alarms[0];
  const now = Date.now();
  const newest = values === undefined ? undefined : Math.max(...Object.values(values).map((v) => v.t));
  const isLive = values !== undefined && Object.entries(values).some(([k, v]) => !isSpot(k) && live.isLive(p.id, v, now, k));
  const staleMin = isLive || newest === undefined ? 0 : Math.floor((now + ward.skew - newest) / 60_000);
  const seen = useRef<number | undefined>(undefined);
  useLayoutEffect(() => {
    // the value is in the page: how long since the device took its newest sample
    if (newest !== undefined && isLive && (seen.current === undefined || newest > seen.current)) {
      if (seen.current !== undefined) latencySamples.push(Date.now() + ward.skew - newest);
      if (latencySamples.length > 100_000) latencySamples.splice(0, 50_000);
    }
    seen.current = newest;
  }, [newest, isLive]);
  const backfilling = live.isBackfilling(p.id, now);
  const [, tick] = useState(0);
  useEffect(() => {
    // time alone changes what the tile says: a value going stale, back-filling ending, an offline bed's minutes
    const untilStale = isLive && newest !== undefined ? newest + STALE_MS - (Date.now() + ward.skew) + 100 : Infinity;
    const wait = Math.min(untilStale, backfilling ? 5_000 : Infinity, g !== undefined && g.presence !== 'online' ? 30_000 : Infinity, staleMin > 0 || !isLive ? 60_000 : Infinity);
    if (wait === Infinity) return;
    const t = setTimeout(() => tick((x) => x + 1), Math.max(500, wait));
    return () => clearTimeout(t);
  });
  if (g === undefined) return null;
  const kind = g.device?.kind ?? 'unknown';
  const show = KEY_VITALS[kind] ?? [];
  const state = gatewayState(g, backfilling, now);
  const pv = { values, live: isLive, staleMin };
  const mark = alarm === undefined ? undefined : PRIORITY_MARK[alarm.priority];
  return (
    <li class={`tile state-${state.key}${alarm ? ` alarm-${alarm.priority}` : ''}${pv.live ? '' : ' stale'}`} data-gateway={g.id}>
      <Link href={`/bed/${encodeURIComponent(g.id)}`} class="tile-link">
        <div class="tile-head">
          <span class="bed">{g.bed ?? g.id}</span>
          <span class="kind">{KIND_NAMES[kind] ?? 'No device'}</span>
        </div>
        <div class={`alarm-badge ${alarm ? `prio-${alarm.priority}` : 'none'}`} data-alarm={alarm?.code ?? ''}>
          {alarm && mark ? (
            <>
              <span class="shape" aria-hidden="true">
                {mark.shape}
              </span>{' '}
              {mark.text} · {alarm.message.replace(/^[^:]*: /, '')}
              {alarms.length > 1 ? ` (+${alarms.length - 1})` : ''}
              {alarm.acked_by ? ' · acknowledged' : ''}
              {alarm.silenced_until !== null && alarm.silenced_until > Date.now() ? ' · silenced' : ''}
            </>
          ) : (
            'No active alarm'
          )}
        </div>
        <dl class="vitals">
          {show.map((m) => {
            const v = pv.values?.[m.key];
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
          <span class="fresh" data-live={pv.live ? 'yes' : 'no'}>
            {newest === undefined ? 'no values yet' : pv.live ? 'live' : `not live · ${pv.staleMin < 1 ? 'under 1 min' : duration(pv.staleMin * 60_000)} old`}
          </span>
        </div>
      </Link>
    </li>
  );
});

type Filter = 'all' | 'alarms' | 'attention';

/** The tiles, re-rendered only when the beds shown or the link change (a tile follows its own gateway). */
const TileGrid = memo(function TileGrid(p: { ids: string; link: LinkState }) {
  return (
    <ul class="tiles" aria-label="Beds">
      {p.ids === '' ? null : p.ids.split('\n').map((id) => <Tile key={id} id={id} link={p.link} />)}
    </ul>
  );
});

const PER_PAGE_KEY = 'vigil.bedsPerPage';

/** Beds per page: `?per=N` in the address (a wall display's bookmark, 1 to 240), else this browser's choice, else 60. */
function savedPerPage(): number {
  const asked = Number(new URLSearchParams(location.search).get('per'));
  if (Number.isInteger(asked) && asked >= 1 && asked <= 240) return asked;
  const saved = Number(localStorage.getItem(PER_PAGE_KEY));
  return (PAGE_SIZES as readonly number[]).includes(saved) ? saved : PAGE_SIZES[0];
}

export function WardPage() {
  const ward = useWard();
  const { live } = useSession();
  const now = useNow(5000);
  const [filter, setFilter] = useState<Filter>('all');
  const [per, setPer] = useState(savedPerPage);
  const [page, setPage] = useState(0);
  // the order changes only with the beds: sorted again when one comes or goes, and every 5 s (a bed renamed)
  const order = useMemo(() => [...ward.gateways.values()].sort(byBed).map((g) => g.id), [ward.gateways.size, now]);
  let beds = order.flatMap((id) => ward.gateways.get(id) ?? []);
  if (filter === 'alarms') beds = beds.filter((g) => ward.alarmsByGateway.has(g.id));
  if (filter === 'attention') beds = beds.filter((g) => g.presence !== 'online' || live.isBackfilling(g.id, now));
  const counts = { online: 0, degraded: 0, offline: 0 };
  for (const g of ward.gateways.values()) counts[g.presence]++;
  // a page of tiles at a time: a thousand beds on one page cost the browser a long style and layout
  // pass on every update; each page's button carries its most urgent alarm
  const slice = wardPages(
    beds.map((g) => g.id),
    per,
    page,
    (id) => ward.gateways.get(id)?.bed ?? id,
    (id) => ward.alarmsByGateway.get(id)?.[0]?.priority,
  );
  return (
    <main id="main" class="page">
      <div class="page-head">
        <h1>Ward {ward.site}</h1>
        <p class="summary" aria-live="polite">
          {ward.gateways.size} beds · {counts.online} online · {counts.degraded} degraded · {counts.offline} offline · {ward.alarms.size} active alarms
        </p>
        <label class="filter">
          Show{' '}
          <select
            value={filter}
            onChange={(e) => {
              setFilter(e.currentTarget.value as Filter);
              setPage(0);
            }}
          >
            <option value="all">every bed</option>
            <option value="alarms">beds with alarms</option>
            <option value="attention">beds not fully online</option>
          </select>
        </label>
        <label class="filter">
          Beds per page{' '}
          <select
            value={per}
            onChange={(e) => {
              const n = Number(e.currentTarget.value);
              localStorage.setItem(PER_PAGE_KEY, String(n));
              setPer(n);
              setPage(Math.floor((slice.page * per) / n));
            }}
          >
            {[...new Set([...PAGE_SIZES, per])].sort((a, b) => a - b).map((n) => (
              <option value={n}>{n}</option>
            ))}
          </select>
        </label>
      </div>
      {ward.gateways.size === 0 ? <p>No gateways have reported yet.</p> : null}
      {slice.pages > 1 ? <Pager slice={slice} onPage={setPage} /> : null}
      <TileGrid ids={slice.ids.join('\n')} link={ward.link} />
    </main>
  );
}

/** The ward's pages: one button each, named by its first and last bed, marked with its most urgent alarm. */
function Pager(p: { slice: ReturnType<typeof wardPages>; onPage: (page: number) => void }) {
  const { slice } = p;
  return (
    <nav class="pager" aria-label="Ward pages">
      <button type="button" disabled={slice.page === 0} onClick={() => p.onPage(slice.page - 1)}>
        ‹ Previous
      </button>
      <ol>
        {slice.marks.map((m, i) => {
          const mark = m.priority === undefined ? undefined : PRIORITY_MARK[m.priority];
          const beds = m.first === m.last ? m.first : `${m.first} – ${m.last}`;
          return (
            <li>
              <button
                type="button"
                class={`page-button${mark ? ` prio-${m.priority}` : ''}`}
                aria-current={i === slice.page ? 'page' : undefined}
                // the visible text is part of the name (WCAG 2.5.3), the alarm said in words
                aria-label={`Page ${i + 1}: ${beds}${mark ? `, ${mark.text} alarm` : ''}`}
                data-page={i + 1}
                data-alarm={m.priority ?? ''}
                onClick={() => p.onPage(i)}
              >
                {mark ? (
                  <span class="shape" aria-hidden="true">
                    {mark.shape}{' '}
                  </span>
                ) : null}
                {beds}
              </button>
            </li>
          );
        })}
      </ol>
      <button type="button" disabled={slice.page === slice.pages - 1} onClick={() => p.onPage(slice.page + 1)}>
        Next ›
      </button>
    </nav>
  );
}
