import { parseArgs } from 'node:util';
import { initSite } from '../../host/site.js';
import { afterVerb, required } from '../args.js';
import { UsageError, type Command } from '../command.js';

export const siteCommand: Command = {
  name: 'site',
  summary: 'make a site in a data directory: root key, clinicians\' signing keys, signed trust list',
  usage: 'vigil site init --site <id> [--data-dir .vigil] --clinician <person>:<role>[,<role>…] …',
  async run(args) {
    const rest = afterVerb(args, 'site', 'init');
    const { values } = parseArgs({ args: rest, options: { site: { type: 'string' }, 'data-dir': { type: 'string' }, clinician: { type: 'string', multiple: true } }, strict: true });
    const clinicians = (values.clinician ?? []).map((spec) => {
      const [person, roles] = spec.split(':');
      if (!person || !roles) throw new UsageError(`--clinician takes <person>:<role>[,<role>…], got "${spec}"`);
      return { person, roles: roles.split(',') };
    });
    const dir = values['data-dir'] ?? '.vigil';
    const s = initSite(dir, required(values.site, '--site'), clinicians);
    console.log(`site ${s.site} in ${dir}/: root key root.pem (move it offline), trust list trust.cose (epoch 1, ${clinicians.length} signer(s)), keyring ${s.keyringDir}/`);
    return 0;
  },
};
