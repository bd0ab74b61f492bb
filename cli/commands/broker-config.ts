import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mosquittoAcl, mosquittoConf } from '../../host/broker/mosquitto.js';
import { readSite } from '../../host/site.js';
import { wholeNumber } from '../args.js';
import { UsageError, type Command } from '../command.js';

export const brokerConfigCommand: Command = {
  name: 'broker-config',
  summary: 'write Vigil\'s broker rules (identity, deny-by-default ACL) as a Mosquitto config',
  usage: 'vigil broker-config mosquitto --out <dir> [--data-dir .vigil] [--port 1883] [--bind 127.0.0.1] [--user mosquitto] [--tls-port 8883 --tls-key <pem> --tls-cert <pem> --tls-ca <pem>]',
  async run(args) {
    const [kind, ...rest] = args;
    if (kind !== 'mosquitto') throw new UsageError(`only "broker-config mosquitto" is supported, got "${kind ?? ''}"`);
    const { values } = parseArgs({
      args: rest,
      options: { out: { type: 'string' }, 'data-dir': { type: 'string' }, port: { type: 'string' }, bind: { type: 'string' }, user: { type: 'string' }, 'tls-port': { type: 'string' }, 'tls-key': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-ca': { type: 'string' } },
      strict: true,
    });
    if (values.out === undefined) throw new UsageError('--out <dir> is required');
    const site = readSite(values['data-dir'] ?? '.vigil');
    const out = resolve(values.out);
    mkdirSync(out, { recursive: true });
    const aclFile = join(out, 'vigil.acl');
    const tlsParts = [values['tls-port'], values['tls-key'], values['tls-cert'], values['tls-ca']];
    if (tlsParts.some((x) => x !== undefined) && tlsParts.some((x) => x === undefined)) throw new UsageError('TLS needs all of --tls-port, --tls-key, --tls-cert, --tls-ca');
    const conf = mosquittoConf({
      site: site.site,
      port: values.port === undefined ? 1883 : wholeNumber(values.port, '--port'),
      bind: values.bind,
      user: values.user,
      passwdFile: resolve(site.passwdFile),
      aclFile,
      tls: values['tls-port'] === undefined ? undefined : { port: wholeNumber(values['tls-port'], '--tls-port'), key: resolve(values['tls-key']!), cert: resolve(values['tls-cert']!), ca: resolve(values['tls-ca']!) },
    });
    writeFileSync(join(out, 'mosquitto.conf'), conf);
    writeFileSync(aclFile, mosquittoAcl(site.site));
    console.log(`wrote ${join(out, 'mosquitto.conf')} and ${aclFile} (password file: ${resolve(site.passwdFile)}); run: mosquitto -c ${join(out, 'mosquitto.conf')}`);
    return 0;
  },
};
