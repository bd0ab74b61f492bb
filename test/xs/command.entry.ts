import './shims.js';
import { serve } from './bridge.js';
import { commandCases, runCommandCase } from '../portable/command-cases.js';
import { attackCases, runAttackCase, runAttackProperties, submitForeign } from '../portable/command-attacks.js';
import { runCommandProperties } from '../portable/command-properties.js';
import { runCoseVector, sigVectorMismatches } from '../portable/ed25519-vectors.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';

serve({
  caseNames: () => commandCases().map((k) => `${k.expect}: ${k.name}`),
  run: (i: number) => runCommandCase(i),
  attackNames: () => attackCases().map((k) => `${k.item}. ${k.expect}: ${k.name}`),
  attack: (i: number) => runAttackCase(i),
  attackProperties: (seed: number, numRuns: number) => runAttackProperties(seed, numRuns),
  foreign: (hex: string, soft: boolean) => submitForeign(hex, soft),
  sigVectorMismatches: () => sigVectorMismatches(ed25519Verify),
  cose: () => runCoseVector(ed25519Verify),
  properties: (seed: number, numRuns: number) => runCommandProperties(seed, numRuns),
});
