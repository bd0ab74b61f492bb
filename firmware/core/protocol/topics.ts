/**
 * MQTT topics (docs/protocol.md): vigil/v1/<site>/<gateway>/<channel>, the host's state and the trust
 * list under the site. The one definition the gateway, the host, the broker's rules (host/broker) and
 * the Mosquitto configuration writer use.
 */
export const PROTOCOL_ROOT = 'vigil/v1';

const ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** Gateway ids the site's own topics take. */
export const RESERVED_IDS: readonly string[] = ['host', 'trust'];

/** Why an id cannot be a site or gateway id, or undefined when it can. */
export function idProblem(id: string, kind: 'site' | 'gateway'): string | undefined {
  if (!ID.test(id)) return `${kind} id "${id}" must be 1-32 of a-z, 0-9 and "-", starting with a letter or digit`;
  if (kind === 'gateway' && RESERVED_IDS.indexOf(id) >= 0) return `gateway id "${id}" is reserved`;
  return undefined;
}

export type Channel = 'state' | 'vitals' | 'history' | 'event' | 'cmd' | 'cmd/result' | 'ack';

/**
 * The largest payload each channel carries, in bytes. Parsers refuse more, and brokers drop more
 * (host/broker): a payload past its channel's bound is never forwarded.
 */
export const CHANNEL_MAX_BYTES: Readonly<Record<Channel, number>> = { state: 1024, vitals: 4200, history: 4200, event: 4096, cmd: 4096, 'cmd/result': 1024, ack: 1024 };
/** The host's retained state, and the retained trust list (a gateway keeps it in one 4000-byte NVS value). */
export const HOST_STATE_MAX_BYTES = 1024;
export const TRUST_MAX_BYTES = 4000;
/** The largest MQTT packet any Vigil client sends: a payload at its bound, its topic and the headers. */
export const MAX_PACKET_BYTES = 8192;
/** The largest CONNECT: client id, credentials and the will (a death message), with room to spare. */
export const MAX_CONNECT_BYTES = 2048;

/** The payload bound of a topic of the scheme, or undefined for a topic outside it. */
export function maxPayloadBytes(name: string): number | undefined {
  const t = parseTopic(name);
  if (t === undefined) return undefined;
  if (t.kind === 'host-state') return HOST_STATE_MAX_BYTES;
  if (t.kind === 'trust') return TRUST_MAX_BYTES;
  return CHANNEL_MAX_BYTES[t.channel];
}

/** What a gateway publishes (under its own prefix), and what it subscribes to there. */
export const GATEWAY_PUBLISHES: readonly Channel[] = ['state', 'vitals', 'history', 'event', 'cmd/result'];
export const GATEWAY_SUBSCRIBES: readonly Channel[] = ['cmd', 'ack'];

export function siteRoot(site: string): string {
  return `${PROTOCOL_ROOT}/${site}`;
}

export function topic(site: string, gateway: string, channel: Channel): string {
  return `${siteRoot(site)}/${gateway}/${channel}`;
}

export function hostStateTopic(site: string): string {
  return `${siteRoot(site)}/host/state`;
}

export function trustTopic(site: string): string {
  return `${siteRoot(site)}/trust`;
}

/** The host's subscriptions: every gateway's publications on the site. */
export function hostSubscriptions(site: string): string[] {
  return GATEWAY_PUBLISHES.map((ch) => `${siteRoot(site)}/+/${ch}`);
}

/** A gateway's subscriptions: its own inbound channels, the host's state and the trust list. */
export function gatewaySubscriptions(site: string, gateway: string): string[] {
  return [...GATEWAY_SUBSCRIBES.map((ch) => topic(site, gateway, ch)), hostStateTopic(site), trustTopic(site)];
}

export type ParsedTopic =
  | { readonly kind: 'gateway'; readonly site: string; readonly gateway: string; readonly channel: Channel }
  | { readonly kind: 'host-state'; readonly site: string }
  | { readonly kind: 'trust'; readonly site: string };

const CHANNELS: readonly string[] = ['state', 'vitals', 'history', 'event', 'cmd', 'cmd/result', 'ack'];

/** A topic of the scheme, or undefined (another prefix, an invalid id, an unknown channel). */
export function parseTopic(name: string): ParsedTopic | undefined {
  const prefix = `${PROTOCOL_ROOT}/`;
  if (!name.startsWith(prefix)) return undefined;
  const parts = name.slice(prefix.length).split('/');
  const site = parts[0] ?? '';
  if (idProblem(site, 'site') !== undefined) return undefined;
  if (parts.length === 2 && parts[1] === 'trust') return { kind: 'trust', site };
  if (parts.length === 3 && parts[1] === 'host' && parts[2] === 'state') return { kind: 'host-state', site };
  const gateway = parts[1] ?? '';
  const channel = parts.slice(2).join('/');
  if (parts.length < 3 || idProblem(gateway, 'gateway') !== undefined || CHANNELS.indexOf(channel) < 0) return undefined;
  return { kind: 'gateway', site, gateway, channel: channel as Channel };
}
