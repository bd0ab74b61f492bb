/** How values read at the station: vitals per device kind, units in plain text, times and states in words. */
import type { Alarm, Gateway, Priority } from './types.js';

export interface MetricShow {
  readonly key: string;
  readonly label: string;
  readonly digits: number;
}

/** The key vitals of each device kind, most important first. */
export const KEY_VITALS: Readonly<Record<string, readonly MetricShow[]>> = {
  monitor: [
    { key: 'hr', label: 'HR', digits: 0 },
    { key: 'spo2', label: 'SpO₂', digits: 0 },
    { key: 'rr', label: 'RR', digits: 0 },
    { key: 'nibpSys', label: 'NIBP sys', digits: 0 },
    { key: 'temp', label: 'Temp', digits: 1 },
  ],
  pump: [
    { key: 'pumpRate', label: 'Rate', digits: 1 },
    { key: 'vtbiRemain', label: 'VTBI left', digits: 0 },
  ],
  ventilator: [
    { key: 'ppeak', label: 'Ppeak', digits: 0 },
    { key: 'vte', label: 'VTe', digits: 0 },
    { key: 'ventRate', label: 'Rate', digits: 0 },
    { key: 'fio2', label: 'FiO₂', digits: 0 },
    { key: 'peep', label: 'PEEP', digits: 0 },
    { key: 'mv', label: 'MV', digits: 1 },
  ],
};

const METRIC_LABELS: Readonly<Record<string, string>> = Object.fromEntries(Object.values(KEY_VITALS).flat().map((m) => [m.key, m.label]));
export const metricLabel = (key: string): string => METRIC_LABELS[key] ?? ({ nibpDia: 'NIBP dia', nibpMean: 'NIBP mean', etco2: 'EtCO₂' } as Record<string, string>)[key] ?? key;

/** UCUM as a nurse reads it. */
export function unitText(ucum: string): string {
  return ({ '/min': '/min', '%': '%', 'mm[Hg]': 'mmHg', Cel: '°C', 'mL/h': 'mL/h', mL: 'mL', 'cm[H2O]': 'cmH₂O', 'L/min': 'L/min' } as Record<string, string>)[ucum] ?? ucum;
}

export function fmt(v: number | string | null | undefined, digits = 0): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  return v.toFixed(digits);
}

export function clockTime(ms: number | null | undefined, seconds = false): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}) });
}

export function dateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  return `${d.toLocaleDateString('en-GB', { day: '2-digit', month: 'short', year: 'numeric' })} ${clockTime(ms, true)}`;
}

/** "12 s", "4 min", "2 h 5 min". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const collator = new Intl.Collator(undefined, { numeric: true });
/** Beds in the order a ward numbers them: "Bed 2" before "Bed 10". */
export const byBed = (a: Gateway, b: Gateway): number => collator.compare(a.bed ?? a.id, b.bed ?? b.id);

export const bedName = (g: Gateway | undefined, id: string): string => g?.bed ?? id;

export const KIND_NAMES: Readonly<Record<string, string>> = { monitor: 'Patient monitor', pump: 'Infusion pump', ventilator: 'Ventilator' };

/** Alarm priorities told apart by shape and text as well as colour (IEC 60601-1-8 style). */
export const PRIORITY_MARK: Readonly<Record<Priority, { readonly shape: string; readonly text: string }>> = {
  high: { shape: '▲', text: 'HIGH' },
  medium: { shape: '◆', text: 'MEDIUM' },
  low: { shape: '●', text: 'LOW' },
  info: { shape: '■', text: 'INFO' },
};
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { high: 0, medium: 1, low: 2, info: 3 };

