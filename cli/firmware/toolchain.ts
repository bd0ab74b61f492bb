/**
 * What a firmware build or run needs on this machine, found the way the tools themselves find them:
 * `$MODDABLE`, the SDK's tools in `$MODDABLE/build/bin/lin/release` (added to PATH for the build),
 * TypeScript from this checkout's node_modules (mcconfig runs `tsc` per module), and per platform the
 * rest. Each missing piece comes with how to get it.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type Platform = 'esp32' | 'lin';

/** PATH for the tools: the SDK's tools and this checkout's tsc first. */
export function toolPath(env: NodeJS.ProcessEnv): string {
  const dirs = [join(ROOT, 'node_modules', '.bin')];
  if (env['MODDABLE']) dirs.unshift(join(env['MODDABLE'], 'build', 'bin', 'lin', 'release'));
  return [...dirs, env['PATH'] ?? ''].join(delimiter);
}

export function which(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

const DEBIAN = 'apt-get install gcc make git libncurses-dev flex bison gperf libgtk-3-dev libsodium-dev xvfb xauth socat';

/** What `vigil firmware build` needs; empty when all is there. `jsOnly`: the esp32 build's JavaScript half only. */
export function missingToolchain(env: NodeJS.ProcessEnv, platform: Platform = 'esp32', jsOnly = false): string[] {
  const missing: string[] = [];
  const path = toolPath(env);
  if (!env['MODDABLE'] || !existsSync(join(env['MODDABLE'], 'build'))) {
    missing.push('$MODDABLE must point at a Moddable SDK 8.2.x checkout (https://github.com/Moddable-OpenSource/moddable, documentation/Moddable SDK - Getting Started.md; in this repository, bash .ci/moddable-sdk prints one)');
  } else if (which('mcconfig', path) === undefined) {
    missing.push('the Moddable tools are not built: export MODDABLE, then make -C $MODDABLE/build/makefiles/lin (or bash .ci/moddable-sdk)');
  }
  if (which('tsc', path) === undefined) missing.push('tsc: mcconfig runs it for the TypeScript modules (npm ci in this checkout installs typescript 5.9.3)');
  if (platform === 'lin') {
    if (which('gcc', path) === undefined) missing.push(`gcc (${DEBIAN})`);
    if (!existsSync('/usr/include/sodium.h')) missing.push(`libsodium-dev: the Ed25519 module links the system libsodium on Linux (${DEBIAN})`);
    if (!existsSync('/usr/include/gtk-3.0')) missing.push(`libgtk-3-dev: Moddable's Linux runtime is a GTK app (${DEBIAN})`);
  } else if (jsOnly) {
    for (const tool of ['make', 'git']) if (which(tool, path) === undefined) missing.push(`${tool} (${DEBIAN})`);
  } else if (!env['IDF_PATH'] || !existsSync(env['IDF_PATH'])) {
    missing.push('$IDF_PATH must point at ESP-IDF 6.0, set up with its export.sh (documentation/devices/esp32.md in the SDK); --js-only builds the JavaScript half without it');
  }
  return missing;
}

/** What `vigil firmware run` needs beyond a built Linux firmware. */
export function missingRuntime(env: NodeJS.ProcessEnv): string[] {
  const path = toolPath(env);
  const missing: string[] = [];
  if (!env['MODDABLE'] || which('mcsim', path) === undefined) missing.push('mcsim, Moddable\'s Linux simulator app: export MODDABLE and build the tools (bash .ci/moddable-sdk)');
  for (const tool of ['xvfb-run', 'socat', 'stdbuf']) if (which(tool, path) === undefined) missing.push(`${tool} (${DEBIAN})`);
  return missing;
}
