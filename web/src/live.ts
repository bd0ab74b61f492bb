/**
 * The ward as this station knows it, kept live over the host's WebSocket stream (/api/stream):
 * a `hello` replaces everything (so a reconnect never leaves old state behind), then each message
 * updates one gateway, alarm, command or notice. Views re-render at most once per animation frame.
 * When the stream drops, the link is `lost` and every value is shown as not live until a new hello;
 * it reconnects by itself (0.5 s, doubling to 5 s), and goes back to sign-in when the session ended.
 */
import { sortAlarms } from './format.js';
import type { Alarm, Command, Gateway, LatestValue, Notice, StreamMessage, VitalsMessage } from './types.js';

/** A value older than this is not shown as live (three live batches of 5 s). */
export const STALE_MS = 15_000;
/** Spot measurements (a blood-pressure cuff cycles every 5 to 15 min) stay current for one cycle. */
const SPOT_MS: Readonly<Record<string, number>> = { nibpSys: 16 * 60_000, nibpDia: 16 * 60_000, nibpMean: 16 * 60_000 };
export const freshFor = (key: string): number => SPOT_MS[key] ?? STALE_MS;
export const isSpot = (key: string): boolean => key in SPOT_MS;
/** A gateway that sent back-filled history within this long is shown as back-filling. */
const BACKFILL_MS = 20_000;

export type LinkState = 'connecting' | 'live' | 'lost';

export interface Ward {
  site: string;
  user: string;
  role: string;
  link: LinkState;
  /** When the link last changed state (ms). */
  linkSince: number;
  /** The host's clock minus ours, from the last hello (ms). */
  skew: number;
  storageOk: boolean;
  gateways: Map<string, Gateway>;
  latest: Map<string, Record<string, LatestValue>>;
  alarms: Map<number, Alarm>;
  /** Each gateway's active alarms, highest priority first then newest (its tile's badge). */
  alarmsByGateway: Map<string, Alarm[]>;
  notices: Map<number, Notice>;
  commands: Map<number, Command>;
  /** Gateway → when its last back-filled batch arrived. */
  backfill: Map<string, number>;
  /** Bumped on every change: views compare it. */
  version: number;
}

type Listener = () => void;

/** Whether a gateway's new state changes what the ward's layout shows (not only its own tile). */
function structural(a: Gateway | undefined, b: Gateway): boolean {
  return a === undefined || a.presence !== b.presence || a.mode !== b.mode || a.bed !== b.bed || a.device?.kind !== b.device?.kind;
}
type VitalsListener = (m: VitalsMessage) => void;

/** Latency samples (ms from a batch's newest sample to the tile showing it), for the browser benchmark. */
export const latencySamples: number[] = [];
(globalThis as { vigilLatency?: number[] }).vigilLatency = latencySamples;

export class Live {
  readonly ward: Ward = {
    site: '',
    user: '',
    role: '',
    link: 'connecting',
    linkSince: Date.now(),
    skew: 0,
    storageOk: true,
    gateways: new Map(),
    latest: new Map(),
    alarms: new Map(),
    alarmsByGateway: new Map(),
    notices: new Map(),
    commands: new Map(),
    backfill: new Map(),
    version: 0,
  };
  /** Called when the ward changes as a whole (beds, presence, alarms, commands, notices, the link). */
  private readonly listeners = new Set<Listener>();
  /** Called when one gateway's own state or values change: its tile re-renders, not the whole ward. */
  private readonly gatewayListeners = new Map<string, Set<Listener>>();
  private readonly dirty = new Set<string>();
  private wardDirty = false;
  private readonly vitalsListeners = new Set<VitalsListener>();
  private ws: WebSocket | undefined;
  private retryMs = 500;
  private frame = 0;
  private closed = false;

  constructor(private readonly onSignedOut: () => void) {}

  start(): void {
    this.connect();
  }

