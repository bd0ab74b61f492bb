/**
 * The layout keeps its promises (issue 11): nothing under firmware/ imports anything outside it (the
 * Node platform may use npm packages; the core uses none, test/unit/core-purity.test.ts), no import
 * cycle anywhere, and no function in firmware/core or host/ longer than a reader can hold (120 lines,
 * nested functions included). Read with the TypeScript compiler's own parser.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SKIP = new Set(['node_modules', '.git', '.tmp', '.vigil', 'dist']);
const MAX_FUNCTION_LINES = 120;

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const all = files(ROOT);
const sources = new Map(all.map((f) => [f, ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.ES2022, true)]));
const rel = (f: string) => relative(ROOT, f);

/** Relative imports of a file, resolved to files of the repository. */
function importsOf(file: string): string[] {
  const sf = sources.get(file)!;
  const out: string[] = [];
  const visit = (n: ts.Node) => {
    let spec: string | undefined;
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) spec = n.moduleSpecifier.text;
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) spec = n.arguments[0].text;
    if (spec?.startsWith('.')) {
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      out.push(target);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const graph = new Map(all.map((f) => [f, importsOf(f).filter((t) => sources.has(t))]));

describe('the layout', () => {
  it('nothing under firmware/ imports anything outside firmware/', () => {
    const out: string[] = [];
    for (const [f, targets] of graph) {
      if (!rel(f).startsWith('firmware/')) continue;
      for (const t of importsOf(f)) if (!rel(t).startsWith('firmware/')) out.push(`${rel(f)} → ${rel(t)}`);
    }
    expect(out).toEqual([]);
  });

  it('has no import cycle', () => {
    // Tarjan's strongly connected components
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const on = new Set<string>();
    const cycles: string[][] = [];
    const strong = (v: string) => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      on.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!idx.has(w)) {
          strong(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          on.delete(w);
          scc.push(rel(w));
        } while (w !== v);
        if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.sort());
      }
    };
    for (const v of graph.keys()) if (!idx.has(v)) strong(v);
    expect(cycles).toEqual([]);
  });

  it(`no function in firmware/core or host/ is over ${MAX_FUNCTION_LINES} lines`, () => {
    const long: string[] = [];
    for (const [f, sf] of sources) {
      const r = rel(f);
      if (!r.startsWith('firmware/core/') && !r.startsWith('host/')) continue;
      const visit = (n: ts.Node) => {
        if (ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n) || ts.isConstructorDeclaration(n)) {
          const start = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
          const end = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
          const name = ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) ? n.name?.getText(sf) : ts.isVariableDeclaration(n.parent) ? n.parent.name.getText(sf) : '(anonymous)';
          if (end - start + 1 > MAX_FUNCTION_LINES) long.push(`${r}:${start + 1} ${name} (${end - start + 1} lines)`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(long).toEqual([]);
  });
});
