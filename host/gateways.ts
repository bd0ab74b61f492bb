/**
 * The host's gateways: their rows (identity, presence, buffer, limits), kept from births and deaths,
 * and what is kept in memory to spare the disk: when each was last heard from (written once a second),
 * and each bed's alarm limits (read on every live batch).
 */
import type { BirthMessage, DeathMessage } from '../firmware/core/protocol/index.js';
import { alarmsFromBirth } from './alarm-rules.js';
import { DEFAULT_LIMITS, type Alarms, type Limit } from './alarms.js';
import type { AuditLog } from './audit.js';
import { presenceOf, type Presence } from './presence.js';
import type { Db } from './store/db.js';
import type { GatewayRow, HostCounters, StreamMessage } from './types.js';
import { gatewayView } from './views.js';

export class Gateways {
  private readonly getRow;
  private readonly ensureRow;
  private readonly touchRow;
  private readonly known = new Set<string>();
  private readonly lastSeen = new Map<string, number>();
  private readonly limitsCache = new Map<string, readonly Limit[]>();
  private readonly recentBoots = new Map<string, string[]>();
  readonly saveLastSeen: () => void;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly alarms: Alarms,
    private readonly counters: HostCounters,
    private readonly emit: (m: StreamMessage) => void,
    private readonly now: () => number,
  ) {
    this.getRow = db.prepare<[string], GatewayRow>('SELECT * FROM gateways WHERE id = ?');
    this.ensureRow = db.prepare("INSERT INTO gateways (id, presence) VALUES (?, 'offline') ON CONFLICT (id) DO NOTHING");
    this.touchRow = db.prepare('UPDATE gateways SET last_seen = ? WHERE id = ?');
    // a write per message outside a transaction would cost an fsync each: last_seen goes once a second
    this.saveLastSeen = db.transaction(() => {
      for (const [g, t] of this.lastSeen) this.touchRow.run(t, g);
      this.lastSeen.clear();
    });
  }

  get(id: string): GatewayRow | undefined {
    return this.getRow.get(id);
  }

  all(): GatewayRow[] {
    return this.db.prepare<[], GatewayRow>('SELECT * FROM gateways ORDER BY id').all();
  }

  isKnown(id: string): boolean {
    return this.known.has(id);
  }

  /** A message came from `id`. */
  seen(id: string): void {
    if (!this.known.has(id)) {
      this.ensureRow.run(id);
      this.known.add(id);
    }
    this.lastSeen.set(id, this.now());
  }

  /** Gateways silent for `afterMs` go offline. */
  sweep(afterMs: number): void {
    for (const g of this.db.prepare<[number], { id: string }>("SELECT id FROM gateways WHERE presence != 'offline' AND (last_seen IS NULL OR last_seen < ?)").all(this.now() - afterMs)) {
      this.setPresence(g.id, 'offline', null);
    }
  }

  limitsFor(id: string): readonly Limit[] {
    let l = this.limitsCache.get(id);
    if (l === undefined) {
      const g = this.getRow.get(id);
      l = g?.limits ? (JSON.parse(g.limits) as Limit[]) : (DEFAULT_LIMITS[g?.device_kind ?? ''] ?? []);
      this.limitsCache.set(id, l);
    }
    return l;
  }

  setLimits(id: string, limits: readonly Limit[] | null): void {
    this.db.prepare('UPDATE gateways SET limits = ? WHERE id = ?').run(limits === null ? null : JSON.stringify(limits), id);
    this.limitsCache.delete(id);
  }

  /** A birth or a death on `state`. */
  state(id: string, s: BirthMessage | DeathMessage): void {
    const g = this.getRow.get(id);
    if (!s.online) {
      if (g?.bd_seq !== s.bdSeq) {
        this.counters.staleDeaths++; // the death of a connection already replaced by a newer birth
        return;
      }
      this.setPresence(id, 'offline', null);
      return;
    }
    const t = this.now();
    this.watchClones(id, s.bootId, t);
    this.db
      .prepare(
        'UPDATE gateways SET bd_seq = ?, boot_id = ?, firmware = ?, device_kind = ?, device_model = ?, device_serial = ?, device_firmware = ?, nonce = ?, mode = ?, buffer_used = ?, buffer_capacity = ?, buffer_dropped = ?, settings = ?, birth_at = coalesce(CASE WHEN bd_seq = ? THEN birth_at END, ?) WHERE id = ?',
      )
      .run(s.bdSeq, s.bootId, s.firmware, s.device?.kind ?? null, s.device?.model ?? null, s.device?.serial ?? null, s.device?.firmware ?? null, s.nonce, s.mode, s.buffer.used, s.buffer.capacity, s.buffer.dropped, s.settings === undefined ? null : JSON.stringify(s.settings), s.bdSeq, t, id);
    if (g?.device_kind !== (s.device?.kind ?? null)) this.limitsCache.delete(id);
    this.setPresence(id, presenceOf(s), s.mode);
    alarmsFromBirth(this.alarms, t, id, s.buffer, g?.buffer_dropped ?? null);
  }

  /**
   * One box boots with a new random boot id each time, so a boot id that comes back after another one
   * means two boxes hold this gateway's identity (its credentials copied onto a second box): each
   * takes the other's session in turn. Remembered in memory, for the last few boots of each gateway.
   */
  private watchClones(id: string, bootId: Uint8Array, t: number): void {
    const hex = Buffer.from(bootId).toString('hex');
    const seen = this.recentBoots.get(id) ?? [];
    if (seen.length > 0 && seen[seen.length - 1] !== hex && seen.includes(hex)) {
      this.alarms.raise(t, id, 'security', 'gateway-cloned', 'high', `${id}: two boxes are using this gateway's identity (its boot ids alternate)`, { bootIds: [...new Set([...seen.slice(-2), hex])] });
    }
    this.recentBoots.set(id, [...seen.filter((b) => b !== hex), hex].slice(-4));
  }

  /** The gateway's challenge nonce moves on with every command: the next one must carry the new one. */
  nonce(id: string, nonce: Uint8Array): void {
    this.db.prepare('UPDATE gateways SET nonce = ? WHERE id = ?').run(nonce, id);
  }

  /** A bed label given to a gateway (biomed, the charge nurse): audited, and every station sees it at once. */
  assignBed(id: string, bed: string, by: string): void {
    this.db.prepare('UPDATE gateways SET bed = ? WHERE id = ?').run(bed, id);
    this.audit.append(this.now(), by, 'bed-assigned', `gateway/${id}`, { bed });
    const g = this.getRow.get(id)!;
    this.emit({ type: 'presence', gateway: id, presence: g.presence, mode: g.mode, state: gatewayView(g) });
  }

  setPresence(id: string, presence: Presence, mode: string | null): void {
    const before = this.getRow.get(id);
    this.db.prepare('UPDATE gateways SET presence = ?, presence_since = CASE WHEN presence = ? AND presence_since IS NOT NULL THEN presence_since ELSE ? END WHERE id = ?').run(presence, presence, this.now(), id);
    if (before?.presence !== presence) {
      this.audit.append(this.now(), 'host', 'gateway-presence', `gateway/${id}`, { from: before?.presence ?? null, to: presence });
      if (presence === 'offline') this.alarms.raise(this.now(), id, 'technical', 'gateway-offline', 'medium', `${id} is offline: no data reaches the station (the gateway keeps recording)`);
      else this.alarms.clear(this.now(), id, 'gateway-offline');
    }
    this.emit({ type: 'presence', gateway: id, presence, mode, state: gatewayView(this.getRow.get(id)!) });
  }
}
