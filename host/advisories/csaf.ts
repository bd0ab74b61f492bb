/**
 * CSAF 2.0 security advisories (OASIS CSAF 2.0; CISA publishes its ICS medical advisories in it):
 * validated against the CSAF 2.0 JSON schema by BSI's validator (@secvisogram/csaf-validator-lib),
 * then read into what Vigil matches and shows: the products with their versions or ranges, the CVEs
 * with their CVSS scores, and the remediations, per product.
 *
 * The product tree is walked whole (vendor → product_name → product_version or
 * product_version_range, at any depth; `full_product_names` and relationships too). A product is
 * affected when a vulnerability lists it (known_affected, first_affected, last_affected).
 */
import validate from '@secvisogram/csaf-validator-lib/validate.js';
import { csaf_2_0 } from '@secvisogram/csaf-validator-lib/schemaTests.js';
import { parseRange, type RangeResult } from './versions.js';

export interface AdvisoryProduct {
  readonly id: string;
  readonly vendor: string | undefined;
  readonly name: string;
  /** The version text as written (product_version or product_version_range), if the tree gives one. */
  readonly versionText: string | undefined;
  /** The range read from it; none given: `{ok: false, reason: 'no version given'}`. */
  readonly range: RangeResult;
}

export interface Remediation {
  readonly category: string;
  readonly details: string;
  readonly url: string | undefined;
}

export interface AffectedProduct extends AdvisoryProduct {
  readonly cves: readonly string[];
  /** The highest CVSS base score (v3, else v2) among its vulnerabilities; undefined when none is given. */
  readonly cvss: number | undefined;
  readonly remediations: readonly Remediation[];
}

export interface Advisory {
  readonly id: string;
  readonly version: string;
  readonly title: string;
  readonly released: string | undefined;
  readonly cves: readonly string[];
  readonly cvss: number | undefined;
  /** Every product the tree names. */
  readonly products: readonly AdvisoryProduct[];
  /** The products a vulnerability lists as affected, with what applies to each. */
  readonly affected: readonly AffectedProduct[];
}

export type AdvisoryResult = { readonly ok: true; readonly advisory: Advisory } | { readonly ok: false; readonly errors: readonly string[] };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Checks the document against the CSAF 2.0 schema, then reads it. Errors name the JSON path. */
export async function readAdvisory(doc: unknown): Promise<AdvisoryResult> {
  const r = await validate([csaf_2_0], doc);
  if (!r.isValid) {
    const errors = r.tests.flatMap((t) => t.errors.map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`));
    return { ok: false, errors: errors.length > 0 ? errors.slice(0, 20) : ['not a CSAF 2.0 document'] };
  }
  return { ok: true, advisory: readValid(doc as Obj) };
}

function readValid(doc: Obj): Advisory {
  const document = doc['document'] as Obj;
  const tracking = document['tracking'] as Obj;
  const products = new Map<string, AdvisoryProduct>();
  walk(isObj(doc['product_tree']) ? doc['product_tree'] : {}, undefined, undefined, undefined, products);
  const perProduct = new Map<string, { cves: Set<string>; cvss: number | undefined; remediations: Remediation[] }>();
  const allCves = new Set<string>();
  const affectedSet = new Set<string>();
  let worst: number | undefined;
  for (const v of Array.isArray(doc['vulnerabilities']) ? (doc['vulnerabilities'] as unknown[]).filter(isObj) : []) {
    const cve = typeof v['cve'] === 'string' ? v['cve'] : undefined;
    if (cve !== undefined) allCves.add(cve);
    const status = isObj(v['product_status']) ? v['product_status'] : {};
    const affected = new Set([...strings(status['known_affected']), ...strings(status['first_affected']), ...strings(status['last_affected'])]);
    const scores = Array.isArray(v['scores']) ? (v['scores'] as unknown[]).filter(isObj) : [];
    for (const s of scores) {
      const score = baseScore(s);
      if (score === undefined) continue;
      worst = Math.max(worst ?? 0, score);
      for (const id of strings(s['products'])) {
        const p = entry(perProduct, id);
        p.cvss = Math.max(p.cvss ?? 0, score);
      }
    }
    for (const id of affected) {
      const p = entry(perProduct, id);
      if (cve !== undefined) p.cves.add(cve);
      if (p.cvss === undefined && scores.length > 0) p.cvss = Math.max(...scores.map((s) => baseScore(s) ?? 0));
    }
    for (const rem of Array.isArray(v['remediations']) ? (v['remediations'] as unknown[]).filter(isObj) : []) {
      const r: Remediation = { category: String(rem['category'] ?? ''), details: String(rem['details'] ?? ''), url: typeof rem['url'] === 'string' ? rem['url'] : undefined };
      const ids = strings(rem['product_ids']);
      for (const id of ids.length > 0 ? ids : [...affected]) {
        const p = entry(perProduct, id);
        if (!p.remediations.some((x) => x.details === r.details && x.category === r.category)) p.remediations.push(r);
      }
    }
    for (const id of affected) affectedSet.add(id);
  }
  const affected: AffectedProduct[] = [];
  for (const id of affectedSet) {
    const p = products.get(id);
    const extra = perProduct.get(id)!;
    if (p === undefined) continue; // a relationship's id or an id the tree does not define: nothing to match by name
    affected.push({ ...p, cves: [...extra.cves].sort(), cvss: extra.cvss, remediations: extra.remediations });
  }
  return {
    id: String(tracking['id']),
    version: String(tracking['version']),
    title: String(document['title']),
    released: typeof tracking['current_release_date'] === 'string' ? tracking['current_release_date'] : undefined,
    cves: [...allCves].sort(),
    cvss: worst,
    products: [...products.values()],
    affected,
  };
}

function entry(m: Map<string, { cves: Set<string>; cvss: number | undefined; remediations: Remediation[] }>, id: string) {
  let e = m.get(id);
  if (e === undefined) m.set(id, (e = { cves: new Set(), cvss: undefined, remediations: [] }));
  return e;
}

function baseScore(s: Obj): number | undefined {
  for (const k of ['cvss_v3', 'cvss_v2']) {
    const c = s[k];
    if (isObj(c) && typeof c['baseScore'] === 'number') return c['baseScore'];
  }
  return undefined;
}

/** The product tree's branches, at any depth: a leaf's vendor and product name are its nearest ancestors'. */
function walk(node: Obj, vendor: string | undefined, name: string | undefined, version: string | undefined, out: Map<string, AdvisoryProduct>): void {
  for (const b of Array.isArray(node['branches']) ? (node['branches'] as unknown[]).filter(isObj) : []) {
    const category = String(b['category']);
    const n = String(b['name']);
    const v = category === 'vendor' ? n : vendor;
    const p = category === 'product_name' || category === 'product_family' ? n : name;
    const ver = category === 'product_version' || category === 'product_version_range' ? n : version;
    if (isObj(b['product'])) add(out, String(b['product']['product_id']), v, p ?? String(b['product']['name']), ver);
    walk(b, v, p, ver, out);
  }
  for (const f of Array.isArray(node['full_product_names']) ? (node['full_product_names'] as unknown[]).filter(isObj) : []) {
    const id = String(f['product_id']);
    if (!out.has(id)) add(out, id, undefined, String(f['name']), undefined);
  }
}

function add(out: Map<string, AdvisoryProduct>, id: string, vendor: string | undefined, name: string, versionText: string | undefined): void {
  out.set(id, { id, vendor, name, versionText, range: versionText === undefined ? { ok: false, reason: 'no version given' } : parseRange(versionText) });
}
