/**
 * NOR flash semantics over a plain byte file, for the Linux build (which has no flash partition): erase
 * sets a sector to 0xFF, a write can only clear bits (the stored byte becomes old AND new), offsets and
 * lengths are checked as on the chip. The file is created erased at its full size. No Moddable
 * imports: the byte file is given (lin/flash.ts wraps Moddable's `File`), so the flash contract suite
 * runs this in Node too.
 */
import { FlashError, type Flash } from 'vigil/core/log/flash';

export interface ByteFile {
  read(offset: number, length: number): Uint8Array;
  write(offset: number, bytes: Uint8Array): void;
  /** Makes earlier writes durable. */
  flush(): void;
}

export class NorFile implements Flash {
  readonly byteLength: number;

  constructor(
    private readonly file: ByteFile,
    sectors: number,
    readonly sectorSize = 4096,
    readonly writeUnit = 4,
  ) {
    this.byteLength = sectors * sectorSize;
  }

  private check(offset: number, length: number, aligned: boolean): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.byteLength) {
      throw new FlashError('out-of-range', `flash: ${length} bytes at ${offset} are outside 0..${this.byteLength}`);
    }
    if (aligned && (offset % this.writeUnit !== 0 || length % this.writeUnit !== 0)) {
      throw new FlashError('misaligned', `flash: writes are in units of ${this.writeUnit} bytes (${length} at ${offset})`);
    }
  }

  read(offset: number, length: number): Uint8Array {
    this.check(offset, length, false);
    return this.file.read(offset, length);
  }

  write(offset: number, data: Uint8Array): void {
    this.check(offset, data.length, true);
    const old = this.file.read(offset, data.length);
    const next = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) next[i] = old[i]! & data[i]!;
    this.file.write(offset, next);
  }

  erase(sector: number): void {
    if (!Number.isInteger(sector) || sector < 0 || sector * this.sectorSize >= this.byteLength) throw new FlashError('out-of-range', `flash: no sector ${sector}`);
    this.file.write(sector * this.sectorSize, new Uint8Array(this.sectorSize).fill(0xff));
  }

  sync(): void {
    this.file.flush();
  }
}
