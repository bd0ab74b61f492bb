/** `npm run bench`: every benchmark, each reported as a ratio against a reference in the same run. */
import { benchCbor } from './cbor.bench.js';
import { benchHost } from './host.bench.js';
import { benchLog } from './log.bench.js';
import { benchModdable } from './moddable.bench.js';
import { benchStation } from './station.bench.js';
import { benchVerify } from './verify.bench.js';
import { benchWard } from './ward.bench.js';

const sections: ReadonlyArray<readonly [string, () => string | Promise<string>]> = [
  ['cbor', benchCbor],
  ['verify', benchVerify],
  ['log', benchLog],
  ['host', benchHost],
  ['ward', benchWard],
  ['moddable', benchModdable],
  ['station', benchStation],
];

const only = process.argv.slice(2);
for (const [name, run] of sections) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n== ${name} ==\n${await run()}`);
}
