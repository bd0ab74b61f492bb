import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MIN_PASSPHRASE } from '../../host/signing/keyring.js';
import { initSite, readSite } from '../../host/site.js';
import { rotateSiteKey } from '../../host/provisioning.js';
import { toHex } from '../../firmware/core/hex.js';
import { afterVerb, required } from '../args.js';
import { UsageError, type Command } from '../command.js';

export const siteCommand: Command = {
  name: 'site',
  summary: 'make a site in a data directory (root key, provisioning key, clinicians\' signing keys, signed trust list); rotate its provisioning key',
  usage: 'vigil site init --site <id> [--data-dir .vigil] --clinician <person>:<role>[,<role>…] … < passphrases\n' +
    '  (stdin: each clinician\'s own signing passphrase, one line each, in --clinician order; their keys are kept encrypted under them)\n' +
    'vigil site rotate-key [--data-dir .vigil]\n' +
    '  (a new provisioning key, certified by the root key at the next epoch: bundles made from now on use it; gateways take them\n' +
    '   without a new image, and refuse bundles of the retired key once they have booted on the new one)',
  async run(args) {
    if (args[0] === 'rotate-key') {
      const { values } = parseArgs({ args: args.slice(1), options: { 'data-dir': { type: 'string' } }, strict: true });
      const dir = values['data-dir'] ?? '.vigil';
      readSite(dir);
      const r = rotateSiteKey(dir);
      console.log(`site provisioning key rotated: epoch ${r.epoch}, public key ${toHex(r.publicKey)} (site.pem, site.cert); re-provision each gateway (vigil provision … --bundle, then vigil flash --bundle-only) to retire the old key`);
      return 0;
    }
    const rest = afterVerb(args, 'site', 'init');
    const { values } = parseArgs({ args: rest, options: { site: { type: 'string' }, 'data-dir': { type: 'string' }, clinician: { type: 'string', multiple: true } }, strict: true });
    const specs = values.clinician ?? [];
    const passphrases = specs.length === 0 ? [] : readFileSync(0, 'utf8').split('\n');
    const clinicians = specs.map((spec, i) => {
      const [person, roles] = spec.split(':');
      if (!person || !roles) throw new UsageError(`--clinician takes <person>:<role>[,<role>…], got "${spec}"`);
      const passphrase = passphrases[i] ?? '';
      if (passphrase.length < MIN_PASSPHRASE) throw new UsageError(`give ${person}'s signing passphrase on line ${i + 1} of stdin (at least ${MIN_PASSPHRASE} characters; one line per --clinician, in order)`);
      return { person, roles: roles.split(','), passphrase };
    });
    const dir = values['data-dir'] ?? '.vigil';
    const s = initSite(dir, required(values.site, '--site'), clinicians);
    console.log(`site ${s.site} in ${dir}/: root key root.pem (move it offline), trust list trust.cose (epoch 1, ${clinicians.length} signer(s)), keyring ${s.keyringDir}/`);
    return 0;
  },
};
