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
import { GATEWAY_PUBLISHES, GATEWAY_SUBSCRIBES, hostStateTopic, idProblem, siteRoot as protocolRoot, trustTopic } from '../../firmware/core/protocol/index.js';

export { GATEWAY_PUBLISHES, GATEWAY_SUBSCRIBES } from '../../firmware/core/protocol/index.js';

export const HOST_USER = 'host';

export type Identity = { readonly kind: 'host' } | { readonly kind: 'gateway'; readonly id: string };

/** The identity a broker username stands for, or why it stands for none. */
export function identityOf(username: string): Identity | { readonly refused: string } {
  if (username === HOST_USER) return { kind: 'host' };
  // control characters, wildcards, separators and `$` are all outside the id syntax; say which
  if (/[\u0000-\u001f\u007f]/.test(username)) return { refused: 'control characters in the id' };
  for (const c of ['+', '#', '/', '$']) if (username.includes(c)) return { refused: `"${c}" in the id` };
  const problem = idProblem(username, 'gateway');
  return problem === undefined ? { kind: 'gateway', id: username } : { refused: problem };
}

/** The site's topic prefix, with its trailing slash. */
function siteRoot(site: string): string {
  return `${protocolRoot(site)}/`;
}

/** Whether `who` may publish on `topic` (a concrete topic: wildcards are never valid here). */
export function mayPublish(who: Identity, site: string, topic: string): boolean {
  if (topic.includes('+') || topic.includes('#') || topic.startsWith('$')) return false;
  if (who.kind === 'host') return topic.startsWith(siteRoot(site)) && topic.length > siteRoot(site).length;
  const prefix = `${siteRoot(site)}${who.id}/`;
  return topic.startsWith(prefix) && (GATEWAY_PUBLISHES as readonly string[]).includes(topic.slice(prefix.length));
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
  if (filter === hostStateTopic(site) || filter === trustTopic(site)) return true;
  const prefix = `${siteRoot(site)}${who.id}/`;
  return filter.startsWith(prefix) && (GATEWAY_SUBSCRIBES as readonly string[]).includes(filter.slice(prefix.length));
}

/** MQTT's filter rules: `#` only last and alone in its level, `+` alone in its level. */
function wellFormed(filter: string): boolean {
  const levels = filter.split('/');
  return levels.every((l, i) => (l.includes('#') ? l === '#' && i === levels.length - 1 : !l.includes('+') || l === '+'));
}
