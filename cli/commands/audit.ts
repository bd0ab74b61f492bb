import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { defaultAuditDir, readAnchor, verifyAudit } from '../../host/audit.js';
import { afterVerb } from '../args.js';
import { UsageError, type Command } from '../command.js';

export const auditCommand: Command = {
  name: 'audit',
  summary: 'verify the audit log against its chain and its signed checkpoints: any edit, deletion, reordering or cut is reported',
  usage: 'vigil audit verify [--data-dir .vigil] [--audit-dir <data dir>-audit]   (exit 0: intact, 1: broken)',
  async run(args) {
    const rest = afterVerb(args, 'audit', 'verify');
    const { values } = parseArgs({ args: rest, options: { 'data-dir': { type: 'string' }, 'audit-dir': { type: 'string' } }, strict: true });
    const dir = values['data-dir'] ?? '.vigil';
    const file = join(dir, 'vigil.db');
    if (!existsSync(file)) throw new UsageError(`no database at ${file}`);
    let anchor: ReturnType<typeof readAnchor>;
    try {
      anchor = readAnchor(values['audit-dir'] ?? defaultAuditDir(dir));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const db = new Database(file, { readonly: true });
    try {
      const r = verifyAudit(db, { headFile: join(dir, 'audit.head'), ...anchor });
      for (const p of r.problems) console.log(`entry ${p.seq}: ${p.problem}`);
      console.log(r.problems.length === 0 ? `audit log intact: ${r.entries} entries, ${r.checkpoints} signed checkpoints` : `audit log BROKEN: ${r.problems.length} problem(s) in ${r.entries} entries`);
      return r.problems.length === 0 ? 0 : 1;
    } finally {
      db.close();
    }
  },
};
