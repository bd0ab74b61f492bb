/**
 * ESP32: the flash port over Moddable's `Flash` on the `vitals` data partition (partitions.csv). Writes on
 * the ESP32 are synchronous, so `sync` has nothing to wait for. Note: @moddable/typings declares a
 * `(offset, byteLength)` constructor and a `map()` that the ESP32 `Flash` does not take from JS;
 * only the partition-name form is used here.
 */
import { toArrayBuffer } from 'vigil/platform/bytes';
import Flash from 'flash';
import type { Flash as FlashPort } from 'vigil/core/log/flash';

const WRITE_UNIT = 4;

export class PartitionFlash implements FlashPort {
  readonly byteLength: number;
  readonly sectorSize: number;
  readonly writeUnit = WRITE_UNIT;
  private readonly flash: Flash;

  constructor(partition: string) {
    this.flash = new Flash(partition);
    this.byteLength = this.flash.byteLength;
    this.sectorSize = this.flash.blockSize;
  }

  read(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.flash.read(offset, length) as ArrayBuffer);
  }

  write(offset: number, data: Uint8Array): void {
    this.flash.write(offset, data.length, toArrayBuffer(data));
  }

  erase(sector: number): void {
    this.flash.erase(sector);
  }

  sync(): void {}
}

/** The vitals log's flash: the `vitals` partition. */
export function openFlash(): FlashPort {
  return new PartitionFlash('vitals');
}
