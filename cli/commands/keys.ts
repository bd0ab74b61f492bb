import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toHex } from '../../firmware/core/hex.js';
import { defaultPerson } from '../../host/signing/grants.js';
import { MIN_PASSPHRASE, readProtectedKey, writeProtectedKey } from '../../host/signing/keyring.js';
import { KeyError, kidOf, newKeyPair } from '../../host/signing/keys.js';
import { afterVerb, required } from '../args.js';
import { UsageError, type Command } from '../command.js';

/**
 * `keys new`: a PKCS#8 PEM key for a clinician's own custody (`vigil sign --key`).
 * `keys enrol`: a key in the site's keyring for the host to sign with, encrypted under the person's
 * own signing passphrase, typed by that person on stdin; `--from` protects an existing PEM key.
 */
export const keysCommand: Command = {
  name: 'keys',
  summary: 'make a signing key: "keys new" writes a PKCS#8 PEM key; "keys enrol" puts one in the site keyring under its person\'s passphrase',
  usage: 'vigil keys new --role <role> --out <file> [--force]\n  vigil keys enrol <person> --role <role> [--data-dir .vigil] [--from <pem>] < passphrase',
  async run(args) {
    return args[0] === 'enrol' ? enrol(args) : keysNew(args);
  },
};

function keysNew(args: readonly string[]): number {
  const rest = afterVerb(args, 'keys', 'new');
  const { values } = parseArgs({ args: rest, options: { role: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } }, strict: true });
  const role = required(values.role, '--role');
  const out = required(values.out, '--out');
  const { pem, publicKey } = newKeyPair();
  try {
    writeFileSync(out, pem, { mode: 0o600, flag: values.force ? 'w' : 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${out} exists; a key is never overwritten without --force`);
    throw e;
  }
  const pub = toHex(publicKey);
  const kid = toHex(kidOf(publicKey));
  console.log(pub);
  console.error(`wrote ${out} (PKCS#8 PEM, mode 0600)\nkid ${kid}, person ${defaultPerson(kid)} unless the trust list names one\nenrol it: vigil trust build ... --signer ${pub}:${role}[:<person>]`);
  return 0;
}

function enrol(args: readonly string[]): number {
  const rest = afterVerb(args, 'keys', 'enrol');
  const { values, positionals } = parseArgs({ args: rest, options: { role: { type: 'string' }, 'data-dir': { type: 'string' }, from: { type: 'string' } }, allowPositionals: true, strict: true });
  const person = positionals[0];
  if (person === undefined || !/^[a-z0-9][a-z0-9._-]{0,47}$/.test(person)) throw new UsageError('name the person: a-z, 0-9, ".", "_", "-" (as the trust list names them)');
  const role = required(values.role, '--role');
  const passphrase = readFileSync(0, 'utf8').split('\n')[0] ?? '';
  if (passphrase.length < MIN_PASSPHRASE) throw new UsageError(`${person} types their own signing passphrase on stdin: at least ${MIN_PASSPHRASE} characters`);
  const pem = values.from === undefined ? newKeyPair().pem : readFileSync(values.from);
  let path: string;
  try {
    path = writeProtectedKey(join(values['data-dir'] ?? '.vigil', 'keyring'), person, pem, passphrase);
  } catch (e) {
    if (e instanceof KeyError) throw new UsageError(e.message);
    throw e;
  }
  const pub = toHex(readProtectedKey(path).publicKey);
  console.log(pub);
  console.error(`wrote ${path} (encrypted under ${person}'s passphrase)${values.from === undefined ? '' : `; delete ${values.from} once the host starts with it`}\nenrol it in the trust list: vigil trust build ... --signer ${pub}:${role}:${person}`);
  return 0;
}
