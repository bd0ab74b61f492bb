/**
 * What the nursing station's pages need beyond the raw API: the latest value of every metric of every
 * bed (kept in memory from the stream, seeded from the database at start), the ward in one answer,
 * the device profiles (a setting's limits for the command console), the trust list as people and
 * grants, and ward notices (a drill, a declared outage).
 */
import { toHex } from '../../firmware/core/hex.js';
import { decodeBatch } from '../../firmware/core/vitals/index.js';
import { metricByMdc } from '../../firmware/core/vitals/metrics.js';
import type { Host, StreamMessage } from '../types.js';
import { gatewayView } from '../views.js';
import { EVERYONE, HttpError, intParam, type On } from './router.js';
import { storedBatches } from './views.js';

/** A metric's newest sample: value, when it was taken (host ms; the receive time for a boot-clock batch), its unit, and whether it came by back-fill. */
export interface LatestValue {
  readonly v: number;
  readonly t: number;
  readonly unit: string;
  readonly historical: boolean;
}

export type LatestByGateway = Record<string, Record<string, LatestValue>>;

type Columns = ReadonlyArray<{ readonly key: string; readonly unit: string; readonly dt: number; readonly values: ReadonlyArray<number | null> }>;

/** The newest value of every metric of every gateway; a back-filled batch older than what is shown changes nothing. */
export class Latest {
  private readonly byGateway = new Map<string, Record<string, LatestValue>>();
  private readonly off: () => void;

  constructor(private readonly host: Host, now: () => number) {
    const url = new URL('http://localhost/?limit=1');
    for (const g of host.gateways()) {
      for (const b of storedBatches(host, g.id, url)) {
        const columns = b.batch.columns.map((c) => ({ key: metricByMdc(c.mdc)?.key ?? String(c.mdc), unit: c.unit, dt: c.dt, values: c.values }));
        this.take(g.id, b.batch.clock === 'utc' ? b.batch.t0 : undefined, b.received, b.historical, columns);
      }
    }
    this.off = host.subscribe((m: StreamMessage) => {
      if (m.type === 'vitals') this.take(m.gateway, m.clock === 'utc' ? m.t0 : undefined, now(), m.historical, m.columns);
    });
  }

  private take(gateway: string, t0: number | undefined, received: number, historical: boolean, columns: Columns): void {
    const row = this.byGateway.get(gateway) ?? {};
    for (const c of columns) {
      let i = c.values.length - 1;
      while (i >= 0 && c.values[i] === null) i--;
      if (i < 0) continue;
      const t = t0 === undefined ? received : t0 + i * c.dt;
      const before = row[c.key];
      if (before !== undefined && before.t > t) continue;
      row[c.key] = { v: c.values[i]!, t, unit: c.unit, historical };
    }
    this.byGateway.set(gateway, row);
  }

  all(): LatestByGateway {
    return Object.fromEntries(this.byGateway);
  }

  close(): void {
    this.off();
  }
}

const MAX_TREND_MS = 7 * 24 * 3600_000;

/**
 * A bed's trend over [from, to]: every metric's samples averaged into at most `points` buckets of
 * equal width, on one shared time axis (bucket middles), with each bucket marked when any of its
 * samples came by back-fill. Batches on the gateway's boot clock have no wall time and are left out.
 */
export function trend(host: Host, gateway: string, from: number, to: number, points: number) {
  const span = Math.max(1, to - from);
  const bucketMs = Math.max(1000, Math.ceil(span / points / 1000) * 1000);
  const n = Math.ceil(span / bucketMs);
  const series = new Map<string, { unit: string; sum: Float64Array; count: Uint32Array; historical: Uint8Array }>();
  const rows = host.db
    .prepare<[string, number, number], { body: Uint8Array; historical: number }>("SELECT body, historical FROM batches WHERE gateway = ? AND t0 >= ? AND t0 <= ? AND clock = 'utc' ORDER BY t0")
    .iterate(gateway, from - 3600_000, to);
  for (const r of rows) {
    const b = decodeBatch(r.body);
    if (!b.ok) continue;
    for (const c of b.value.columns) {
      const key = metricByMdc(c.mdc)?.key ?? String(c.mdc);
      let s = series.get(key);
      if (s === undefined) series.set(key, (s = { unit: c.unit, sum: new Float64Array(n), count: new Uint32Array(n), historical: new Uint8Array(n) }));
      for (let i = 0; i < c.values.length; i++) {
        const v = c.values[i];
        const t = b.value.t0 + i * c.dt;
        if (v === null || v === undefined || t < from || t >= to) continue;
        const k = Math.floor((t - from) / bucketMs);
        s.sum[k]! += v;
        s.count[k]!++;
        if (r.historical === 1) s.historical[k] = 1;
      }
    }
  }
  const t = Array.from({ length: n }, (_, k) => from + k * bucketMs + bucketMs / 2);
  const metrics = Object.fromEntries(
    [...series].map(([key, s]) => [
      key,
      { unit: s.unit, v: Array.from(s.sum, (x, k) => (s.count[k]! === 0 ? null : x / s.count[k]!)), historical: Array.from(s.historical, (x, k) => (s.count[k]! === 0 ? null : x === 1)) },
    ]),
  );
  return { from, to, bucketMs, t, metrics };
}

