/**
 * What `vigil flash` runs, as data (docs/provisioning.md, "Flashing"): the site image built and written
 * by the Moddable SDK's own tools (mcconfig → ESP-IDF), then the gateway's bundle written to its
 * `vigilcfg` partition by Espressif's esptool. Nothing here touches a port; flash.ts in commands/ runs it.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANIFEST } from './plan.js';
import { ROOT } from './toolchain.js';

export const PARTITIONS = join(ROOT, 'firmware/platform/moddable/partitions.csv');

/** A partition of partitions.csv by name: its offset and size in bytes. */
export function partition(name: string, csv = readFileSync(PARTITIONS, 'utf8')): { offset: number; size: number } {
  for (const line of csv.split('\n')) {
    const cells = line.split('#')[0]!.split(',').map((c) => c.trim());
    if (cells[0] === name) return { offset: Number(cells[3]), size: Number(cells[4]) };
  }
  throw new Error(`no partition "${name}" in ${PARTITIONS}`);
}

/** The bundle as the firmware reads the partition (esp32/bundle.ts): a 4-byte big-endian length, then the bundle. */
export function partitionImage(bundle: Uint8Array, size: number): Uint8Array {
  if (bundle.length + 4 > size) throw new Error(`the bundle (${bundle.length} bytes) does not fit the ${size}-byte vigilcfg partition`);
  const image = new Uint8Array(4 + bundle.length);
  new DataView(image.buffer).setUint32(0, bundle.length);
  image.set(bundle, 4);
  return image;
}

export interface FlashRequest {
  readonly port: string;
  readonly site: string;
  readonly rootKey: string;
  readonly out: string;
  readonly bundleOnly: boolean;
}

export interface FlashPlan {
  /** Each step: environment to add, then the command. */
  readonly steps: ReadonlyArray<{ readonly env: Readonly<Record<string, string>>; readonly argv: readonly string[] }>;
  /** The partition image vigil writes before the esptool step. */
  readonly image: string;
  readonly offset: number;
}

export function flashPlan(r: FlashRequest): FlashPlan {
  const out = resolve(r.out);
  const { offset } = partition('vigilcfg');
  const image = join(out, 'vigilcfg.bin');
  type Step = FlashPlan['steps'][number];
  const firmware: Step[] = r.bundleOnly
    ? []
    : [
        { env: {}, argv: ['mkdir', '-p', out] },
        // release build, written over UPLOAD_PORT; "-t deploy" flashes without starting the xsbug debugger
        { env: { UPLOAD_PORT: r.port }, argv: ['mcconfig', '-m', '-p', 'esp32', '-t', 'deploy', '-o', out, MANIFEST, `site=${r.site}`, `rootKey=${r.rootKey}`, 'siteImage=1'] },
      ];
  return {
    steps: [...firmware, { env: {}, argv: ['esptool.py', '--chip', 'esp32', '--port', r.port, '--baud', '460800', 'write_flash', `0x${offset.toString(16)}`, image] }],
    image,
    offset,
  };
}

/** Serial ports where an ESP32 on USB shows up on Linux, most specific first (by-id names say which board). */
export function serialPorts(list: (dir: string) => string[], exists: (path: string) => boolean): string[] {
  const byId = list('/dev/serial/by-id').map((f) => `/dev/serial/by-id/${f}`);
  const raw = list('/dev').filter((f) => /^tty(USB|ACM)\d+$/.test(f)).map((f) => `/dev/${f}`).sort();
  return [...byId, ...raw].filter(exists);
}
