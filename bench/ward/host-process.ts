/**
 * The host under test for `npm run bench -- ward`, in a process of its own so its CPU and memory are
 * its own: a fresh site, the host with its embedded broker (default settings), users. It prints one
 * JSON line (where it listens, its site files) and runs until stdin closes.
 */
import { makeSite, removeSite, startSiteHost } from '../../test/support/ward.js';

const { dir, paths } = makeSite('ward-bench');
const host = await startSiteHost(dir, paths);
process.stdout.write(`${JSON.stringify({ pid: process.pid, brokerUrl: host.brokerUrl, httpUrl: host.httpUrl, site: paths.site, passwdFile: paths.passwdFile, rootKey: Buffer.from(paths.rootPublicKey).toString('hex'), dir })}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await host.close();
  removeSite(dir);
  process.exit(0);
});
