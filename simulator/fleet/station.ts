/**
 * The simulator's view of the host, as people see it: its API as a signed-in user (signing in again
 * after a host restart), the nursing station's WebSocket stream (presence, alarms, live vitals, and
 * whether the station has the host at all), and the samples the host holds for a gateway.
 */
import { WebSocket } from 'ws';
import type { StationEvent } from './report.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const unixNow = () => performance.timeOrigin + performance.now();

/** The host's API as one user: signs in (again, after a host restart) as needed. */
export function apiAs(base: () => string, username: string, password: string) {
  let token: string | undefined;
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    for (let attempt = 0; ; attempt++) {
      try {
        if (token === undefined) {
          const r = await fetch(`${base()}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
          if (r.status !== 200) throw new Error(`sign-in as ${username}: ${r.status} ${await r.text()}`);
          token = ((await r.json()) as { token: string }).token;
        }
        const r = await fetch(`${base()}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
        if (r.status === 401) {
          token = undefined;
          continue;
        }
        const text = await r.text();
        return { status: r.status, json: text.length > 0 ? JSON.parse(text) : undefined };
      } catch (e) {
        if (attempt >= 60) throw e;
        await sleep(500); // the host is restarting
      }
    }
  };
}

/**
 * Every sample the host holds for a gateway from this run (its boots: a kept data directory holds
 * earlier runs too): the rows of every stored batch, paged through the API.
 */
export async function storedSamples(api: ReturnType<typeof apiAs>, id: string, boots: ReadonlySet<string>): Promise<number> {
  let from = 0;
  let samples = 0;
  const seen = new Set<string>();
  for (;;) {
    const r = await api('GET', `/api/gateways/${encodeURIComponent(id)}/vitals?from=${from}&to=${Number.MAX_SAFE_INTEGER}&limit=2000`);
    if (r.status !== 200) throw new Error(`vitals of ${id}: ${r.status} ${JSON.stringify(r.json)}`);
    const page = r.json as Array<{ bootId: string; seq: number; t0: number; columns: Array<{ values: unknown[] }> }>;
    for (const b of page) {
      const key = `${b.bootId}/${b.seq}`;
      if (seen.has(key) || !boots.has(b.bootId.toLowerCase())) continue; // pages overlap on the last t0
      seen.add(key);
      samples += b.columns[0]?.values.length ?? 0;
    }
    if (page.length < 2000) return samples;
    from = page[page.length - 1]!.t0;
  }
}

export type Api = ReturnType<typeof apiAs>;

export interface Station {
  /** What the station saw, `t` in real ms from `origin`. */
  readonly events: StationEvent[];
  /** Live batches on the stream: `<gateway>/<boot id hex>/<seq>` → when (unix ms). */
  readonly received: Map<string, number>;
  /** Times are counted from here on (the timeline's start). */
  origin: number;
  close(): void;
}

/** A nursing station signed in as `username`, reconnecting whenever it loses the host. */
export async function watchStation(hostUrl: string, username: string, password: string): Promise<Station> {
  let wanted = true;
  let ws: WebSocket | undefined;
  const station: Station = {
    events: [],
    received: new Map(),
    origin: unixNow(),
    close() {
      wanted = false;
      ws?.close();
    },
  };
  const t = () => unixNow() - station.origin;
  const connect = async (): Promise<void> => {
    if (!wanted) return;
    const r = await fetch(`${hostUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) }).catch(() => undefined);
    if (r?.status !== 200) return void setTimeout(connect, 1000);
    const { token } = (await r.json()) as { token: string };
    ws = new WebSocket(`${hostUrl.replace(/^http/, 'ws')}/api/stream?token=${token}`, { headers: { origin: hostUrl } });
    ws.on('open', () => station.events.push({ t: t(), what: 'stream', detail: 'the station is connected to the host' }));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; gateway?: string; bootId?: string; seq?: number; historical?: boolean; presence?: string; change?: string; gateways?: Array<{ id: string; presence: string }>; alarm?: { gateway: string; code: string; priority: string; class: string } };
      if (m.type === 'vitals' && m.historical === false) station.received.set(`${m.gateway}/${m.bootId?.toLowerCase()}/${m.seq}`, unixNow());
      else if (m.type === 'presence') station.events.push({ t: t(), what: 'presence', gateway: m.gateway, detail: m.presence ?? '' });
      else if (m.type === 'hello') for (const g of m.gateways ?? []) station.events.push({ t: t(), what: 'presence', gateway: g.id, detail: g.presence });
      else if (m.type === 'alarm' && m.change === 'raised' && m.alarm !== undefined) station.events.push({ t: t(), what: 'alarm', gateway: m.alarm.gateway, detail: `${m.alarm.priority} ${m.alarm.class} ${m.alarm.code}`, code: m.alarm.code });
    });
    ws.on('close', () => {
      if (!wanted) return;
      station.events.push({ t: t(), what: 'stream', detail: 'the station lost the host' });
      setTimeout(connect, 1000);
    });
    ws.on('error', () => undefined);
  };
  await connect();
  return station;
}
