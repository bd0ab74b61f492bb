#!/usr/bin/env node
// The `vigil` command. Vigil is written in TypeScript; tsx compiles it on load so that the command
// works straight after `npm install`, with no build step to forget.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
// the command is done; a socket or timer some library left behind must not keep it running
setTimeout(() => process.exit(), 5000).unref();
