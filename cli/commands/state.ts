import { parseArgs } from 'node:util';
import { loadGateState, toJson } from '../../firmware/platform/node/gate-state-file.js';
import { required } from '../args.js';
import type { Command } from '../command.js';

export const stateCommand: Command = {
  name: 'state',
  summary: "print a gateway's command state as JSON (last counter, current challenge nonce); creates a fresh one if missing",
  usage: 'vigil state --state <file>',
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: { state: { type: 'string' } }, strict: true });
    console.log(JSON.stringify(toJson(loadGateState(required(values.state, '--state')))));
    return 0;
  },
};
