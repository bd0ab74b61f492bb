/**
 * NOR flash kept in a file, for simulated gateways that keep their vitals log across restarts.
 * Same semantics as the chip and as NorFlash (erase to 0xFF, writes only clear bits, aligned units,
 * erase counts), checked by the same contract suite. Erase counts live beside it in `<file>.wear`.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, writeFileSync, writeSync, ftruncateSync, fstatSync } from 'node:fs';
import { FlashError, type Flash } from '../../core/log/flash.js';

export class FileFlash implements Flash {
  readonly byteLength: number;
  readonly writeUnit: number;
  readonly eraseCounts: Uint32Array;
  private readonly fd: number;

  constructor(
    private readonly path: string,
    sectors: number,
    readonly sectorSize = 4096,
    writeUnit = 4,
  ) {
    this.byteLength = sectors * sectorSize;
    this.writeUnit = writeUnit;
    const fresh = !existsSync(path);
    this.fd = openSync(path, fresh ? 'w+' : 'r+');
    const size = fstatSync(this.fd).size;
    if (!fresh && size !== this.byteLength) {
      closeSync(this.fd);
      throw new FlashError('out-of-range', `${path} holds ${size} bytes, expected ${this.byteLength} (${sectors} sectors of ${sectorSize})`);
    }
    if (fresh) {
      ftruncateSync(this.fd, this.byteLength);
      const erased = new Uint8Array(sectorSize).fill(0xff);
      for (let s = 0; s < sectors; s++) writeSync(this.fd, erased, 0, sectorSize, s * sectorSize);
      fsyncSync(this.fd);
    }
    this.eraseCounts = new Uint32Array(sectors);
    const wear = `${path}.wear`;
    if (existsSync(wear)) {
      const counts = JSON.parse(readFileSync(wear, 'utf8')) as number[];
      counts.forEach((c, i) => (this.eraseCounts[i] = c));
    }
  }

  read(offset: number, length: number): Uint8Array {
    this.range(offset, length);
    const out = new Uint8Array(length);
    readSync(this.fd, out, 0, length, offset);
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    this.range(offset, data.length);
    if (offset % this.writeUnit !== 0 || data.length % this.writeUnit !== 0) {
      throw new FlashError('misaligned', `writes are in ${this.writeUnit}-byte units: offset ${offset}, length ${data.length}`);
    }
    const current = this.read(offset, data.length);
    for (let i = 0; i < data.length; i++) current[i] = current[i]! & data[i]!; // NOR: a write only clears bits
    writeSync(this.fd, current, 0, current.length, offset);
  }

  erase(sector: number): void {
    if (!Number.isInteger(sector) || sector < 0 || sector * this.sectorSize >= this.byteLength) {
      throw new FlashError('out-of-range', `no sector ${sector}`);
    }
    writeSync(this.fd, new Uint8Array(this.sectorSize).fill(0xff), 0, this.sectorSize, sector * this.sectorSize);
    this.eraseCounts[sector]!++;
    writeFileSync(`${this.path}.wear`, JSON.stringify([...this.eraseCounts]));
  }

  sync(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  private range(offset: number, length: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.byteLength) {
      throw new FlashError('out-of-range', `bytes ${offset}..${offset + length} are outside 0..${this.byteLength}`);
    }
  }
}
