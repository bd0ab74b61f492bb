/** MQTT topics of docs/protocol.md: vigil/v1/<site>/<gateway>/<channel>. */

const ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const RESERVED_IDS: readonly string[] = ['host', 'trust'];

/** Why an id cannot be a site or gateway id, or undefined when it can. */
export function idProblem(id: string, kind: 'site' | 'gateway'): string | undefined {
  if (!ID.test(id)) return `${kind} id "${id}" must be 1-32 of a-z, 0-9 and "-", starting with a letter or digit`;
  if (kind === 'gateway' && RESERVED_IDS.indexOf(id) >= 0) return `gateway id "${id}" is reserved`;
  return undefined;
}

export type Channel = 'state' | 'vitals' | 'history' | 'event' | 'cmd' | 'cmd/result' | 'ack';

export function topic(site: string, gateway: string, channel: Channel): string {
  return `vigil/v1/${site}/${gateway}/${channel}`;
}

export function hostStateTopic(site: string): string {
  return `vigil/v1/${site}/host/state`;
}

export function trustTopic(site: string): string {
  return `vigil/v1/${site}/trust`;
}
