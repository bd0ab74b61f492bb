import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLog } from '../../host/audit.js';
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
      const users = new Users(db, new AuditLog(db, join(dir, 'audit.head')));
      const u = await users.add(Date.now(), process.env.USER ?? 'cli', { username, role: required(values.role, '--role'), person: values.person, display: values.display, password });
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
