/**
 * Times Vigil's native Ed25519 verify (libsodium through the XS binding) on Moddable's runtime, with
 * RFC 8032 test 2 as the valid case and the same signature with one bit flipped as the refused one.
 * Prints one line per case for bench/moddable.bench.ts: "vigil-bench <case> <calls> <ms> <true results>".
 */
import Time from 'time';
import verify from 'vigil/ed25519';

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const PUB = hex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
const MSG = hex('72');
const SIG = hex('92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00');
const BAD = SIG.slice();
BAD[5] = BAD[5]! ^ 1;

function time(name: string, sig: Uint8Array, calls: number): void {
  let yes = 0;
  const t0 = Time.ticks;
  for (let i = 0; i < calls; i++) if (verify(sig, MSG, PUB)) yes++;
  trace(`vigil-bench ${name} ${calls} ${Time.ticks - t0} ${yes}\n`);
}

time('warm-up', SIG, 50);
time('valid', SIG, 4000);
time('refused', BAD, 4000);
trace('vigil-bench done\n');
