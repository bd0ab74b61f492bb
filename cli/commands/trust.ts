import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signTrustList, type Signer } from '../../firmware/core/command/index.js';
import { toHex } from '../../firmware/core/hex.js';
import { DEFAULT_GRANTS, defaultPerson } from '../../host/signing/grants.js';
import { kidOf, loadSigningKey, parsePublicKey } from '../../host/signing/keys.js';
import { afterVerb, assignments, required, wholeNumber } from '../args.js';
import { UsageError, type Command } from '../command.js';

export const trustCommand: Command = {
  name: 'trust',
  summary: 'build the root-signed trust list: signer keys with roles, key epoch, revocations',
  usage:
    'vigil trust build --root <key file> --signer <pubkey>:<role>[,<role>…][:<person>] … --epoch N --out <file>\n' +
    '                  [--revoke <pubkey>] … [--grant <role>=<kind.setting>[,…]] … [--site <id>] [--issued <unix seconds>]',
  async run(args) {
    const rest = afterVerb(args, 'trust', 'build');
    const { values } = parseArgs({
      args: rest,
      options: {
        root: { type: 'string' },
        signer: { type: 'string', multiple: true },
        revoke: { type: 'string', multiple: true },
        grant: { type: 'string', multiple: true },
        epoch: { type: 'string' },
        site: { type: 'string' },
        issued: { type: 'string' },
        out: { type: 'string' },
      },
      strict: true,
    });
    const root = loadSigningKey(required(values.root, '--root'));
    const epoch = wholeNumber(values.epoch, '--epoch');
    const out = required(values.out, '--out');
    const issued = values.issued === undefined ? Math.floor(Date.now() / 1000) : wholeNumber(values.issued, '--issued');
    const signers: Signer[] = (values.signer ?? []).map((spec) => {
      const parts = spec.split(':');
      if (parts.length < 2 || parts.length > 3) throw new UsageError(`--signer expects <pubkey>:<role>[,<role>…][:<person>], got "${spec}"`);
      const key = parsePublicKey(parts[0]!);
      const roles = parts[1]!.split(',').filter((r) => r.length > 0);
      if (roles.length === 0) throw new UsageError(`--signer ${spec} names no role`);
      const kid = kidOf(key);
      return { kid, key, roles, person: parts[2] ?? defaultPerson(toHex(kid)) };
    });
    if (signers.length === 0) throw new UsageError('give at least one --signer');
    const grants = new Map(DEFAULT_GRANTS);
    for (const [role, list] of assignments(values.grant, '--grant')) grants.set(role, list.split(','));
    for (const s of signers) for (const r of s.roles) if (!grants.has(r)) console.error(`warning: role "${r}" has no grants; ${s.person} can sign nothing with it`);
    const bytes = signTrustList(
      { site: values.site ?? 'vigil', epoch, issued, signers, revoked: (values.revoke ?? []).map(parsePublicKey), grants },
      root,
    );
    writeFileSync(out, bytes);
    console.error(`wrote ${out}: trust list epoch ${epoch}, ${signers.length} signer(s), ${(values.revoke ?? []).length} revoked, signed by root kid ${toHex(root.kid)}`);
    return 0;
  },
};
