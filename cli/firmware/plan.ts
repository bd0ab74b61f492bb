/**
 * The commands a firmware build runs, as data: `vigil firmware build` prints them (--dry-run) or runs
 * them in order. One manifest (manifest.json at the root) serves both platforms.
 *
 *  - esp32: `mcconfig -m -p esp32`, which needs ESP-IDF for its C half.
 *  - esp32 --js-only: the JavaScript half of that same build without ESP-IDF: mcconfig writes the
 *    makefile, then make builds every module (tsc, xsc), the native modules' host stubs (xsid), the
 *    linked XS archive (xsl → mc.xs.c) and the resources (mcrez → mc.resources.c). The SDK's esp32
 *    makefile refuses to load unless $IDF_PATH names a git checkout (it reads the IDF version there), so
 *    it is pointed at an empty repository made for the purpose; `SDKCONFIG_H=` drops the one
 *    prerequisite that only idf.py can make. Nothing of the C half is compiled.
 *  - lin: Moddable's Linux runtime (a shared library that mcsim loads), with `-t build` always: the
 *    default target of the SDK's lin makefile ends by killing every process named mcsim on the machine.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { ROOT, type Platform } from './toolchain.js';

export interface BuildRequest {
  readonly platform: Platform;
  readonly out: string;
  readonly release: boolean;
  readonly jsOnly: boolean;
  /** name=value pairs for mc/config. */
  readonly config: readonly string[];
}

export interface BuildPlan {
  readonly steps: ReadonlyArray<readonly string[]>;
  /** Where the built app is: mc.so for lin, the makefile's folder for esp32. */
  readonly app: string;
}

export const MANIFEST = join(ROOT, 'manifest.json');
/** mcconfig names the app after the manifest's folder: the checkout's own name. */
export const APP = basename(dirname(MANIFEST));

export function defaultOut(platform: Platform): string {
  return join(ROOT, 'dist', 'firmware', platform);
}

export function buildPlan(r: BuildRequest): BuildPlan {
  const out = resolve(r.out);
  const flavour = r.release ? 'release' : 'debug';
  const debug = r.release ? [] : ['-d'];
  const mkdir = ['mkdir', '-p', out];
  if (r.platform === 'lin') {
    return {
      steps: [mkdir, ['mcconfig', ...debug, '-m', '-p', 'lin', '-t', 'build', '-o', out, MANIFEST, ...r.config]],
      app: join(out, 'bin', 'lin', 'mc', flavour, APP, 'mc.so'),
    };
  }
  if (!r.jsOnly) return { steps: [mkdir, ['mcconfig', ...debug, '-m', '-p', 'esp32', '-o', out, MANIFEST, ...r.config]], app: join(out, 'bin', 'esp32', flavour, APP) };
  const tmp = join(out, 'tmp', 'esp32', flavour, APP);
  const noIdf = join(out, 'no-esp-idf');
  return {
    steps: [
      mkdir,
      ['mcconfig', ...debug, '-p', 'esp32', '-o', out, MANIFEST, ...r.config],
      ['git', 'init', '-q', noIdf],
      ['git', '-C', noIdf, '-c', 'user.name=vigil', '-c', 'user.email=vigil@localhost', 'commit', '-q', '--allow-empty', '-m', 'stands in for ESP-IDF while the esp32 makefile loads'],
      ['make', '-C', tmp, '-f', 'makefile', `IDF_PATH=${noIdf}`, 'SDKCONFIG_H=', join(tmp, 'mc.xs.c'), join(tmp, 'mc.resources.c')],
    ],
    app: tmp,
  };
}

/** A step as a shell line, secrets hidden. */
export function shown(step: readonly string[]): string {
  return step
    .map((a) => (/^(password|mqttPassword)=/.test(a) ? `${a.slice(0, a.indexOf('=') + 1)}…` : /[\s'"$]/.test(a) ? `'${a.replaceAll("'", "'\\''")}'` : a))
    .join(' ');
}
