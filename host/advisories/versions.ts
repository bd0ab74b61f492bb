/**
 * Product versions and version ranges as security advisories write them.
 *
 * A range is read two ways, and only these:
 *  - vers (the package-url "vers" form): `vers:<scheme>/<constraint>|<constraint>…`, each constraint
 *    `*` or a comparator (=, !=, <, <=, >, >=) and a version; checked by the vers algorithm (equals
 *    and not-equals first, then the remaining comparators, sorted by version, as intervals);
 *  - free text in the shapes CISA's advisories use: `<= 4.2`, `>= 1.1 | <= 1.3.2`, `2.3.6 and below`,
 *    `prior to 9.33.1`, `4.X | 5.X`, `1.10 | 1.11`, `All versions`, a plain version.
 * Anything else (dates, build notes, part numbers with prose) is `not understood`, with the reason: the
 * caller reports it, it is never matched by guessing nor dropped.
 *
 * Versions compare segment by segment (split at `.`, `-`, `_` and between digits and letters):
 * numbers as numbers, letters case-blind, a missing segment as 0 (`1.2` = `1.2.0`); `v` before a
 * number is dropped (`v8.1` = `8.1`).
 */

export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=';

export interface Constraint {
  readonly op: Comparator;
  readonly version: string;
}

export type VersionRange =
  | { readonly kind: 'all' }
  /** vers semantics over the constraints. */
  | { readonly kind: 'constraints'; readonly constraints: readonly Constraint[] }
  /** Any of these version prefixes (`4.X`: every 4.something). */
  | { readonly kind: 'prefixes'; readonly prefixes: readonly string[] };

export type RangeResult = { readonly ok: true; readonly range: VersionRange } | { readonly ok: false; readonly reason: string };

/** A version token: letters, digits and . - _ with at least one digit (`9.33.1`, `C.00.04`, `R8.0.3`, `L81`). */
const VERSION = /^[vV]?[0-9A-Za-z]+(?:[._-][0-9A-Za-z]+)*$/;

function segments(v: string): Array<number | string> {
  const s = v.replace(/^[vV](?=\d)/, '');
  const out: Array<number | string> = [];
  for (const part of s.split(/[._-]/)) for (const piece of part.match(/\d+|[A-Za-z]+/g) ?? []) out.push(/^\d+$/.test(piece) ? Number(piece) : piece.toLowerCase());
  return out;
}

export function isVersion(v: string): boolean {
  return VERSION.test(v) && /\d/.test(v);
}

