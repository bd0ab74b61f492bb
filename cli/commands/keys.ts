import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { toHex } from '../../firmware/core/hex.js';
import { defaultPerson } from '../../host/signing/grants.js';
import { kidOf, newKeyPair } from '../../host/signing/keys.js';
import { afterVerb, required } from '../args.js';
import { UsageError, type Command } from '../command.js';

export const keysCommand: Command = {
  name: 'keys',
  summary: 'make a signing key: "keys new" writes a PKCS#8 PEM private key and prints the public key',
  usage: 'vigil keys new --role <role> --out <file> [--force]',
  async run(args) {
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
  },
};
