/**
 * Message schemas as data: each one parses a decoded CBOR value strictly (every departure is a
 * problem naming the path, what was expected and what arrived; unknown map keys are refused), builds
 * the CBOR value to encode, and writes its own CDDL (RFC 8610). So one definition serves the gateway,
 * the host, the tests and docs/protocol.md, which is checked against `cddlOf` (test/unit/protocol.test.ts).
 */
import type { CborKey, CborMap, CborValue } from '../cbor/index.js';

export interface Schema<T> {
  /** The CDDL type expression (a name once `named`). */
  readonly cddl: string;
  /** Parses `v`; returns the value, or a Problem whose text names `at`. */
  parse(v: CborValue | undefined, at: string): T | Problem;
  /** The CBOR value to encode for `x`. */
  toCbor(x: T): CborValue;
}

export class Problem {
  constructor(readonly detail: string) {}
}

export const isProblem = (x: unknown): x is Problem => x instanceof Problem;

/** What a decoded value is, for a problem's text. */
export function kindOf(v: CborValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Map) return 'a map';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v.length <= 24 && /^[\x20-\x7e]*$/.test(v) ? `"${v}"` : 'text';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return 'a tagged item';
}

function fail(at: string, expected: string, got: CborValue | undefined): Problem {
  return new Problem(`${at}: expected ${expected}, got ${kindOf(got)}`);
}

function schema<T>(cddl: string, parse: Schema<T>['parse'], toCbor: Schema<T>['toCbor'] = (x) => x as unknown as CborValue): Schema<T> {
  return { cddl, parse, toCbor };
}

/** A non-negative safe integer, at most `max`. */
export function uint(max = Number.MAX_SAFE_INTEGER): Schema<number> {
  return schema(max === Number.MAX_SAFE_INTEGER ? 'uint' : `uint .le ${max}`, (v, at) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max ? v : fail(at, max === Number.MAX_SAFE_INTEGER ? 'an unsigned integer' : `an unsigned integer up to ${max}`, v),
  );
}

export function int(min: number, max: number): Schema<number> {
  return schema(`${min}..${max}`, (v, at) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max ? v : fail(at, `an integer in ${min}..${max}`, v)));
}

/** Text of 1 to `max` characters, matching `pattern` when given (its CDDL comment says what it is). */
export function text(max: number, pattern?: RegExp): Schema<string> {
  return schema(pattern === undefined ? `tstr .size (1..${max})` : `tstr .regexp "${pattern.source}"`, (v, at) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > max) return fail(at, `text of 1 to ${max} characters`, v);
    if (pattern !== undefined && !pattern.test(v)) return fail(at, `text matching ${pattern.source}`, v);
    return v;
  });
}

/** A byte string, of exactly `size` bytes when given, else of at most `max`. */
export function bytes(size?: number, max = 4096): Schema<Uint8Array> {
  return schema(size === undefined ? 'bstr' : `bstr .size ${size}`, (v, at) =>
    v instanceof Uint8Array && (size === undefined ? v.length <= max : v.length === size) ? v : fail(at, size === undefined ? `bytes (at most ${max})` : `${size} bytes`, v),
  );
}

export function bool(): Schema<boolean> {
  return schema('bool', (v, at) => (typeof v === 'boolean' ? v : fail(at, 'true or false', v)));
}

export function literal<const L extends boolean | string | number>(value: L): Schema<L> {
  return schema(typeof value === 'string' ? `"${value}"` : String(value), (v, at) => (v === value ? value : fail(at, JSON.stringify(value), v)));
}

export function oneOf<const L extends string>(...values: readonly L[]): Schema<L> {
  return schema(values.map((x) => `"${x}"`).join(' / '), (v, at) => (typeof v === 'string' && (values as readonly string[]).indexOf(v) >= 0 ? (v as L) : fail(at, `one of ${values.join(', ')}`, v)));
}

export function nullable<T>(s: Schema<T>): Schema<T | null> {
  return schema(`${s.cddl} / null`, (v, at) => (v === null ? null : s.parse(v, at)), (x) => (x === null ? null : s.toCbor(x)));
}

/** Either of two schemas, tried in order (their CBOR types must differ). */
export function either<A, B>(a: Schema<A>, b: Schema<B>, isA: (x: A | B) => x is A): Schema<A | B> {
  return schema(
    `${a.cddl} / ${b.cddl}`,
    (v, at) => {
      const first = a.parse(v, at);
      if (!isProblem(first)) return first;
      const second = b.parse(v, at);
      return isProblem(second) ? new Problem(`${first.detail}; or ${second.detail.slice(at.length + 2)}`) : second;
    },
    (x) => (isA(x) ? a.toCbor(x) : b.toCbor(x as B)),
  );
}

export function array<T>(item: Schema<T>, max: number, min = 0): Schema<readonly T[]> {
  return schema(
    `[${min > 0 ? '+' : '*'} ${item.cddl}]`,
    (v, at) => {
      if (!Array.isArray(v) || v.length < min || v.length > max) return fail(at, `an array of ${min} to ${max}`, v);
      const out: T[] = [];
      for (let i = 0; i < v.length; i++) {
        const x = item.parse(v[i] as CborValue, `${at}[${i}]`);
        if (isProblem(x)) return x;
        out.push(x);
      }
      return out;
    },
    (xs) => xs.map((x) => item.toCbor(x)),
  );
}