/** Negative, zero or positive as a is before, the same as, or after b. */
export function compareVersions(a: string, b: string): number {
  const x = segments(a);
  const y = segments(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i] ?? 0;
    const q = y[i] ?? 0;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p - q;
    if (typeof p === 'number') return -1; // a number before a letter: 1.0 < 1.a (a pre-release spelled in letters is rare in devices)
    if (typeof q === 'number') return 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

function satisfies(v: string, c: Constraint): boolean {
  const d = compareVersions(v, c.version);
  switch (c.op) {
    case '=':
      return d === 0;
    case '!=':
      return d !== 0;
    case '<':
      return d < 0;
    case '<=':
      return d <= 0;
    case '>':
      return d > 0;
    case '>=':
      return d >= 0;
  }
}

/** Whether `version` is in the range; undefined when the version itself cannot be compared (not a version). */
export function inRange(version: string, range: VersionRange): boolean | undefined {
  if (range.kind === 'all') return true;
  if (!isVersion(version)) return undefined;
  if (range.kind === 'prefixes') {
    const v = segments(version);
    return range.prefixes.some((p) => segments(p).every((s, i) => v[i] === s));
  }
  // the vers algorithm: equals and not-equals decide at once; then the comparators, in version order,
  // are read as intervals (a first upper bound, pairs lower-upper, a last lower bound)
  const cs = range.constraints;
  for (const c of cs) {
    if (c.op === '=' && satisfies(version, c)) return true;
    if (c.op === '!=' && !satisfies(version, c)) return false;
  }
  const bounds = cs.filter((c) => c.op !== '=' && c.op !== '!=').sort((a, b) => compareVersions(a.version, b.version));
  if (bounds.length === 0) return cs.some((c) => c.op === '!='); // only exclusions (and the version is not one): everything else
  const lower = (c: Constraint) => c.op === '>' || c.op === '>=';
  for (let i = 0; i < bounds.length; i++) {
    const c = bounds[i]!;
    if (i === 0 && !lower(c) && satisfies(version, c)) return true;
    if (i === bounds.length - 1 && lower(c) && satisfies(version, c)) return true;
    const next = bounds[i + 1];
    if (next !== undefined && lower(c) && !lower(next) && satisfies(version, c) && satisfies(version, next)) return true;
  }
  return false;
}

const COMPARATOR = /^(<=|>=|!=|<|>|=)\s*(.+)$/;

function constraint(text: string): Constraint | undefined {
  const t = text.trim();
  const m = COMPARATOR.exec(t);
  const op = (m?.[1] ?? '=') as Comparator;
  let version = (m?.[2] ?? t).trim();
  // a wildcard last segment: "< 3.x" is "< 3" and ">= 2.x" is ">= 2"; with other comparators it is not exact
  const wild = /^(.*\d)\.[xX*]$/.exec(version);
  if (wild !== null) {
    if (op !== '<' && op !== '>=') return undefined;
    version = wild[1]!;
  }
  return isVersion(version) ? { op, version } : undefined;
}

/** A `vers:` range. */
export function parseVers(text: string): RangeResult {
  const m = /^vers:([a-z0-9.+-]+)\/(.*)$/i.exec(text.trim());
  if (m === null) return { ok: false, reason: 'not a vers range (vers:<scheme>/<constraints>)' };
  const body = m[2]!.replace(/\s+/g, '');
  if (body === '*') return { ok: true, range: { kind: 'all' } };
  if (body === '') return { ok: false, reason: 'a vers range with no constraint' };
  const constraints: Constraint[] = [];
  for (const part of body.split('|')) {
    const c = constraint(decodeURIComponent(part));
    if (c === undefined) return { ok: false, reason: `vers constraint "${part}" is not a comparator and a version` };
    constraints.push(c);
  }
  return { ok: true, range: { kind: 'constraints', constraints } };
}

const ALL = /^(all|all versions|all versions?\.?|any version|vers:all\/\*)$/i;
const AND_BELOW = /^(?:version[s]?\s+)?(\S+)\s+and\s+(?:below|prior|earlier|older|lower|previous(?: versions)?)$/i;
const AND_ABOVE = /^(?:version[s]?\s+)?(\S+)\s+and\s+(?:above|later|newer|higher)$/i;
const PRIOR_TO = /^(?:all\s+)?(?:version[s]?\s+)?(?:prior to|before|earlier than|older than)\s+(?:version\s+)?(\S+)$/i;
const PREFIX = /^[vV]?(\d+(?:\.\d+)*)\.[xX*]$/;

/**
 * Any range text an advisory gives (product_version_range, or a product_version that is in fact a
 * range): vers, or the free-text shapes above. Spaces are loose; the text is never guessed at.
 */
export function parseRange(raw: string): RangeResult {
  const text = raw.trim().replace(/\s+/g, ' ');
  if (text === '') return { ok: false, reason: 'empty' };
  if (/^vers:/i.test(text)) return parseVers(text);
  if (ALL.test(text)) return { ok: true, range: { kind: 'all' } };
  let m = AND_BELOW.exec(text);
  if (m !== null) return isVersion(m[1]!) ? { ok: true, range: { kind: 'constraints', constraints: [{ op: '<=', version: m[1]! }] } } : { ok: false, reason: `"${m[1]}" is not a version` };
  m = AND_ABOVE.exec(text);
  if (m !== null) return isVersion(m[1]!) ? { ok: true, range: { kind: 'constraints', constraints: [{ op: '>=', version: m[1]! }] } } : { ok: false, reason: `"${m[1]}" is not a version` };
  m = PRIOR_TO.exec(text);
  if (m !== null) return isVersion(m[1]!) ? { ok: true, range: { kind: 'constraints', constraints: [{ op: '<', version: m[1]! }] } } : { ok: false, reason: `"${m[1]}" is not a version` };
  const parts = text.split('|').map((p) => p.trim());
  if (parts.every((p) => PREFIX.test(p))) return { ok: true, range: { kind: 'prefixes', prefixes: parts.map((p) => PREFIX.exec(p)![1]!) } };
  const constraints: Constraint[] = [];
  for (const p of parts) {
    const c = constraint(p);
    if (c === undefined) return { ok: false, reason: parts.length > 1 ? `"${p}" is not a comparator and a version` : 'not a version, a comparator and a version, or a known phrase' };
    constraints.push(c);
  }
  return { ok: true, range: { kind: 'constraints', constraints } };
}

/** The range in words, for alarms and reports. */
export function describeRange(r: VersionRange): string {
  if (r.kind === 'all') return 'all versions';
  if (r.kind === 'prefixes') return r.prefixes.map((p) => `${p}.x`).join(' or ');
  return r.constraints.map((c) => (c.op === '=' ? c.version : `${c.op} ${c.version}`)).join(' | ');
}
