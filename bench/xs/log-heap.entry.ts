// XS bench bundle: the vitals log alone on the emulator, to measure its heap.
import { serve } from '../../test/xs/bridge.js';
import { openLog, type VitalsLog } from '../../firmware/core/log/index.js';
import { encodeBatch } from '../../firmware/core/vitals/index.js';
import { NorFlash } from '../../firmware/platform/node/nor-flash.js';
import { bootIdFor } from '../../test/portable/log-harness.js';
import { sampleBatch } from '../../test/portable/vitals-samples.js';

let flash: NorFlash | undefined;
let log: VitalsLog | undefined;
const batch = encodeBatch(sampleBatch('monitor', 5));

serve({
  gc: () => ((globalThis as { gc?: () => void }).gc?.(), true),
  makeFlash: (sectors: number) => ((flash = new NorFlash({ sectors })), true),
  open: (boot: number) => ((log = openLog(flash!, bootIdFor(boot))), true),
  append: (n: number) => {
    for (let i = 0; i < n; i++) log!.append(batch);
    return true;
  },
  drain: (n: number) => {
    let k = 0;
    for (let r = log!.next(); r && k < n; r = log!.next()) k++;
    return k;
  },
});