export function sortAlarms(alarms: Iterable<Alarm>): Alarm[] {
  return [...alarms].sort((a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || b.raised - a.raised);
}

/** A gateway's state in words: what the tile and the fleet view show. */
export function gatewayState(g: Gateway, backfilling: boolean, now: number): { readonly key: 'online' | 'degraded' | 'offline' | 'backfill'; readonly text: string } {
  if (g.presence === 'offline') {
    const since = g.presenceSince ?? g.lastSeen;
    return { key: 'offline', text: since === null ? 'Offline · buffering at the bedside' : `Offline · buffering ${duration(now - since)}` };
  }
  if (backfilling) return { key: 'backfill', text: 'Back-filling' };
  if (g.presence === 'degraded') {
    if (g.device === null) return { key: 'degraded', text: 'Degraded · no device' };
    const since = g.presenceSince;
    return { key: 'degraded', text: since === null ? 'Degraded · buffering' : `Degraded · buffering ${duration(now - since)}` };
  }
  return { key: 'online', text: 'Online' };
}

/** Why a gateway refused a command, in plain words (firmware/core/command/reasons.ts). */
export const REASON_TEXT: Readonly<Record<string, string>> = {
  malformed: 'the command was damaged or not built correctly',
  'unsupported-algorithm': 'the command was signed with a method the gateway does not accept',
  'alg-not-protected': 'the signature method was not protected by the signature',
  'kid-not-protected': 'the signing key was not protected by the signature',
  'unknown-critical-header': 'the command asked for something the gateway does not understand',
  'duplicate-header-label': 'the command was built incorrectly (a repeated header)',
  'too-many-signatures': 'the command carried too many signatures',
  'no-trust-list': 'the gateway has not received the list of trusted signers yet',
  'unknown-signer': 'the signer is not on the list of trusted clinicians',
  'revoked-key': "the signer's key has been revoked",
  'bad-signature': 'the signature is not valid: the command may have been tampered with',
  'cosigner-not-distinct': 'the second signature must come from a different person',
  'bad-claims': 'the command content was not valid',
  'wrong-gateway': 'the command was meant for another bed',
  'wrong-device': 'the device at this bed is not the one the command was meant for',
  'wrong-epoch': 'the command was signed under an old trust list',
  'clinician-mismatch': 'the clinician named is not the one who signed',
  replay: 'the command was already used (a replay)',
  'stale-nonce': 'another change reached the gateway first: try again',
  expired: 'the command arrived too late and expired',
  'not-yet-valid': "the command's time is in the future (clock problem)",
  'role-not-allowed': "the signer's role may not change this setting",
  'cosign-not-allowed': "the approver's role may not approve this override",
  'unknown-setting': 'the device has no such setting',
  'unit-mismatch': 'the unit does not match the device',
  'invalid-value': 'the value is not valid for this setting',
  'hard-limit': "the value is outside the device's hard limits",
  'soft-limit-needs-cosign': 'the value is past a soft limit and needs a second approver',
  'current-unknown': "the device's present value is unknown, so the change cannot be checked",
  'step-too-large': 'the change is too large for one step',
  'rate-limited': 'this setting has been changed too often in the last hour',
};

export function reasonText(reason: string | null): string {
  if (reason === null) return '';
  const key = reason.split(':')[0]!.trim();
  return REASON_TEXT[key] ?? reason;
}

export const STATUS_TEXT: Readonly<Record<string, string>> = {
  'awaiting-cosign': 'Waiting for a second approver',
  pending: 'Sent, waiting for the gateway',
  accepted: 'Accepted by the gateway, waiting for the device',
  rejected: 'Refused',
  applied: 'Applied: the device confirms the new value',
  failed: 'Failed at the device',
  'timed-out': 'No answer in time',
  withdrawn: 'Withdrawn',
};

/** The ward's page sizes: a page of tiles is what one screen (or two) shows; the first is the default. */
export const PAGE_SIZES = [60, 24, 120] as const;

export interface WardPageSlice {
  /** The page shown (clamped to the pages there are). */
  readonly page: number;
  readonly pages: number;
  /** The ids on the page shown. */
  readonly ids: readonly string[];
  /** Per page: its first and last bed (as the beds are labelled) and its most urgent alarm, if any. */
  readonly marks: ReadonlyArray<{ readonly first: string; readonly last: string; readonly priority: Priority | undefined }>;
}

/**
 * Splits the ward's beds (already in bed order) into pages of `per`: a ward of a thousand beds shows
 * one page of tiles at a time, and every page's button carries its most urgent alarm so no alarm is
 * out of sight.
 */
export function wardPages(ids: readonly string[], per: number, page: number, label: (id: string) => string, alarm: (id: string) => Priority | undefined): WardPageSlice {
  const size = Math.max(1, Math.floor(per));
  const pages = Math.max(1, Math.ceil(ids.length / size));
  const shown = Math.min(Math.max(0, Math.floor(page)), pages - 1);
  const marks = [];
  for (let p = 0; p < pages; p++) {
    const slice = ids.slice(p * size, (p + 1) * size);
    let priority: Priority | undefined;
    for (const id of slice) {
      const a = alarm(id);
      if (a !== undefined && (priority === undefined || PRIORITY_RANK[a] < PRIORITY_RANK[priority])) priority = a;
    }
    marks.push({ first: slice.length > 0 ? label(slice[0]!) : '', last: slice.length > 0 ? label(slice[slice.length - 1]!) : '', priority });
  }
  return { page: shown, pages, ids: ids.slice(shown * size, (shown + 1) * size), marks };
}
