import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readInventory, type InventoryEntry } from '../../host/advisories/index.js';
import { openDb } from '../../host/store/db.js';
import { PROFILES } from '../../firmware/profiles/index.js';
import { UsageError, type Command } from '../command.js';

const COLUMNS: ReadonlyArray<keyof InventoryEntry> = ['gateway', 'bed', 'presence', 'gatewayFirmware', 'kind', 'vendor', 'product', 'model', 'serial', 'deviceFirmware', 'lastSeen'];

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled; a leading = + - @ is prefixed with ' (no formula in a spreadsheet). */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** `vigil fleet list`: every gateway and its attached device, from the host's database (as their state messages reported them). */
export const fleetCommand: Command = {
  name: 'fleet',
  summary: 'the fleet inventory: every gateway and its device (kind, vendor, product, model, serial, device firmware), as a table, JSON or CSV',
  usage: 'vigil fleet list [--data-dir .vigil] [--json | --csv]',
  async run(args) {
    const [verb, ...rest] = args;
    if (verb !== 'list') throw new UsageError(`expected "fleet list", got "fleet ${verb ?? ''}"`);
    const { values } = parseArgs({ args: rest, options: { 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false }, csv: { type: 'boolean', default: false } }, strict: true });
    if (values.json && values.csv) throw new UsageError('choose one of --json and --csv');
    const file = join(values['data-dir'] ?? '.vigil', 'vigil.db');
    if (!existsSync(file)) throw new UsageError(`no host database at ${file} (give the host's --data-dir)`);
    const db = openDb(file);
    try {
      const entries = readInventory(db, PROFILES);
      if (values.json) console.log(JSON.stringify(entries, null, 2));
      else if (values.csv) console.log([COLUMNS.join(','), ...entries.map((e) => COLUMNS.map((c) => csvField(c === 'lastSeen' && e.lastSeen !== null ? new Date(e.lastSeen).toISOString() : e[c])).join(','))].join('\n'));
      else {
        const rows = [['bed', 'gateway', 'state', 'device', 'vendor / product', 'serial', 'device fw', 'gateway fw'], ...entries.map((e) => [e.bed ?? '—', e.gateway, e.presence, e.model ?? 'no device', e.product === null ? '—' : `${e.vendor} / ${e.product}`, e.serial ?? '—', e.deviceFirmware ?? '—', e.gatewayFirmware ?? '—'])];
        const width = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        for (const r of rows) console.log(r.map((x, i) => x.padEnd(width[i]!)).join('  ').trimEnd());
        console.log(`${entries.length} gateway(s)`);
      }
      return 0;
    } finally {
      db.close();
    }
  },
};
