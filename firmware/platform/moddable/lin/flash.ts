/**
 * Linux (Moddable's simulator runtime): the vitals log's flash is a file with NOR semantics (nor-file.ts),
 * `flashFile` in the config (default /tmp/vigil-vitals.flash), `flashSectors` sectors of 4 KB (default
 * 240: the ESP32 partition's 960 KB). Created erased on first use; kept across restarts, so a power
 * cut (the process killed) leaves what a chip would.
 */
import { File } from 'file';
import config from 'mc/config';
import type { Flash } from 'vigil/core/log/flash';
import { toArrayBuffer } from 'vigil/platform/bytes';
import { NorFile, type ByteFile } from 'vigil/platform/nor-file';

const SECTOR = 4096;

function byteFile(path: string, size: number): ByteFile {
  if (!File.exists(path) || new File(path).length !== size) {
    const f = new File(path, true);
    const erased = new Uint8Array(SECTOR).fill(0xff);
    f.position = 0;
    for (let at = 0; at < size; at += SECTOR) f.write(toArrayBuffer(erased));
    f.close();
  }
  const file = new File(path, true);
  return {
    read(offset, length) {
      file.position = offset;
      return new Uint8Array(file.read(ArrayBuffer, length));
    },
    write(offset, bytes) {
      file.position = offset;
      file.write(toArrayBuffer(bytes));
    },
    flush() {
      // nothing to do: Moddable's File on Linux calls fflush after every write, so the bytes are the
      // OS's as soon as write returns, and a killed process leaves what a chip would
    },
  };
}

export function openFlash(): Flash {
  const c = config as unknown as { flashFile?: string; flashSectors?: number };
  const sectors = c.flashSectors ?? 240;
  return new NorFile(byteFile(c.flashFile ?? '/tmp/vigil-vitals.flash', sectors * SECTOR), sectors, SECTOR, 4);
}
