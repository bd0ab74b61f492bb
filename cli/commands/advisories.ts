import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readAdvisory } from '../../host/advisories/csaf.js';
import { required } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { signInToHost } from '../host-client.js';

/** The advisory files named: each file, and every .json file in each folder (sorted). */
function advisoryFiles(paths: readonly string[]): string[] {
  if (paths.length === 0) throw new UsageError('name at least one advisory file or folder');
  return paths.flatMap((p) => {
    let s: ReturnType<typeof statSync>;
    try {
      s = statSync(p);
    } catch {
      throw new UsageError(`no such file or folder: ${p}`);
    }
    if (!s.isDirectory()) return [p];
    const files = readdirSync(p).filter((f) => f.endsWith('.json')).sort();
    if (files.length === 0) throw new UsageError(`no .json advisory in ${p}`);
    return files.map((f) => join(p, f));
  });
}

function readJson(file: string): { ok: true; doc: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, doc: JSON.parse(readFileSync(file, 'utf8')) as unknown };
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
}

/**
 * `vigil advisories import <file or folder>…`: CSAF 2.0 advisories into the running host, which
 * matches them against the fleet and raises a security alarm per affected bed (POST /api/advisories).
 * `--check` reads them here only: schema, products, ranges, and what it cannot understand.
 */
export const advisoriesCommand: Command = {
  name: 'advisories',
  summary: 'import CSAF 2.0 security advisories: matched against the fleet, a security alarm for each affected bed',
  usage:
    'vigil advisories import <file or folder>... --host <http://host:port> --user <biomed or admin user>   (password from VIGIL_PASSWORD)\n' +
    '       vigil advisories import <file or folder>... --check   (read and report only; nothing sent)',
  async run(args) {
    const [verb, ...rest] = args;
    if (verb !== 'import') throw new UsageError(`expected "advisories import", got "advisories ${verb ?? ''}"`);
    const { values, positionals } = parseArgs({ args: rest, options: { host: { type: 'string' }, user: { type: 'string' }, check: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
    const files = advisoryFiles(positionals);
    let token: string | undefined;
    let base = '';
    if (!values.check) {
      base = required(values.host, '--host (or --check to read the files without a host)').replace(/\/$/, '');
      const user = required(values.user, '--user');
      token = await signInToHost(base, user);
    }
    const totals = { files: files.length, parsed: 0, refused: 0, products: 0, notUnderstood: 0, bedsAffected: 0, review: 0 };
    for (const file of files) {
      const json = readJson(file);
      if (!json.ok) {
        totals.refused++;
        console.log(`${file}: REFUSED: ${json.error}`);
        continue;
      }
      if (token === undefined) {
        const r = await readAdvisory(json.doc);
        if (!r.ok) {
          totals.refused++;
          console.log(`${file}: REFUSED: not CSAF 2.0: ${r.errors.slice(0, 3).join('; ')}`);
          continue;
        }
        const a = r.advisory;
        const unclear = a.products.filter((p) => !p.range.ok);
        totals.parsed++;
        totals.products += a.products.length;
        totals.notUnderstood += unclear.length;
        console.log(`${file}: ${a.id} v${a.version} "${a.title}": ${a.products.length} products, ${a.cves.length} CVEs${a.cvss === undefined ? '' : `, CVSS up to ${a.cvss}`}`);
        for (const p of unclear) console.log(`  version not understood: ${[p.vendor, p.name].filter(Boolean).join(' / ')}: ${JSON.stringify(p.versionText ?? null)} (${p.range.ok ? '' : p.range.reason})`);
        continue;
      }
      const r = await fetch(`${base}/api/advisories`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(json.doc) });
      const out = (await r.json().catch(() => ({}))) as {
        error?: string;
        advisory?: { id: string; version: string; title: string };
        stored?: boolean;
        products?: number;
        notUnderstood?: Array<{ product: string; versionText: string | null; reason: string }>;
        affected?: Array<{ bed: string | null; gateway: string; product: string; firmware: string | null; why: string }>;
        review?: Array<{ bed: string | null; gateway: string; product: string; why: string }>;
      };
      if (!r.ok) {
        totals.refused++;
        console.log(`${file}: REFUSED by the host (${r.status}): ${out.error ?? ''}`);
        continue;
      }
      totals.parsed++;
      totals.products += out.products ?? 0;
      totals.notUnderstood += out.notUnderstood?.length ?? 0;
      totals.bedsAffected += out.affected?.length ?? 0;
      totals.review += out.review?.length ?? 0;
      console.log(`${file}: ${out.advisory!.id} v${out.advisory!.version}${out.stored ? '' : ' (this revision was already imported)'}: ${out.affected!.length} bed(s) affected, ${out.review!.length} for review`);
      for (const f of out.affected!) console.log(`  AFFECTED ${f.bed ?? f.gateway} (${f.gateway}): ${f.product} firmware ${f.firmware ?? '?'} (${f.why})`);
      for (const f of out.review!) console.log(`  REVIEW   ${f.bed ?? f.gateway} (${f.gateway}): ${f.product}: ${f.why}`);
    }
    console.log(
      `${totals.files} file(s): ${totals.parsed} read, ${totals.refused} refused; ${totals.products} products, ${totals.notUnderstood} version texts not understood` +
        (token === undefined ? '' : `; ${totals.bedsAffected} bed alarm(s), ${totals.review} bed(s) for review`),
    );
    return totals.refused > 0 ? 1 : 0;
  },
};
