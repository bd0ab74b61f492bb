import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { renderReport } from '../../simulator/fleet/report.js';
import { runSimulation } from '../../simulator/fleet/run.js';
import { builtInScenarios, duration, loadScenario, ScenarioError } from '../../simulator/fleet/scenario.js';
import { wholeNumber } from '../args.js';
import { UsageError, type Command } from '../command.js';

/**
 * `vigil sim`: a ward of simulated bedsides (the real firmware core on the Node platform) against the
 * real host, through a scenario of faults and attacks, ending in a report whose invariants set the
 * exit code: 0 all hold, 1 one is broken, 2 usage.
 */
export const simCommand: Command = {
  name: 'sim',
  summary: 'simulate a ward of gateways through a scenario (outages, power cuts, attacks) and report loss, drains and blocked attacks',
  usage:
    'vigil sim [--scenario ward|outage|power|attack|soak|drill|<file.json|.yaml>] [--gateways N] [--seed N] [--speed N | --realtime]\n' +
    '          [--duration 10m] [--data-dir <dir>] [--host http://host:8080 --broker mqtt://host:1883 --data-dir <its site>]\n' +
    '          [--workers N] [--json <file>|-] [--quiet]',
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        scenario: { type: 'string' },
        gateways: { type: 'string' },
        seed: { type: 'string' },
        speed: { type: 'string' },
        realtime: { type: 'boolean' },
        duration: { type: 'string' },
        'data-dir': { type: 'string' },
        host: { type: 'string' },
        broker: { type: 'string' },
        workers: { type: 'string' },
        json: { type: 'string' },
        quiet: { type: 'boolean' },
      },
      strict: true,
    });
    let scenario;
    try {
      scenario = loadScenario(values.scenario ?? 'ward');
    } catch (e) {
      if (e instanceof ScenarioError) throw new UsageError(`${e.message}\n(built in: ${builtInScenarios().join(', ')}; docs/simulator.md gives the file format)`);
      throw e;
    }
    if ((values.host === undefined) !== (values.broker === undefined)) throw new UsageError('--host and --broker go together: the running host\'s API and its broker');
    if (values.realtime === true && values.speed !== undefined) throw new UsageError('--realtime is --speed 1: give one of them');
    const speed = values.realtime === true ? 1 : values.speed === undefined ? undefined : wholeNumber(values.speed, '--speed', 1);
    let seconds: number | undefined;
    try {
      seconds = values.duration === undefined ? undefined : duration(values.duration, '--duration');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const json = values.json;
    const quiet = values.quiet === true || json === '-';
    const tty = process.stderr.isTTY && !quiet;
    const stop = new AbortController();
    const interrupt = () => {
      console.error('\nstopping: the ward settles and reports (Ctrl-C again ends at once)');
      stop.abort();
      process.once('SIGINT', () => process.exit(130));
    };
    process.once('SIGINT', interrupt);
    try {
      const report = await runSimulation({
        scenario,
        ...(values.gateways === undefined ? {} : { gateways: wholeNumber(values.gateways, '--gateways', 1) }),
        ...(values.seed === undefined ? {} : { seed: wholeNumber(values.seed, '--seed') }),
        ...(speed === undefined ? {} : { speed }),
        ...(seconds === undefined ? {} : { duration: seconds }),
        ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
        ...(values.host === undefined ? {} : { external: { hostUrl: values.host, brokerUrl: values.broker! } }),
        ...(values.workers === undefined ? {} : { workers: wholeNumber(values.workers, '--workers', 1) }),
        stop: stop.signal,
        log: (line) => !quiet && console.error(line),
        ...(tty ? { progress: (line: string) => process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`) } : {}),
      });
      if (tty) process.stderr.write('\r\x1b[2K');
      if (json === '-') console.log(JSON.stringify(report, null, 2));
      else {
        if (json !== undefined) writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
        console.log(renderReport(report));
      }
      return report.ok ? 0 : 1;
    } catch (e) {
      if (e instanceof ScenarioError) throw new UsageError(e.message);
      throw e;
    } finally {
      process.off('SIGINT', interrupt);
    }
  },
};
