/** The XS side of the verify benchmark: one fixed RFC 8032 test vector, verified on command. */
import { serve } from '../../test/xs/bridge.js';
import { fromHex } from '../../firmware/core/hex.js';

// RFC 8032 §7.1 TEST 2: a one-byte message
const PUB = fromHex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c')!;
const MSG = fromHex('72')!;
const SIG = fromHex('92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00')!;

export function serveVerifyBench(verify: (s: Uint8Array, m: Uint8Array, p: Uint8Array) => boolean): void {
  serve({
    gc: () => {
      (globalThis as { gc?: () => void }).gc?.();
      return true;
    },
    verify: (times: number) => {
      let ok = 0;
      for (let i = 0; i < times; i++) if (verify(SIG, MSG, PUB)) ok++;
      return ok;
    },
  });
}
