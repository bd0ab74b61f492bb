/** The host's data shapes shared by the service, the API and the stream (docs/api.md shows them as JSON). */
import type { Alarm } from './alarms.js';
import type { CommandRow } from './commands.js';
import type { Presence } from './presence.js';

export interface HostCounters {
  refused: Record<string, number>;
  staleDeaths: number;
  errorEvents: number;
}

export type StreamMessage =
  | { type: 'vitals'; gateway: string; seq: number; historical: boolean; t0: number; clock: string; metrics: Array<{ key: string; mdc: number; unit: string; dt: number; values: Array<number | null> }> }
  | { type: 'alarm'; change: string; alarm: Alarm }
  | { type: 'presence'; gateway: string; presence: Presence; mode: string | null }
  | { type: 'command'; command: CommandRow }
  | { type: 'event'; gateway: string; class: string; code: string; priority: string; detail: unknown }
  | { type: 'error'; gateway: string; channel: string; error: string };

export interface GatewayRow {
  readonly id: string;
  readonly bed: string | null;
  readonly presence: Presence;
  readonly bd_seq: number | null;
  readonly boot_id: Uint8Array | null;
  readonly fw: string | null;
  readonly device_kind: string | null;
  readonly device_model: string | null;
  readonly device_serial: string | null;
  readonly nonce: Uint8Array | null;
  readonly mode: string | null;
  readonly fill_used: number | null;
  readonly fill_capacity: number | null;
  readonly dropped: number | null;
  readonly last_seen: number | null;
  readonly birth_at: number | null;
  readonly limits: string | null;
}
