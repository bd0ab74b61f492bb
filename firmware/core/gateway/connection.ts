/**
 * The gateway's connection state: one enum and one transition function (STYLE.md: not four booleans).
 *
 *   booting ──started──▶ connecting ──connected, host online, no backlog──▶ online
 *                            │                 └─connected, host online, backlog──▶ recovering ──drained──▶ online
 *                            └─connected, host offline or unknown──▶ degraded
 *   online / recovering ──broker lost, network down, host offline──▶ degraded
 *   degraded ──connected and host online──▶ recovering or online
 *
 * Reconnect policy, in one place: after a failed or lost connection, wait
 * min(60 s, 1 s × 2^attempt) × (0.5 + 0.5 × random) ("equal jitter", so a ward of gateways that lost the
 * broker together does not come back in lockstep); the attempt count resets once connected.
 */
export type ConnState = 'booting' | 'connecting' | 'online' | 'degraded' | 'recovering';

export interface Conditions {
  readonly broker: boolean;
  /** The host's retained `host/state`: true online, false offline, undefined not heard yet. */
  readonly host: boolean | undefined;
  readonly backlog: boolean;
}

export type ConnEvent = { readonly type: 'started' } | { readonly type: 'changed'; readonly conditions: Conditions };

export function transition(state: ConnState, event: ConnEvent): ConnState {
  if (event.type === 'started') return state === 'booting' ? 'connecting' : state;
  const c = event.conditions;
  if (state === 'booting') return 'booting';
  if (!c.broker) return state === 'connecting' ? 'connecting' : 'degraded';
  if (c.host !== true) return 'degraded';
  if (c.backlog) return 'recovering';
  return 'online';
}

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 60_000;

/** Delay before reconnect attempt `attempt` (0-based); `random` in [0, 1). */
export function backoffMs(attempt: number, random: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, Math.min(attempt, 16)));
  return Math.round(ceiling * (0.5 + 0.5 * random));
}