  stop(): void {
    this.closed = true;
    this.ws?.close();
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  subscribeGateway(id: string, l: Listener): () => void {
    let set = this.gatewayListeners.get(id);
    if (set === undefined) this.gatewayListeners.set(id, (set = new Set()));
    set.add(l);
    return () => set.delete(l);
  }

  onVitals(l: VitalsListener): () => void {
    this.vitalsListeners.add(l);
    return () => this.vitalsListeners.delete(l);
  }

  /** Whether a value (of metric `key`) can be shown as current now: the link and the gateway up, and the value recent. */
  isLive(gateway: string, v: LatestValue | undefined, now = Date.now(), key = ''): boolean {
    const g = this.ward.gateways.get(gateway);
    return v !== undefined && this.ward.link === 'live' && g !== undefined && g.presence !== 'offline' && now + this.ward.skew - v.t < freshFor(key);
  }

  isBackfilling(gateway: string, now = Date.now()): boolean {
    const g = this.ward.gateways.get(gateway);
    return g?.mode === 'recovering' || now - (this.ward.backfill.get(gateway) ?? 0) < BACKFILL_MS;
  }

  /** Schedules one update per animation frame: the whole ward when `gateway` is undefined or `whole`, else that gateway's tile. */
  private changed(gateway?: string, whole = gateway === undefined): void {
    this.ward.version++;
    if (whole) this.wardDirty = true;
    if (gateway !== undefined) this.dirty.add(gateway);
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const ids = [...this.dirty];
      this.dirty.clear();
      if (this.wardDirty) {
        this.wardDirty = false;
        for (const l of this.listeners) l();
      }
      for (const id of ids) for (const l of this.gatewayListeners.get(id) ?? []) l();
    });
  }

  private setLink(link: LinkState): void {
    if (this.ward.link === link) return;
    this.ward.link = link;
    this.ward.linkSince = Date.now();
    this.changed();
  }

  private connect(): void {
    if (this.closed) return;
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/stream`);
    this.ws = ws;
    let helloed = false;
    ws.onmessage = (e) => {
      let m: StreamMessage;
      try {
        m = JSON.parse(String(e.data)) as StreamMessage;
      } catch {
        return;
      }
      if (m.type === 'hello') helloed = true;
      this.take(m);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.setLink(this.ward.link === 'connecting' && !helloed ? 'connecting' : 'lost');
      if (this.closed) return;
      // the session may have ended (signed out elsewhere, expired): then sign in again
      void fetch('/api/me', { credentials: 'same-origin' })
        .then((r) => {
          if (r.status === 401) {
            this.closed = true;
            this.onSignedOut();
          }
        })
        .catch(() => undefined);
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
  }

  private indexAlarms(gateway: string): void {
    const list = sortAlarms([...this.ward.alarms.values()].filter((a) => a.gateway === gateway));
    if (list.length === 0) this.ward.alarmsByGateway.delete(gateway);
    else this.ward.alarmsByGateway.set(gateway, list);
  }

  private take(m: StreamMessage): void {
    const w = this.ward;
    let gateway: string | undefined;
    let whole = true;
    switch (m.type) {
      case 'hello':
        w.site = m.site;
        w.user = m.user;
        w.role = m.role;
        w.skew = m.now - Date.now();
        w.gateways = new Map(m.gateways.map((g) => [g.id, g]));
        w.latest = new Map(Object.entries(m.latest));
        w.alarms = new Map(m.alarms.map((a) => [a.id, a]));
        w.alarmsByGateway = new Map();
        for (const a of sortAlarms(m.alarms)) w.alarmsByGateway.set(a.gateway, [...(w.alarmsByGateway.get(a.gateway) ?? []), a]);
        w.notices = new Map(m.notices.map((n) => [n.id, n]));
        w.storageOk = true;
        this.retryMs = 500;
        this.setLink('live');
        break;
      case 'vitals': {
        const row = { ...(w.latest.get(m.gateway) ?? {}) };
        let newest = -Infinity;
        for (const c of m.columns) {
          let i = c.values.length - 1;
          while (i >= 0 && c.values[i] === null) i--;
          if (i < 0) continue;
          const t = m.clock === 'utc' ? m.t0 + i * c.dt : Date.now() + w.skew;
          newest = Math.max(newest, t);
          const before = row[c.key];
          if (before !== undefined && before.t > t) continue;
          row[c.key] = { v: c.values[i]!, t, unit: c.unit, historical: m.historical };
        }
        w.latest.set(m.gateway, row);
        whole = m.historical && !this.isBackfilling(m.gateway); // a bed starts back-filling: the ward's filter may change
        if (m.historical) w.backfill.set(m.gateway, Date.now());
        for (const l of this.vitalsListeners) l(m);
        gateway = m.gateway;
        break;
      }
      case 'presence':
        gateway = m.gateway;
        whole = structural(w.gateways.get(m.gateway), m.state);
        w.gateways.set(m.gateway, m.state);
        break;
      case 'alarm':
        if (m.alarm.cleared === null) w.alarms.set(m.alarm.id, m.alarm);
        else w.alarms.delete(m.alarm.id);
        gateway = m.alarm.gateway;
        this.indexAlarms(gateway);
        break;
      case 'command':
        w.commands.set(m.command.id, m.command);
        break;
      case 'notice':
        if (m.notice.ended === null) w.notices.set(m.notice.id, m.notice);
        else w.notices.delete(m.notice.id);
        break;
      case 'storage':
        w.storageOk = m.ok;
        break;
      default:
        return;
    }
    this.changed(gateway, whole);
  }
}
