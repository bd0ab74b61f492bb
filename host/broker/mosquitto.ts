/**
 * The rules of acl.ts written as a Mosquitto configuration and ACL file (`vigil broker-config
 * mosquitto`), for sites that run their own broker. The password file is the host's own (passwd.ts:
 * same format), so provisioning a gateway once serves both brokers.
 *
 * One difference stays: Mosquitto cannot tie an MQTT client id to a username, so on Mosquitto a
 * provisioned gateway could connect with another gateway's client id and end that session (it still
 * cannot publish or read on the other's topics). The embedded broker refuses it.
 */
import { GATEWAY_PUBLISHES, GATEWAY_SUBSCRIBES, hostStateTopic, MAX_PACKET_BYTES, siteRoot, trustTopic } from '../../firmware/core/protocol/index.js';
import { HOST_USER } from './acl.js';

export interface MosquittoOptions {
  readonly site: string;
  readonly port: number;
  readonly bind?: string;
  readonly passwdFile: string;
  readonly aclFile: string;
  /** An mqtts listener whose client certificates' CN is the gateway id. */
  readonly tls?: { readonly port: number; readonly key: string; readonly cert: string; readonly ca: string };
  /** The account Mosquitto drops to when started as root (its default is "mosquitto"); it must be able to read the password file. */
  readonly user?: string;
  /** Where Mosquitto keeps its own state; nothing of Vigil's durability rests on it. */
  readonly persistenceDir?: string;
}

export function mosquittoAcl(site: string): string {
  const root = siteRoot(site);
  return [
    '# Vigil: deny by default. Written by `vigil broker-config mosquitto`; edit the host, not this file.',
    '# The host may use everything under its site.',
    `user ${HOST_USER}`,
    `topic readwrite ${root}/#`,
    '',
    '# Every gateway (username = gateway id) publishes only its own gateway-to-host channels,',
    '# reads only its own cmd and ack, and the site-wide host/state and trust list.',
    ...GATEWAY_PUBLISHES.map((c) => `pattern write ${root}/%u/${c}`),
    ...GATEWAY_SUBSCRIBES.map((c) => `pattern read ${root}/%u/${c}`),
    `pattern read ${hostStateTopic(site)}`,
    `pattern read ${trustTopic(site)}`,
    '',
  ].join('\n');
}

export function mosquittoConf(o: MosquittoOptions): string {
  const lines = [
    '# Vigil site broker. Written by `vigil broker-config mosquitto`.',
    'per_listener_settings false',
    ...(o.user === undefined ? [] : [`user ${o.user}`]),
    'allow_anonymous false',
    `password_file ${o.passwdFile}`,
    `acl_file ${o.aclFile}`,
    o.persistenceDir === undefined ? 'persistence false' : `persistence true\npersistence_location ${o.persistenceDir}/`,
    '# a gateway replays from its own flash until the host acks, so a large queue is not needed for',
    '# durability; it smooths a host restart',
    'max_queued_messages 10000',
    'max_inflight_messages 64',
    '# no Vigil packet is larger (firmware/core/protocol/topics.ts); a larger one ends the connection',
    `max_packet_size ${MAX_PACKET_BYTES}`,
    '',
    `listener ${o.port} ${o.bind ?? '127.0.0.1'}`,
    'protocol mqtt',
  ];
  if (o.tls !== undefined) {
    lines.push(
      '',
      `listener ${o.tls.port} ${o.bind ?? '0.0.0.0'}`,
      'protocol mqtt',
      `cafile ${o.tls.ca}`,
      `certfile ${o.tls.cert}`,
      `keyfile ${o.tls.key}`,
      'require_certificate true',
      '# the certificate CN is the gateway id, and so the username the ACL patterns use',
      'use_identity_as_username true',
      'tls_version tlsv1.2',
    );
  }
  return lines.join('\n') + '\n';
}
