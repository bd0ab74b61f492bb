import { parseArgs } from 'node:util';
import { identityOf } from '../../host/broker/acl.js';
import { issueSecret } from '../../host/broker/passwd.js';
import { readSite } from '../../host/site.js';
import { UsageError, type Command } from '../command.js';

export const provisionCommand: Command = {
  name: 'provision',
  summary: 'issue a gateway\'s broker secret (shown once; the host keeps only its hash)',
  usage: 'vigil provision <gateway id | host> [--data-dir .vigil]',
  async run(args) {
    const { values, positionals } = parseArgs({ args: [...args], options: { 'data-dir': { type: 'string' } }, allowPositionals: true, strict: true });
    const id = positionals[0];
    if (id === undefined || positionals.length !== 1) throw new UsageError('name one gateway id');
    const who = identityOf(id);
    if ('refused' in who) throw new UsageError(`cannot provision "${id}": ${who.refused}`);
    const site = readSite(values['data-dir'] ?? '.vigil');
    const secret = issueSecret(site.passwdFile, id);
    console.error(`${id}: secret issued for site ${site.site} (username ${id}, client id vigil-${site.site}-${id}); write it into the gateway at flashing:`);
    console.log(secret);
    return 0;
  },
};
