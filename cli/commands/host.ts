import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BrokerPortTaken } from '../../host/broker/embedded.js';
import { startHost, type StreamMessage } from '../../host/service.js';
import { readSite } from '../../host/site.js';
import { wholeNumber } from '../args.js';
import { UsageError, type Command } from '../command.js';

export const hostCommand: Command = {
  name: 'host',
  summary: 'run the host service: broker (embedded or external), ingest, alarms, commands, audit, API',
  usage:
    'vigil host [--data-dir .vigil] [--broker-port 1883 | --broker mqtt[s]://host:port --broker-secret-file <file> [--broker-ca <pem>]]\n' +
    '           [--http-port 8080] [--retention-days 30] [--tls-port 8883 --tls-key <pem> --tls-cert <pem> --tls-ca <pem>]\n' +
    '           [--audit-dir <data dir>-audit]   (the audit key and checkpoints: keep them off the data directory\'s storage)',
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        'data-dir': { type: 'string' },
        broker: { type: 'string' },
        'broker-port': { type: 'string' },
        'broker-secret-file': { type: 'string' },
        'broker-ca': { type: 'string' },
        'http-port': { type: 'string' },
        'retention-days': { type: 'string' },
        'tls-port': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-ca': { type: 'string' },
        'audit-dir': { type: 'string' },
      },
      strict: true,
    });
    const dir = values['data-dir'] ?? '.vigil';
    const site = readSite(dir);
    let broker: Parameters<typeof startHost>[0]['broker'];
    if (values.broker !== undefined) {
      if (!/^mqtts?:\/\//.test(values.broker)) throw new UsageError(`--broker takes mqtt://host:port or mqtts://host:port, got "${values.broker}"`);
      if (values['broker-secret-file'] === undefined) throw new UsageError('an external broker needs --broker-secret-file (the secret of user "host" there; see vigil provision host)');
      broker = { url: values.broker, secret: readFileSync(values['broker-secret-file'], 'utf8').trim(), ca: values['broker-ca'] };
    } else {
      const tls = values['tls-port'] === undefined ? undefined : { port: wholeNumber(values['tls-port'], '--tls-port'), key: req(values['tls-key'], '--tls-key'), cert: req(values['tls-cert'], '--tls-cert'), ca: req(values['tls-ca'], '--tls-ca') };
      broker = { embedded: { port: values['broker-port'] === undefined ? 1883 : wholeNumber(values['broker-port'], '--broker-port'), tls } };
    }
    let host;
    try {
      host = await startHost({
        site: site.site,
        dataDir: dir,
        broker,
        http: { port: values['http-port'] === undefined ? 8080 : wholeNumber(values['http-port'], '--http-port') },
        rootKey: site.rootPublicKey,
        trustFile: site.trustFile,
        keyringDir: join(dir, 'keyring'),
        auditDir: values['audit-dir'],
        retentionDays: values['retention-days'] === undefined ? undefined : wholeNumber(values['retention-days'], '--retention-days'),
      });
    } catch (e) {
      if (e instanceof BrokerPortTaken) throw new UsageError(e.message);
      throw e;
    }
    console.log(`vigil host: site ${site.site}, broker ${host.brokerUrl}, API ${host.httpUrl}, data in ${dir}/`);
    host.subscribe(logLine());
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await host.close();
    return 0;
  },
};

/** What a biomed watching the host's console wants to see: presence, alarms, commands, refused payloads (at most one line per gateway and channel every 10 s). */
function logLine(): (m: StreamMessage) => void {
  const lastPresence = new Map<string, string>();
  const lastRefusal = new Map<string, number>();
  const at = () => new Date().toISOString();
  return (m) => {
    switch (m.type) {
      case 'presence':
        if (lastPresence.get(m.gateway) !== m.presence) console.log(`${at()} ${m.gateway} ${m.presence}${m.mode ? ` (${m.mode})` : ''}`);
        lastPresence.set(m.gateway, m.presence);
        return;
      case 'alarm':
        if (m.change === 'raised' || m.change === 'escalated' || m.change === 'cleared') console.log(`${at()} alarm ${m.alarm.id} ${m.change}: ${m.alarm.priority} ${m.alarm.class} ${m.alarm.code}: ${m.alarm.message}`);
        return;
      case 'command':
        console.log(`${at()} command ${m.command.id} to ${m.command.gateway}: ${m.command.status}${m.command.reason ? ` (${m.command.reason})` : ''}`);
        return;
      case 'error': {
        const key = `${m.gateway}/${m.channel}`;
        if ((lastRefusal.get(key) ?? 0) + 10_000 > Date.now()) return;
        lastRefusal.set(key, Date.now());
        console.log(`${at()} refused a ${m.channel} payload from ${m.gateway}: ${m.error}`);
        return;
      }
      default:
        return;
    }
  };
}

function req(v: string | undefined, name: string): string {
  if (v === undefined) throw new UsageError(`${name} is required with --tls-port`);
  return v;
}
