/**
 * The gateway's connection, as one record and one transition function (STYLE.md: not flags beside
 * an enum). `Mode` is the gateway's own view, and what its birth reports; the host's view of a
 * gateway (online / degraded / offline) is its `presence`, derived from births, deaths and silence.
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
export type Mode = 'booting' | 'connecting' | 'online' | 'degraded' | 'recovering';

/** The modes in which the gateway publishes live and drains its backlog. */
export function isLive(mode: Mode): boolean {
  return mode === 'online' || mode === 'recovering';
}

export interface Session {
  readonly mode: Mode;
  readonly network: boolean;
  /** Connected to the broker. */
  readonly broker: boolean;
  /** The host's retained `host/state`: true online, false offline, undefined not heard since connecting. */
  readonly host: boolean | undefined;
  readonly backlog: boolean;
  /** Reconnect attempts since the last successful connection. */
  readonly attempt: number;
  /** When the next connect is due, when one is waiting. */
  readonly retryAt: number | undefined;
}

export type SessionEvent =
  | { readonly type: 'started' }
  | { readonly type: 'network'; readonly up: boolean }
  | { readonly type: 'connected' }
  | { readonly type: 'lost' }
  | { readonly type: 'host'; readonly online: boolean }
  | { readonly type: 'backlog'; readonly has: boolean }
  /** The reconnect wait is over (the caller checks `retryAt`). */
  | { readonly type: 'retry' };

/** What the adapter must do as a consequence: open a connection, or drop the one it has. */
export type SessionAction = 'connect' | 'disconnect';

export const BOOTING: Session = { mode: 'booting', network: false, broker: false, host: undefined, backlog: false, attempt: 0, retryAt: undefined };

function modeOf(s: Omit<Session, 'mode'>, previous: Mode): Mode {
  if (previous === 'booting') return 'booting';
  if (!s.broker) return previous === 'connecting' ? 'connecting' : 'degraded';
  if (s.host !== true) return 'degraded';
  return s.backlog ? 'recovering' : 'online';
}

/**
 * One step of the session. `now` and `random` (in [0, 1)) are for the reconnect wait. Returns the next
 * session and what the adapter must do.
 */
export function step(s: Session, e: SessionEvent, now: number, random: number): { session: Session; action: SessionAction | undefined } {
  let next: Omit<Session, 'mode'> = s;
  let action: SessionAction | undefined;
  const retryLater = (n: typeof next) => ({ ...n, attempt: n.attempt + 1, retryAt: now + backoffMs(n.attempt, random) });
  switch (e.type) {
    case 'started':
      if (s.mode === 'booting') return { session: { ...s, mode: 'connecting' }, action: undefined };
      break;
    case 'network':
      if (e.up && !s.network) {
        next = { ...s, network: true };
        if (!s.broker && s.retryAt === undefined) {
          if (s.attempt === 0) action = 'connect';
          else next = retryLater(next);
        }
      } else if (!e.up && s.network) {
        next = { ...s, network: false, broker: false, host: undefined };
        if (s.broker) {
          action = 'disconnect';
          next = retryLater(next);
        }
      }
      break;
    case 'connected':
      next = { ...s, broker: true, attempt: 0, retryAt: undefined };
      break;
    case 'lost':
      next = { ...s, broker: false, host: undefined };
      if (s.network) next = retryLater(next);
      break;
    case 'host':
      next = { ...s, host: e.online };
      break;
    case 'backlog':
      next = { ...s, backlog: e.has };
      break;
    case 'retry':
      if (s.retryAt !== undefined && now >= s.retryAt && s.network && !s.broker) {
        next = { ...s, retryAt: undefined };
        action = 'connect';
      }
      break;
  }
  return { session: { ...next, mode: modeOf(next, s.mode) }, action };
}

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 60_000;

/** Delay before reconnect attempt `attempt` (0-based); `random` in [0, 1). */
export function backoffMs(attempt: number, random: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, Math.min(attempt, 16)));
  return Math.round(ceiling * (0.5 + 0.5 * random));
}
