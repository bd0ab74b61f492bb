/**
 * Builds the nursing-station web app (web/src) into web/dist with esbuild: one JS and one CSS bundle
 * with content-hashed names under /assets/ (served with a year's cache), and index.html naming them
 * (served uncached). Runs from `npm install` (prepare), and from the host at start when web/src has
 * changed since the last build, so a fresh clone needs no extra step. The build goes to a temporary
 * folder and is renamed into place: two hosts starting at once never serve half a build.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const WEB = dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = join(WEB, 'dist');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** A hash of everything the build reads from this repository: the sources, this script, the pinned packages. */
export function webSourceHash(): string {
  const h = createHash('sha256');
  for (const f of [...files(join(WEB, 'src')), fileURLToPath(import.meta.url), join(WEB, '..', 'package-lock.json')].sort()) {
    h.update(relative(WEB, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

export interface WebBuild {
  readonly dir: string;
  readonly hash: string;
  readonly script: string;
  readonly style: string;
}

function current(): WebBuild | undefined {
  try {
    return { ...(JSON.parse(readFileSync(join(WEB_DIST, 'build.json'), 'utf8')) as WebBuild), dir: WEB_DIST };
  } catch {
    return undefined;
  }
}

function page(script: string, style: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil — nursing station</title>
<link rel="stylesheet" href="/assets/${style}">
<script type="module" src="/assets/${script}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading Vigil…</p></div>
<noscript>Vigil's nursing station needs JavaScript.</noscript>
</body>
</html>
`;
}

/** Builds unless web/dist already holds the build of these sources. Returns what is served. */
export function ensureWebBuilt(force = false): WebBuild {
  const hash = webSourceHash();
  const have = current();
  if (!force && have?.hash === hash && existsSync(join(WEB_DIST, 'assets', have.script))) return have;
  const tmp = join(WEB, `.dist-${process.pid}-${Date.now()}`);
  mkdirSync(join(tmp, 'assets'), { recursive: true });
  try {
    const r = buildSync({
      entryPoints: [join(WEB, 'src', 'main.tsx')],
      bundle: true,
      format: 'esm',
      target: ['chrome110', 'firefox110', 'safari16'],
      minify: true,
      sourcemap: false,
      jsx: 'automatic',
      jsxImportSource: 'preact',
      outdir: join(tmp, 'assets'),
      entryNames: '[name]-[hash]',
      assetNames: '[name]-[hash]',
      metafile: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
    const outputs = Object.keys(r.metafile.outputs).map((o) => o.split('/').pop()!);
    const script = outputs.find((o) => o.endsWith('.js'));
    const style = outputs.find((o) => o.endsWith('.css'));
    if (script === undefined || style === undefined) throw new Error(`the web build made no ${script === undefined ? 'script' : 'stylesheet'}`);
    const build: WebBuild = { dir: WEB_DIST, hash, script, style };
    writeFileSync(join(tmp, 'index.html'), page(script, style));
    writeFileSync(join(tmp, 'build.json'), JSON.stringify(build, null, 2));
    const old = `${WEB_DIST}.old-${process.pid}-${Date.now()}`;
    if (existsSync(WEB_DIST)) renameSync(WEB_DIST, old);
    renameSync(tmp, WEB_DIST);
    rmSync(old, { recursive: true, force: true });
    return build;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    // another process renamed its build into place between our check and rename: use it
    const other = current();
    if (other?.hash === hash) return other;
    throw e;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const b = ensureWebBuilt(process.argv.includes('--force'));
  console.log(`web app built: web/dist (${b.script}, ${b.style})`);
}