export function tuple<A, B>(a: Schema<A>, b: Schema<B>): Schema<readonly [A, B]> {
  return schema(
    `[${a.cddl}, ${b.cddl}]`,
    (v, at) => {
      if (!Array.isArray(v) || v.length !== 2) return fail(at, 'an array of 2', v);
      const x = a.parse(v[0] as CborValue, `${at}[0]`);
      if (isProblem(x)) return x;
      const y = b.parse(v[1] as CborValue, `${at}[1]`);
      if (isProblem(y)) return y;
      return [x, y] as const;
    },
    ([x, y]) => [a.toCbor(x), b.toCbor(y)],
  );
}

export function tuple3<A, B, C>(a: Schema<A>, b: Schema<B>, c: Schema<C>): Schema<readonly [A, B, C]> {
  return schema(
    `[${a.cddl}, ${b.cddl}, ${c.cddl}]`,
    (v, at) => {
      if (!Array.isArray(v) || v.length !== 3) return fail(at, 'an array of 3', v);
      const x = a.parse(v[0] as CborValue, `${at}[0]`);
      if (isProblem(x)) return x;
      const y = b.parse(v[1] as CborValue, `${at}[1]`);
      if (isProblem(y)) return y;
      const z = c.parse(v[2] as CborValue, `${at}[2]`);
      if (isProblem(z)) return z;
      return [x, y, z] as const;
    },
    ([x, y, z]) => [a.toCbor(x), b.toCbor(y), c.toCbor(z)],
  );
}

/** A map of anything with text keys (an event's evidence): bounded by the decoder's limits. */
export function anyMap(): Schema<CborMap> {
  return schema('{ * tstr => any }', (v, at) => {
    if (!(v instanceof Map)) return fail(at, 'a map', v);
    for (const k of v.keys()) if (typeof k !== 'string') return fail(`${at} key`, 'text', k);
    return v;
  });
}

/** A value checked by a function of its own (a protocol-specific rule). */
export function custom<T>(cddl: string, parse: Schema<T>['parse'], toCbor: Schema<T>['toCbor']): Schema<T> {
  return schema(cddl, parse, toCbor);
}

// ---- maps with named fields ----

export interface Field<T, O extends boolean> {
  readonly key: CborKey;
  readonly schema: Schema<T>;
  readonly optional: O;
  readonly comment: string | undefined;
}

/** A field that must be present, under text key `key` (or an integer key, named by the property). */
export function req<T>(schema: Schema<T>, comment?: string, key?: CborKey): Field<T, false> & { readonly explicitKey: CborKey | undefined } {
  return { key: key ?? '', schema, optional: false, comment, explicitKey: key };
}

export function opt<T>(schema: Schema<T>, comment?: string, key?: CborKey): Field<T, true> & { readonly explicitKey: CborKey | undefined } {
  return { key: key ?? '', schema, optional: true, comment, explicitKey: key };
}

type AnyField = Field<unknown, boolean> & { readonly explicitKey: CborKey | undefined };
type FieldsOf = Record<string, AnyField>;
type ValueOf<F> = F extends Field<infer T, boolean> ? T : never;
type RequiredNames<F extends FieldsOf> = { [K in keyof F]: F[K] extends Field<unknown, false> ? K : never }[keyof F];
type OptionalNames<F extends FieldsOf> = { [K in keyof F]: F[K] extends Field<unknown, true> ? K : never }[keyof F];
export type MapOf<F extends FieldsOf> = { readonly [K in RequiredNames<F>]: ValueOf<F[K]> } & { readonly [K in OptionalNames<F>]?: ValueOf<F[K]> };

/**
 * A map whose keys are the property names of `fields` (text), or each field's integer key when it
 * gives one (compact records). Unknown keys are refused. The CDDL lists the fields in key order with
 * their comments.
 */
export function map<F extends FieldsOf>(fields: F): Schema<MapOf<F>> {
  const entries = Object.entries(fields).map(([name, f]) => ({ name, key: f.explicitKey ?? name, f }));
  const byKey = new Map<CborKey, (typeof entries)[number]>(entries.map((e) => [e.key, e]));
  const lines = entries.map((e) => {
    const key = typeof e.key === 'string' ? `"${e.key}"` : String(e.key);
    const comment = typeof e.key === 'string' ? e.f.comment : `${e.name}${e.f.comment === undefined ? '' : `: ${e.f.comment}`}`;
    return `  ${e.f.optional ? '? ' : ''}${key} => ${e.f.schema.cddl},${comment === undefined ? '' : ` ; ${comment}`}`;
  });
  return schema(
    `{\n${lines.join('\n')}\n}`,
    (v, at) => {
      if (!(v instanceof Map)) return fail(at, 'a map', v);
      for (const k of v.keys()) if (!byKey.has(k)) return new Problem(`${at}: unexpected key ${typeof k === 'string' ? `"${k.slice(0, 24)}"` : String(k)}`);
      const out: Record<string, unknown> = {};
      for (const e of entries) {
        const x = v.get(e.key);
        if (x === undefined) {
          if (e.f.optional) continue;
          return new Problem(`${at}.${e.name}: missing`);
        }
        const parsed = e.f.schema.parse(x, `${at}.${e.name}`);
        if (isProblem(parsed)) return parsed;
        out[e.name] = parsed;
      }
      return out as MapOf<F>;
    },
    (x) => {
      const m = new Map<CborKey, CborValue>();
      const rec = x as Record<string, unknown>;
      for (const e of entries) {
        const value = rec[e.name];
        if (value === undefined) continue;
        m.set(e.key, e.f.schema.toCbor(value));
      }
      return m;
    },
  );
}

/** The schema under a CDDL rule name: `cddl` becomes the name; `rule` is the definition for the docs. */
export function named<T>(name: string, s: Schema<T>): Schema<T> & { readonly rule: string } {
  return { cddl: name, parse: s.parse, toCbor: s.toCbor, rule: `${name} = ${s.cddl}` };
}
