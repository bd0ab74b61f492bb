import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { identityOf } from '../../host/broker/acl.js';
import { issueSecret } from '../../host/broker/passwd.js';
import { issueClientCert, makeBundle } from '../../host/provisioning.js';
import { readSite } from '../../host/site.js';
import { knownModels } from '../../firmware/profiles/index.js';
import { required } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { hostRequest, signInToHost } from '../host-client.js';

export const provisionCommand: Command = {
  name: 'provision',
  summary: "issue a gateway's broker secret, and with --bundle its signed provisioning bundle (flashed beside the firmware; the host registers it)",
  usage:
    'vigil provision <gateway id> [--data-dir .vigil]   (the secret alone, shown once; the host keeps only its hash)\n' +
    '       vigil provision <gateway id> --bundle <file> --broker <mqtt://host:port | mqtts://host:port> [--tls] [--profile <device model>] [--wifi-ssid <ssid>] [--data-dir .vigil]\n' +
    '                       (--tls: log in by an RSA key and certificate from the site CA instead of a password; mqtts only)\n' +
    '                       [--register <http://host:port> --user <biomed or admin>]   (Wi-Fi password from VIGIL_WIFI_PASSWORD, the user\'s from VIGIL_PASSWORD)',
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { 'data-dir': { type: 'string' }, bundle: { type: 'string' }, tls: { type: 'boolean', default: false }, broker: { type: 'string' }, profile: { type: 'string' }, 'wifi-ssid': { type: 'string' }, register: { type: 'string' }, user: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const id = positionals[0];
    if (id === undefined || positionals.length !== 1) throw new UsageError('name one gateway id');
    const who = identityOf(id);
    if ('refused' in who) throw new UsageError(`cannot provision "${id}": ${who.refused}`);
    const dir = values['data-dir'] ?? '.vigil';
    const site = readSite(dir);
    if (values.bundle === undefined) {
      for (const o of ['broker', 'profile', 'wifi-ssid', 'register'] as const) if (values[o] !== undefined) throw new UsageError(`--${o} belongs to a bundle: add --bundle <file>`);
      if (values.tls) throw new UsageError('--tls belongs to a bundle: add --bundle <file>');
      const secret = issueSecret(site.passwdFile, id);
      console.error(`${id}: secret issued for site ${site.site} (username ${id}, client id vigil-${site.site}-${id}); write it into the gateway at flashing:`);
      console.log(secret);
      return 0;
    }
    if (who.kind !== 'gateway') throw new UsageError(`a bundle is for a gateway; "${id}" is the host's login`);
    const broker = required(values.broker, '--broker');
    if (values.profile !== undefined && !knownModels().includes(values.profile)) throw new UsageError(`--profile: no device profile "${values.profile}" (known: ${knownModels().join(', ')})`);
    const ssid = values['wifi-ssid'];
    const wifiPassword = process.env.VIGIL_WIFI_PASSWORD ?? '';
    if (ssid === undefined && wifiPassword !== '') throw new UsageError('VIGIL_WIFI_PASSWORD is set but --wifi-ssid is not');
    if (values.register !== undefined && values.user === undefined) throw new UsageError('--register needs --user (a biomed or admin login; password from VIGIL_PASSWORD)');
    if (values.register !== undefined && (process.env.VIGIL_PASSWORD ?? '') === '') throw new UsageError(`set VIGIL_PASSWORD to ${values.user}'s password before registering (nothing has been issued)`);
    if (values.tls && !broker.startsWith('mqtts://')) throw new UsageError('--tls: a client certificate is presented over TLS: give --broker mqtts://host:port');
    const tls = values.tls ? issueClientCert(dir, id, site.site) : undefined;
    const made = makeBundle(dir, { gateway: id, brokerUrl: broker, ...(values.profile === undefined ? {} : { profile: values.profile }), ...(ssid === undefined ? {} : { wifi: { ssid, password: wifiPassword } }), ...(tls === undefined ? {} : { tls }) });
    writeFileSync(values.bundle, made.bundle, { mode: 0o600 });
    if (made.siteKeyMade) console.error(`site ${site.site}: made its provisioning key (${dir}/site.pem; public key in site.json) — firmware images for this site carry its public key`);
    console.error(`${id}: bundle written to ${values.bundle} (${made.bundle.length} bytes, signed by site ${site.site}'s provisioning key; it holds the gateway's new ${tls === undefined ? 'broker secret' : 'RSA key and certificate (site CA: ' + join(dir, 'ca', 'ca.pem') + ')'}: keep it like one)`);
    if (values.register === undefined) {
      console.error(`next: register it at the host (vigil provision … --register <url>, or POST /api/gateways/register), then flash it: vigil flash --bundle ${values.bundle}`);
      return 0;
    }
    const base = values.register.replace(/\/$/, '');
    let token: string;
    try {
      token = await signInToHost(base, values.user!);
    } catch (e) {
      throw new UsageError(`${(e as Error).message} (the bundle is written; register it later)`);
    }
    const r = await hostRequest(base, token, 'POST', '/api/gateways/register', { bundle: Buffer.from(made.bundle).toString('base64') });
    const out = r.json as { gateway?: string; expectedModel?: string | null; error?: string };
    if (r.status !== 201) {
      console.error(`${id}: the host refused the registration (${r.status}): ${out.error ?? ''}`);
      return 1;
    }
    console.error(`${id}: registered at ${base}${out.expectedModel ? ` (expects a ${out.expectedModel})` : ''}; next: vigil flash --bundle ${values.bundle}`);
    return 0;
  },
};
