/** The host's JSON as the station reads it (docs/api.md). */
export type Presence = 'online' | 'degraded' | 'offline';
export type Priority = 'high' | 'medium' | 'low' | 'info';

export interface Gateway {
  readonly id: string;
  readonly bed: string | null;
  readonly presence: Presence;
  /** Host ms when it took this presence (null: not known). */
  readonly presenceSince: number | null;
  readonly mode: string | null;
  readonly firmware: string | null;
  readonly device: { readonly kind: string; readonly model: string | null; readonly serial: string | null } | null;
  readonly buffer: { readonly used: number | null; readonly capacity: number | null; readonly dropped: number | null } | null;
  readonly settings: Readonly<Record<string, number | string>> | null;
  readonly lastSeen: number | null;
  readonly birthAt: number | null;
}

export interface LatestValue {
  readonly v: number;
  readonly t: number;
  readonly unit: string;
  readonly historical: boolean;
}

export interface Alarm {
  readonly id: number;
  readonly gateway: string;
  readonly class: 'clinical' | 'technical' | 'security';
  readonly code: string;
  readonly priority: Priority;
  readonly message: string;
  readonly detail: unknown;
  readonly raised: number;
  readonly cleared: number | null;
  readonly acked_by: string | null;
  readonly acked_at: number | null;
  readonly silenced_by: string | null;
  readonly silenced_until: number | null;
  readonly escalations: number;
  readonly escalated_at: number | null;
}

export interface Command {
  readonly id: number;
  readonly gateway: string;
  readonly counter: number | null;
  readonly order_id: string;
  readonly params: Readonly<Record<string, { readonly value: number | string; readonly unit?: string }>>;
  readonly previous: Readonly<Record<string, number | string | null>> | null;
  readonly requested_by: string;
  readonly cosigned_by: string | null;
  readonly status: string;
  readonly reason: string | null;
  readonly created: number;
  readonly updated: number;
}

export interface Notice {
  readonly id: number;
  readonly kind: 'drill' | 'outage' | 'maintenance';
  readonly message: string;
  readonly started: number;
  readonly started_by: string;
  readonly ended: number | null;
}

export interface NumericSetting {
  readonly type: 'number';
  readonly unit: string;
  readonly hard: readonly [number, number];
  readonly soft: readonly [number, number];
  readonly maxStep: number;
  readonly maxChangesPerHour: number;
}
export interface EnumSetting {
  readonly type: 'enum';
  readonly values: readonly string[];
  readonly maxChangesPerHour: number;
}
export interface Profile {
  readonly model: string;
  readonly kind: string;
  readonly settings: Readonly<Record<string, NumericSetting | EnumSetting>>;
}

export interface User {
  readonly username: string;
  readonly display: string;
  readonly role: string;
  readonly person: string | null;
}

export interface VitalsMessage {
  readonly type: 'vitals';
  readonly gateway: string;
  readonly bootId: string;
  readonly seq: number;
  readonly historical: boolean;
  readonly t0: number;
  readonly clock: string;
  readonly columns: ReadonlyArray<{ readonly key: string; readonly unit: string; readonly dt: number; readonly values: ReadonlyArray<number | null> }>;
}

export interface WardSnapshot {
  readonly site: string;
  readonly now: number;
  readonly gateways: Gateway[];
  readonly latest: Record<string, Record<string, LatestValue>>;
  readonly alarms: Alarm[];
  readonly notices: Notice[];
}

export type StreamMessage =
  | ({ readonly type: 'hello'; readonly user: string; readonly role: string } & WardSnapshot)
  | VitalsMessage
  | { readonly type: 'presence'; readonly gateway: string; readonly presence: Presence; readonly mode: string | null; readonly state: Gateway }
  | { readonly type: 'alarm'; readonly change: string; readonly alarm: Alarm }
  | { readonly type: 'command'; readonly command: Command }
  | { readonly type: 'notice'; readonly notice: Notice }
  | { readonly type: 'event'; readonly gateway: string; readonly class: string; readonly code: string; readonly priority: string; readonly detail: unknown }
  | { readonly type: 'storage'; readonly ok: boolean; readonly error: string | null }
  | { readonly type: 'error'; readonly gateway?: string; readonly error: string };
