/**
 * Who may publish and subscribe where: deny by default. One set of rules, applied by the embedded
 * aedes broker (embedded.ts) and written out for Mosquitto (mosquitto.ts), so the two agree.
 *
 * A gateway publishes only the gateway → host channels under its own `vigil/v1/<site>/<gateway>/`
 * prefix and subscribes only to its own `cmd` and `ack` plus the site's `host/state` and `trust`.
 * The host (username `host`) may use everything under `vigil/v1/<site>/`. Nobody touches `$SYS` or
 * anything outside the site. Ids that are not valid gateway ids (wildcards, `/`, `$`, control
 * characters, anything but a-z 0-9 -) never get an identity at all.
 */
import { idProblem } from '../../firmware/core/protocol/topics.js';

export const HOST_USER = 'host';

export type Identity = { readonly kind: 'host' } | { readonly kind: 'gateway'; readonly id: string };

/** The gateway → host channels a gateway may publish on its own prefix. */
export const GATEWAY_PUBLISHES: readonly string[] = ['state', 'vitals', 'history', 'event', 'cmd/result'];
/** The host → gateway channels a gateway may subscribe to on its own prefix. */
export const GATEWAY_SUBSCRIBES: readonly string[] = ['cmd', 'ack'];

/** The identity a broker username stands for, or why it stands for none. */
export function identityOf(username: string): Identity | { readonly refused: string } {
  if (username === HOST_USER) return { kind: 'host' };
  // control characters, wildcards, separators and `$` are all outside the id syntax; say which
  if (/[\u0000-\u001f\u007f]/.test(username)) return { refused: 'control characters in the id' };
  for (const c of ['+', '#', '/', '$']) if (username.includes(c)) return { refused: `"${c}" in the id` };
  const problem = idProblem(username, 'gateway');
  return problem === undefined ? { kind: 'gateway', id: username } : { refused: problem };
}

function siteRoot(site: string): string {
  return `vigil/v1/${site}/`;
}

/** Whether `who` may publish on `topic` (a concrete topic: wildcards are never valid here). */
export function mayPublish(who: Identity, site: string, topic: string): boolean {
  if (topic.includes('+') || topic.includes('#') || topic.startsWith('$')) return false;
  if (who.kind === 'host') return topic.startsWith(siteRoot(site)) && topic.length > siteRoot(site).length;
  const prefix = `${siteRoot(site)}${who.id}/`;
  return topic.startsWith(prefix) && GATEWAY_PUBLISHES.includes(topic.slice(prefix.length));
}

/** Whether `who` may subscribe with `filter` (which may hold wildcards). */
export function maySubscribe(who: Identity, site: string, filter: string): boolean {
  if (filter.startsWith('$')) return false; // $SYS and $share stay closed
  if (who.kind === 'host') {
    // the host may subscribe to anything inside its site, wildcards included, but not above it
    if (!filter.startsWith(siteRoot(site)) || filter.length === siteRoot(site).length) return false;
    return wellFormed(filter);
  }
  if (filter.includes('+') || filter.includes('#')) return false;
  if (filter === `${siteRoot(site)}host/state` || filter === `${siteRoot(site)}trust`) return true;
  const prefix = `${siteRoot(site)}${who.id}/`;
  return filter.startsWith(prefix) && GATEWAY_SUBSCRIBES.includes(filter.slice(prefix.length));
}

/** MQTT's filter rules: `#` only last and alone in its level, `+` alone in its level. */
function wellFormed(filter: string): boolean {
  const levels = filter.split('/');
  return levels.every((l, i) => (l.includes('#') ? l === '#' && i === levels.length - 1 : !l.includes('+') || l === '+'));
}
