/**
 * firmware/core stays pure (DESIGN.md, "Parts"): ES2022 only, no platform globals, and it imports
 * only other core files. These tests prove the guards bite, rather than trusting the tsconfig.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const core = join(root, 'firmware/core');

function coreFiles(dir = core): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? coreFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('firmware/core imports only firmware/core', () => {
  const files = coreFiles();

  it('has files to check', () => {
    expect(files.length).toBeGreaterThan(3);
  });

  it.each(files.map((f) => [relative(root, f), f] as const))('%s', (_name, file) => {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const specifiers: string[] = [];
    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        specifiers.push(node.moduleSpecifier.text);
      }
      if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
        specifiers.push(`dynamic:${node.getText()}`);
      }
      if (ts.isImportTypeNode(node)) specifiers.push(`import-type:${node.getText()}`);
      ts.forEachChild(node, visit);
    };
    visit(source);
    for (const spec of specifiers) {
      expect(spec.startsWith('.'), `${spec} is not a relative import`).toBe(true);
      const target = resolve(dirname(file), spec);
      expect(relative(core, target).startsWith('..'), `${spec} leaves firmware/core`).toBe(false);
    }
    // no triple-slash directives pulling in platform types
    expect(source.referencedFiles.length + source.typeReferenceDirectives.length + source.libReferenceDirectives.length).toBe(0);
  });
});

describe('the core tsconfig refuses platform globals', () => {
  const forbidden: Record<string, string> = {
    Buffer: 'Buffer.from("x");',
    setTimeout: 'setTimeout(() => {}, 1);',
    console: 'console.log("x");',
    process: 'process.exit(1);',
    TextEncoder: 'new TextEncoder();',
    trace: 'trace("x");',
    fetch: 'fetch("x");',
  };

  function diagnosticsWith(extra: Record<string, string>): Map<string, readonly ts.Diagnostic[]> {
    const configPath = join(core, 'tsconfig.json');
    const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    if (!config) throw new Error('cannot read firmware/core/tsconfig.json');
    const host = ts.createCompilerHost(config.options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, lang, ...rest) =>
      name in extra ? ts.createSourceFile(name, extra[name]!, lang) : getSourceFile(name, lang, ...rest);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => name in extra || fileExists(name);
    const program = ts.createProgram([...config.fileNames, ...Object.keys(extra)], config.options, host);
    const out = new Map<string, readonly ts.Diagnostic[]>();
    for (const name of [...config.fileNames, ...Object.keys(extra)]) {
      const sf = program.getSourceFile(name);
      out.set(name, sf ? ts.getPreEmitDiagnostics(program, sf) : []);
    }
    return out;
  }

  const extra = Object.fromEntries(Object.entries(forbidden).map(([name, code]) => [join(core, `cbor/__probe_${name}.ts`), `export function probe(): void {\n  ${code}\n}\n`]));
  const diagnostics = diagnosticsWith(extra);

  it('type-checks the real core cleanly', () => {
    const real = [...diagnostics].filter(([name]) => !(name in extra)).flatMap(([, d]) => d);
    expect(real.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  });

  it.each(Object.entries(forbidden))('%s in a core file fails to type-check', (name) => {
    const d = diagnostics.get(join(core, `cbor/__probe_${name}.ts`)) ?? [];
    expect(d.map((x) => ts.flattenDiagnosticMessageText(x.messageText, '\n')).join('\n')).toMatch(/Cannot find name/);
  });
});