/** How often each gateway dropped off the network (went offline) in the last hour, seen since this host started. */
export class LinkQuality {
  private readonly drops = new Map<string, number[]>();
  private readonly off: () => void;

  constructor(host: Host, private readonly now: () => number) {
    const last = new Map(host.gateways().map((g) => [g.id, g.presence as string]));
    this.off = host.subscribe((m) => {
      if (m.type !== 'presence') return;
      if (m.presence === 'offline' && last.get(m.gateway) !== 'offline') this.drops.set(m.gateway, [...(this.drops.get(m.gateway) ?? []), now()].slice(-50));
      last.set(m.gateway, m.presence);
    });
  }

  dropsLastHour(id: string): number {
    const since = this.now() - 3600_000;
    return (this.drops.get(id) ?? []).filter((t) => t >= since).length;
  }

  close(): void {
    this.off();
  }
}

function profilesView(host: Host) {
  return [...host.profiles().values()].map((p) => ({ model: p.model, kind: p.kind, settings: Object.fromEntries(p.settings) }));
}

function trustView(host: Host) {
  const t = host.trust();
  if (t === undefined) return null;
  return {
    site: t.site,
    epoch: t.epoch,
    issued: t.issued * 1000,
    signers: [...t.signers.values()].map((s) => ({ person: s.person, roles: s.roles, kid: toHex(s.kid), key: toHex(s.key), revoked: t.revoked.has(toHex(s.key)) })),
    revoked: [...t.revoked],
    grants: Object.fromEntries(t.grants),
    cosign: Object.fromEntries(t.cosign),
  };
}

/** The ward at a glance, as the station's first paint and the stream's hello give it. */
export function wardSnapshot(host: Host, latest: Latest, now: number) {
  return { site: host.site, now, gateways: host.gateways().map(gatewayView), latest: latest.all(), alarms: host.alarms.list(true), notices: host.notices.list(true) };
}

export function wardRoutes(latest: Latest, links: LinkQuality) {
  return (on: On, host: Host, now: () => number): void => {
    on('GET', '/api/ward', EVERYONE, () => wardSnapshot(host, latest, now()));
    on('GET', '/api/fleet', EVERYONE, () => host.gateways().map((g) => ({ ...gatewayView(g), linkDrops1h: links.dropsLastHour(g.id) })));
    on('GET', '/api/gateways/:id/trend', EVERYONE, (c) => {
      const id = c.params[0]!;
      if (host.gateway(id) === undefined) throw new HttpError(404, `no gateway ${id}`);
      const to = intParam(c.url, 'to', now(), Number.MAX_SAFE_INTEGER);
      const from = intParam(c.url, 'from', to - 3600_000, Number.MAX_SAFE_INTEGER);
      if (from >= to) throw new HttpError(400, 'from must be before to');
      if (to - from > MAX_TREND_MS) throw new HttpError(400, `a trend covers at most ${MAX_TREND_MS / 3600_000} h`);
      return trend(host, id, from, to, Math.max(10, intParam(c.url, 'points', 600, 2000)));
    });
    on('GET', '/api/profiles', EVERYONE, () => profilesView(host));
    on('GET', '/api/trust', EVERYONE, () => trustView(host));
    on('GET', '/api/notices', EVERYONE, (c) => host.notices.list(c.url.searchParams.get('active') !== '0'));
    on('POST', '/api/notices', ['charge-nurse', 'admin', 'biomed'], async (c) => {
      const b = await c.body();
      return { status: 201, body: host.notices.start(now(), c.user!.username, b.kind, b.message) };
    });
    on('POST', '/api/notices/:id/end', ['charge-nurse', 'admin', 'biomed'], (c) => host.notices.end(now(), c.user!.username, Number(c.params[0])));
  };
}

