import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { encodeTrustPayload, signTrustList, type Signer, type TrustListContent } from '../../firmware/core/command/index.js';
import { toHex } from '../../firmware/core/hex.js';
import { createHash } from 'node:crypto';
import { DEFAULT_COSIGN, DEFAULT_GRANTS, defaultPerson } from '../../host/signing/grants.js';
import { checkNewer, LedgerError, newestVersion, readLedger, recordTrustList, versionOf, type LedgerEntry } from '../../host/signing/trust-ledger.js';
import { kidOf, loadSigningKey, parsePublicKey } from '../../host/signing/keys.js';
import { afterVerb, assignments, required, wholeNumber } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { hostRequest, signInToHost } from '../host-client.js';

export const trustCommand: Command = {
  name: 'trust',
  summary: 'build the root-signed trust list (signer keys with roles, key epoch, revocations); publish it through the running host',
  usage:
    'vigil trust build --root <key file> --signer <pubkey>:<role>[,<role>…][:<person>] … --epoch N --out <file>\n' +
    '                  [--revoke <pubkey>] … [--grant <role>=<kind.setting>[,…]] … [--cosign <role>=<kind.setting>[,…]] …\n' +
    '                  [--site <id>] [--issued <unix seconds>] [--previous <trust file>]\n' +
    '  The list must be newer, by (epoch, issued), than every list this root key signed (<root>.ledger),\n' +
    '  than --previous and than an existing --out; without --issued, the issue time is now, or one\n' +
    '  second after the newest list at the same epoch.\n' +
    'vigil trust publish <file> --host <http://host:port> --user <admin>   (password from VIGIL_PASSWORD)\n' +
    '  The host checks it as a gateway does (root-signed, this site, newer than the list in force), puts it in\n' +
    '  force, saves it as its trust.cose and publishes it retained: every gateway moves to it at once.',
  async run(args) {
    if (args[0] === 'publish') return publishTrust(args.slice(1));
    const rest = afterVerb(args, 'trust', 'build');
    const { values } = parseArgs({
      args: rest,
      options: {
        root: { type: 'string' },
        signer: { type: 'string', multiple: true },
        revoke: { type: 'string', multiple: true },
        grant: { type: 'string', multiple: true },
        cosign: { type: 'string', multiple: true },
        previous: { type: 'string' },
        epoch: { type: 'string' },
        site: { type: 'string' },
        issued: { type: 'string' },
        out: { type: 'string' },
      },
      strict: true,
    });
    const rootPath = required(values.root, '--root');
    const root = loadSigningKey(rootPath);
    const epoch = wholeNumber(values.epoch, '--epoch');
    const out = required(values.out, '--out');
    // what this key signed before, and the lists gateways may hold: the new one must be newer than all
    const known: LedgerEntry[] = [...readLedger(rootPath)];
    for (const [file, option] of [[values.previous, '--previous'], [existsSync(out) ? out : undefined, '--out']] as const) {
      if (file === undefined) continue;
      const v = versionOf(new Uint8Array(readFileSync(file)));
      if (v === undefined) throw new UsageError(`${option} ${file} is not a signed trust list`);
      known.push(v);
    }
    const sameEpoch = newestVersion(known.filter((k) => k.epoch === epoch));
    const now = Math.floor(Date.now() / 1000);
    const issued = values.issued !== undefined ? wholeNumber(values.issued, '--issued') : Math.max(now, sameEpoch === undefined ? 0 : sameEpoch.issued + 1);
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
    const cosign = new Map(DEFAULT_COSIGN);
    for (const [role, list] of assignments(values.cosign, '--cosign')) cosign.set(role, list.split(',').filter((x) => x !== ''));
    for (const s of signers) for (const r of s.roles) if (!grants.has(r)) console.error(`warning: role "${r}" has no grants; ${s.person} can sign nothing with it`);
    const content: TrustListContent = { site: values.site ?? 'vigil', epoch, issued, signers, revoked: (values.revoke ?? []).map(parsePublicKey), grants, cosign };
    try {
      checkNewer({ epoch, issued, payload: createHash('sha256').update(encodeTrustPayload(content)).digest('hex') }, known);
    } catch (e) {
      if (e instanceof LedgerError) throw new UsageError(e.message);
      throw e;
    }
    const bytes = signTrustList(content, root);
    recordTrustList(rootPath, bytes); // durable before the list exists anywhere else
    writeFileSync(out, bytes);
    console.error(`wrote ${out}: trust list epoch ${epoch} issued ${issued}, ${signers.length} signer(s), ${(values.revoke ?? []).length} revoked, signed by root kid ${toHex(root.kid)}`);
    return 0;
  },
};

async function publishTrust(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], options: { host: { type: 'string' }, user: { type: 'string' } }, allowPositionals: true, strict: true });
  const file = positionals[0];
  if (file === undefined || positionals.length !== 1) throw new UsageError('name one trust list file (from vigil trust build)');
  if (!existsSync(file)) throw new UsageError(`no trust list at ${file}`);
  const base = required(values.host, '--host').replace(/\/$/, '');
  const token = await signInToHost(base, required(values.user, '--user'));
  const r = await hostRequest(base, token, 'PUT', '/api/trust', { trust: readFileSync(file).toString('base64') });
  if (r.status !== 200) {
    console.error(`vigil trust publish: the host refused ${file} (${r.status}): ${String(r.json['error'] ?? '')}`);
    return 1;
  }
  console.error(`vigil trust publish: epoch ${String(r.json['epoch'])} in force at ${base} and published to every gateway (${String(r.json['signers'])} signers, ${String(r.json['revoked'])} revoked)`);
  return 0;
}
