/** The host's data shapes shared by the service, the API and the stream (docs/api.md shows them as JSON). */
import type { DeviceProfile, TrustList } from '../firmware/core/command/index.js';
import type { Alarm, Alarms, Limit } from './alarms.js';
import type { AuditLog } from './audit.js';
import type { EmbeddedBroker } from './broker/embedded.js';
import type { CommandRow, CommandService } from './commands.js';
import type { Ingest } from './ingest.js';
import type { Presence } from './presence.js';
import type { Notice, Notices } from './notices.js';
import type { Advisories } from './advisories/index.js';
import type { TrustKeeper } from './signing/trust-keeper.js';
import type { Db } from './store/db.js';
import type { Users } from './users.js';

export interface HostCounters {
  refused: Record<string, number>;
  staleDeaths: number;
  errorEvents: number;
}

export type StreamMessage =
  | { type: 'vitals'; gateway: string; bootId: string; seq: number; historical: boolean; t0: number; clock: string; columns: Array<{ key: string; mdc: number; unit: string; dt: number; values: Array<number | null> }> }
  | { type: 'alarm'; change: string; alarm: Alarm }
  /** A gateway's presence changed, or its birth (every heartbeat) brought news: `state` is the whole gateway. */
  | { type: 'presence'; gateway: string; presence: Presence; mode: string | null; state: GatewayState }
  | { type: 'command'; command: CommandState }
  /** A ward notice began or ended (a drill, an outage declared by the charge nurse). */
  | { type: 'notice'; notice: Notice }
  | { type: 'event'; gateway: string; class: string; code: string; priority: string; detail: unknown }
  | { type: 'error'; gateway: string; channel: string; error: string }
  /** The database failed (ok false) or works again (docs/host.md, storage). */
  | { type: 'storage'; ok: boolean; error: string | null };

/** A row of the gateways table: names as on the wire (docs/protocol.md), in snake case. */
export interface GatewayRow {
  readonly id: string;
  readonly bed: string | null;
  readonly presence: Presence;
  /** Host ms when the gateway took this presence (null: before schema 3, or never). */
  readonly presence_since: number | null;
  readonly bd_seq: number | null;
  readonly boot_id: Uint8Array | null;
  readonly firmware: string | null;
  readonly device_kind: string | null;
  readonly device_model: string | null;
  readonly device_serial: string | null;
  readonly device_firmware: string | null;
  readonly expected_model: string | null;
  readonly provisioned_at: number | null;
  readonly nonce: Uint8Array | null;
  readonly mode: string | null;
  readonly buffer_used: number | null;
  readonly buffer_capacity: number | null;
  readonly buffer_dropped: number | null;
  readonly last_seen: number | null;
  readonly birth_at: number | null;
  readonly limits: string | null;
  /** The device's present settings (JSON) from the last birth; null until reported. */
  readonly settings: string | null;
}

/** A gateway as the station sees it (host/views.ts makes it from a row). */
export interface GatewayState {
  readonly id: string;
  readonly bed: string | null;
  readonly presence: Presence;
  readonly presenceSince: number | null;
  readonly mode: string | null;
  readonly bdSeq: number | null;
  readonly bootId: string | null;
  readonly firmware: string | null;
  readonly device: { readonly kind: string; readonly model: string | null; readonly serial: string | null; readonly firmware: string | null } | null;
  readonly buffer: { readonly used: number | null; readonly capacity: number | null; readonly dropped: number | null } | null;
  readonly settings: Readonly<Record<string, number | string>> | null;
  readonly lastSeen: number | null;
  readonly birthAt: number | null;
  /** From its provisioning bundle: the device model expected at its bed, and when the bundle was issued (ms); null when not registered from a bundle. */
  readonly expectedModel: string | null;
  readonly provisionedAt: number | null;
}

/** A command as the station sees it: its JSON columns parsed. */
export type CommandState = Omit<CommandRow, 'params' | 'previous'> & { readonly params: unknown; readonly previous: unknown };

/** The host's storage health (storage.ts). */
export interface StorageHealth {
  readonly ok: boolean;
  /** The last error, while failing. */
  readonly error: string | null;
  /** Host ms since when it is failing. */
  readonly since: number | null;
  readonly failures: number;
  /** Control messages waiting to be written, and how many were dropped past the queue's bound. */
  readonly queued: number;
  readonly lost: number;
}

/** The running host service, as the API and the tools see it. */
export interface Host {
  readonly db: Db;
  readonly audit: AuditLog;
  readonly users: Users;
  readonly alarms: Alarms;
  readonly commands: CommandService;
  readonly notices: Notices;
  readonly advisories: Advisories;
  readonly ingest: Ingest;
  readonly counters: HostCounters;
  /** Whether the database takes writes (storage.ts). */
  storage(): StorageHealth;
  readonly broker: EmbeddedBroker | undefined;
  readonly brokerUrl: string;
  readonly httpUrl: string;
  readonly site: string;
  /** Where the site's files and the database are (site.json, site.pem, passwd, vigil.db). */
  readonly dataDir: string;
  trust(): TrustList | undefined;
  /** Replaces the trust list in force with a newer root-signed one, and publishes it (signing/trust-keeper.ts). */
  readonly trustKeeper: TrustKeeper;
  /** The device profiles this host signs for, by model (firmware/profiles and the site's own). */
  profiles(): ReadonlyMap<string, DeviceProfile>;
  gateway(id: string): GatewayRow | undefined;
  gateways(): GatewayRow[];
  limitsFor(id: string): readonly Limit[];
  /** Gives a gateway its bed label: audited and streamed to every station. */
  assignBed(id: string, bed: string, by: string): void;
  /** A bed's own clinical alarm limits; null goes back to the device kind's defaults. */
  setLimits(id: string, limits: readonly Limit[] | null): void;
  subscribe(listener: (m: StreamMessage) => void): () => void;
  /** Deletes what is older than the retention period now (it also runs hourly), and audits it. */
  purge(): { batches: number; events: number };
  /** Resolves when the host's MQTT client is connected and subscribed. */
  ready(): Promise<void>;
  close(): Promise<void>;
}
