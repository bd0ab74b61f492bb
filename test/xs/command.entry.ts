import './shims.js';
import { serve } from './bridge.js';
import { commandCases, runCommandCase } from '../portable/command-cases.js';
import { attackCases, runAttackCase, runAttackProperties, submitForeign } from '../portable/command-attacks.js';
import { runCommandProperties } from '../portable/command-properties.js';
import { runCoseVector, sigVectorMismatches } from '../portable/ed25519-vectors.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { openBundle } from '../../firmware/core/provision/bundle.js';
import { fromHex, toHex } from '../../firmware/core/hex.js';

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
  // a provisioning bundle opened as a site image opens it at boot; byte strings as hex for the bridge
  bundle: (hex: string, site: string, rootHex: string, minEpoch: number) => {
    const r = openBundle(fromHex(hex)!, site, fromHex(rootHex)!, ed25519Verify, minEpoch);
    return r.ok ? { ok: true, epoch: r.value.siteEpoch, gateway: r.value.bundle.gateway, broker: r.value.bundle.broker, root: toHex(r.value.bundle.rootKey), wifi: r.value.bundle.wifi ?? null } : { ok: false, error: r.error };
  },
});
