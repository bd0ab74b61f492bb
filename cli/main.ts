import { UsageError, type Command } from './command.js';
import { cborCommand } from './commands/cbor.js';
import { firmwareCommand } from './commands/firmware.js';
import { gatewayCommand } from './commands/gateway.js';
import { keysCommand } from './commands/keys.js';
import { signCommandCli } from './commands/sign.js';
import { simCommand } from './commands/sim.js';
import { startCommand } from './commands/start.js';
import { stateCommand } from './commands/state.js';
import { trustCommand } from './commands/trust.js';
import { verifyCommand } from './commands/verify.js';
import { auditCommand } from './commands/audit.js';
import { brokerConfigCommand } from './commands/broker-config.js';
import { hostCommand } from './commands/host.js';
import { provisionCommand } from './commands/provision.js';
import { siteCommand } from './commands/site.js';
import { userCommand } from './commands/user.js';
import { advisoriesCommand } from './commands/advisories.js';
import { fleetCommand } from './commands/fleet.js';
import { flashCommand } from './commands/flash.js';

/** Every subcommand; later parts of Vigil add theirs here. */
export const commands: readonly Command[] = [startCommand, simCommand, hostCommand, siteCommand, provisionCommand, flashCommand, userCommand, brokerConfigCommand, auditCommand, gatewayCommand, fleetCommand, advisoriesCommand, firmwareCommand, keysCommand, trustCommand, signCommandCli, stateCommand, verifyCommand, cborCommand];

export function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'vigil: bedside device safety gateway (firmware core, host service, ward simulator)',
    '',
    'Usage: vigil <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "vigil <command> --help" for the options of one command.',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(helpText());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    console.error(`vigil: unknown command "${name}"\n\n${helpText()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${command.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    const known = ['AdvisoryError', 'UsageError', 'KeyError', 'StateFileError', 'ProfileLoadError', 'SiteError', 'CredentialError', 'HostConfigError'];
    if (e instanceof UsageError || (e instanceof Error && known.includes(e.name)) || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`vigil ${name}: ${e.message}\nUsage: ${command.usage}`);
      return 2;
    }
    throw e;
  }
}

