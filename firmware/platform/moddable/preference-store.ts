/**
 * The key-value store port over Moddable's Preference (NVS): keys up to 15 characters, ArrayBuffer
 * values up to 4000 bytes; `set` returns once NVS has committed the value.
 */
import { toArrayBuffer } from 'vigil/platform/bytes';
import Preference from 'preference';
import type { KeyValueStore } from 'vigil/core/gateway/ports';

const DOMAIN = 'vigil';

export class PreferenceStore implements KeyValueStore {
  get(key: string): Uint8Array | undefined {
    const v = Preference.get(DOMAIN, key);
    return v instanceof ArrayBuffer ? new Uint8Array(v) : undefined;
  }

  set(key: string, value: Uint8Array): void {
    Preference.set(DOMAIN, key, toArrayBuffer(value));
  }
}
