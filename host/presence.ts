/**
 * A gateway's presence, the host's view of it (docs/protocol.md): a birth (`state` with online: true)
 * makes a gateway online, or degraded when its own mode says so (host unreachable, backlog draining) or
 * it has no identified device; a death whose bdSeq matches the current birth makes it offline (a stale
 * death, from a connection already replaced, is ignored); a gateway whose heartbeat (its birth, every
 * 30 s) stops is offline too. The gateway's own view is its `mode`, carried in the birth.
 */
import type { BirthMessage } from '../firmware/core/protocol/index.js';

export type Presence = 'online' | 'degraded' | 'offline';

export function presenceOf(b: BirthMessage): Presence {
  return b.mode === 'online' && b.device !== null ? 'online' : 'degraded';
}
