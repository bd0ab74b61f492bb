/**
 * A deliberately broken build of the host, for test/sim/broken-build.test.ts: `vigil` with the ingest
 * changed to ack what it received *before* committing it (the commit follows a second later, as if
 * behind a slow disk). A host crash in that second loses records the gateways were told were safe, and
 * freed from their flash: the simulator's report must catch it. Never used outside that test.
 */
import { Ingest } from '../../host/ingest.js';
import { main } from '../../cli/main.js';

interface Internals {
  live: Array<{ gateway: string; parsed: { bootId: Uint8Array; seq: number } }>;
  history: Array<{ gateway: string; parsed: { bootId: Uint8Array; seq: number } }>;
  hooks: { ack(acks: Array<{ gateway: string; bootId: Uint8Array; through: number }>): void };
}

const commitLater = Ingest.prototype.flush;
Ingest.prototype.flush = function (this: Ingest) {
  const self = this as unknown as Internals;
  const through = new Map<string, { gateway: string; bootId: Uint8Array; through: number }>();
  for (const { gateway, parsed } of [...self.live, ...self.history]) {
    const key = `${gateway}/${Buffer.from(parsed.bootId).toString('hex')}`;
    const a = through.get(key);
    if (a === undefined || parsed.seq > a.through) through.set(key, { gateway, bootId: parsed.bootId, through: parsed.seq });
  }
  if (through.size > 0) self.hooks.ack([...through.values()]); // the bug: "safe" before it is
  setTimeout(() => commitLater.call(this), 1000);
};

process.exitCode = await main(process.argv.slice(2));
