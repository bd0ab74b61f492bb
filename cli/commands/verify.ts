import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { acceptTrustList, createCommandGate, NONCE_BYTES, type SettingValue } from '../../firmware/core/command/index.js';
import { toHex } from '../../firmware/core/hex.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { loadGateState, saveGateState } from '../../firmware/platform/node/gate-state-file.js';
import { loadProfile } from '../../firmware/platform/node/profiles.js';
import { parsePublicKey } from '../../host/signing/keys.js';
import { assignments, numberOrText, required, wholeNumber } from '../args.js';
import { UsageError, type Command } from '../command.js';

/**
 * Runs exactly the gateway's check on one command: the core gate with the pure-TS verifier. Carries out
 * the gate's effects as the gateway would: the state file is written (atomically) before "forward".
 */
export const verifyCommand: Command = {
  name: 'verify',
  summary: "check one signed command exactly as the gateway does; prints a JSON verdict, exit 0 accepted / 1 rejected",
  usage:
    'vigil verify --trust <file> --root <pubkey> --gateway <id> --device <serial> --profile <model> --state <file>\n' +
    '             [--current <name>=<value> …] [--now <unix seconds>] <command file>',
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: {
        trust: { type: 'string' },
        root: { type: 'string' },
        gateway: { type: 'string' },
        device: { type: 'string' },
        profile: { type: 'string' },
        state: { type: 'string' },
        current: { type: 'string', multiple: true },
        now: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one command file');
    const rootKey = parsePublicKey(required(values.root, '--root'));
    const profile = loadProfile(required(values.profile, '--profile'));
    const statePath = required(values.state, '--state');
    const trustBytes = new Uint8Array(readFileSync(required(values.trust, '--trust')));
    const commandBytes = new Uint8Array(readFileSync(positionals[0]!));
    const nowUnix = values.now === undefined ? Math.floor(Date.now() / 1000) : wholeNumber(values.now, '--now');
    const current = new Map<string, SettingValue>(assignments(values.current, '--current').map(([k, v]) => [k, numberOrText(v)]));

    const trust = acceptTrustList(trustBytes, rootKey, undefined, ed25519Verify);
    if (!trust.ok) throw new UsageError(`the trust list is refused (${trust.error.type}): ${trust.error.detail}`);
    const gate = createCommandGate(
      { gateway: required(values.gateway, '--gateway'), serial: required(values.device, '--device'), profile, verify: ed25519Verify },
      loadGateState(statePath),
      trust.value,
    );
    const decision = gate.submit({ bytes: commandBytes, nowUnix, nowMs: 0, current, freshNonce: new Uint8Array(randomBytes(NONCE_BYTES)) });
    let forwarded: Record<string, SettingValue> | undefined;
    for (const e of decision.effects) {
      if (e.type === 'persist-state') saveGateState(statePath, e.state);
      else if (e.type === 'forward') forwarded = Object.fromEntries(e.settings);
    }
    const line = decision.accepted
      ? { verdict: 'accepted', counter: decision.claims.counter, orderId: decision.claims.orderId, clinician: decision.claims.clinician, signers: decision.signers.map((s) => s.person), forward: forwarded, nonce: toHex(gate.state.nonce) }
      : { verdict: 'rejected', reason: decision.reason, detail: decision.detail };
    console.log(JSON.stringify(line));
    return decision.accepted ? 0 : 1;
  },
};
