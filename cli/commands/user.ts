import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLog, defaultAuditDir, openAnchor } from '../../host/audit.js';
import { openDb } from '../../host/store/db.js';
import { ROLES, Users } from '../../host/users.js';
import { afterVerb, required } from '../args.js';
import { UsageError, type Command } from '../command.js';

export const userCommand: Command = {
  name: 'user',
  summary: 'add a user of the nursing station (role, signing identity, password from stdin)',
  usage: `vigil user add <username> --role <${ROLES.join('|')}> [--person <trust-list person>] [--display <name>] [--data-dir .vigil]  (password on stdin)`,
  async run(args) {
    const rest = afterVerb(args, 'user', 'add');
    const { values, positionals } = parseArgs({ args: rest, options: { role: { type: 'string' }, person: { type: 'string' }, display: { type: 'string' }, 'data-dir': { type: 'string' } }, allowPositionals: true, strict: true });
    const username = positionals[0];
    if (username === undefined) throw new UsageError('name the user');
    const password = readFileSync(0, 'utf8').split('\n')[0] ?? '';
    const dir = values['data-dir'] ?? '.vigil';
    const db = openDb(join(dir, 'vigil.db'));
    try {
      const auditDir = defaultAuditDir(dir);
      const audit = new AuditLog(db, join(dir, 'audit.head'), existsSync(join(auditDir, 'audit-key.pem')) ? openAnchor(auditDir) : undefined);
      const users = new Users(db, audit);
      const u = await users.add(Date.now(), process.env.USER ?? 'cli', { username, role: required(values.role, '--role'), person: values.person, display: values.display, password });
      audit.checkpoint(Date.now());
      console.log(`added ${u.username} (${u.role}${u.person ? `, signs as ${u.person}` : ''})`);
    } catch (e) {
      if ((e as Error).name === 'UserError') throw new UsageError((e as Error).message);
      throw e;
    } finally {
      db.close();
    }
    return 0;
  },
};
