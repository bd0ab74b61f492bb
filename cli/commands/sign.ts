import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decode } from '../../firmware/core/cbor/index.js';
import { NONCE_BYTES, parseCose, signCommand, type RequestedSetting } from '../../firmware/core/command/index.js';
import { fromHex, toHex } from '../../firmware/core/hex.js';
import { loadProfile } from '../../firmware/platform/node/profiles.js';
import { defaultPerson } from '../../host/signing/grants.js';
import { loadSigningKey } from '../../host/signing/keys.js';
import { assignments, numberOrText, required, wholeNumber } from '../args.js';
import { UsageError, type Command } from '../command.js';

/** The epoch and the signer's person as a trust list file states them (read, not verified: it is the signer's own list). */
function fromTrustFile(path: string, kidHex: string): { epoch: number; person: string | undefined } {
  const cose = parseCose(new Uint8Array(readFileSync(path)));
  if (!cose.ok) throw new UsageError(`${path} is not a trust list: ${cose.error.detail}`);
  const r = decode(cose.value.payload, { maxDepth: 6, maxLength: 4096 });
  const m = r.ok && r.value instanceof Map ? r.value : undefined;
  const epoch = m?.get('epoch');
  if (typeof epoch !== 'number') throw new UsageError(`${path} has no epoch`);
  const signers = (m?.get('signers') ?? []) as unknown[];
  const me = signers.find((s) => s instanceof Map && s.get('kid') instanceof Uint8Array && toHex(s.get('kid') as Uint8Array) === kidHex) as Map<string, unknown> | undefined;
  return { epoch, person: typeof me?.get('person') === 'string' ? (me.get('person') as string) : undefined };
}

export const signCommandCli: Command = {
  name: 'sign',
  summary: 'sign one setting change for one gateway and device (COSE_Sign1, or COSE_Sign with --cosign)',
  usage:
    'vigil sign --key <file> --gateway <id> --device <serial> --counter N --nonce <hex> --expires <unix seconds>\n' +
    '           --set <name>=<value>[:<unit>] … [--cosign <file>] --out <file>\n' +
    '           [--profile <model>] [--trust <file> | --epoch N] [--clinician <id>] [--order <id>] [--issued <unix seconds>]',
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        key: { type: 'string' },
        cosign: { type: 'string' },
        gateway: { type: 'string' },
        device: { type: 'string' },
        counter: { type: 'string' },
        nonce: { type: 'string' },
        expires: { type: 'string' },
        issued: { type: 'string' },
        set: { type: 'string', multiple: true },
        profile: { type: 'string' },
        trust: { type: 'string' },
        epoch: { type: 'string' },
        clinician: { type: 'string' },
        order: { type: 'string' },
        out: { type: 'string' },
      },
      strict: true,
    });
    const key = loadSigningKey(required(values.key, '--key'));
    const cosigner = values.cosign === undefined ? undefined : loadSigningKey(values.cosign);
    const nonce = fromHex(required(values.nonce, '--nonce'));
    if (nonce === undefined || nonce.length !== NONCE_BYTES) throw new UsageError(`--nonce expects ${NONCE_BYTES * 2} hex digits (the gateway's current challenge nonce)`);
    const counter = wholeNumber(values.counter, '--counter', 1);
    const exp = wholeNumber(values.expires, '--expires');
    const iat = values.issued === undefined ? Math.min(Math.floor(Date.now() / 1000), exp - 1) : wholeNumber(values.issued, '--issued');
    if (exp <= iat) throw new UsageError(`--expires ${exp} must be after the issue time ${iat}`);
    const out = required(values.out, '--out');
    const profile = values.profile === undefined ? undefined : loadProfile(values.profile);
    const kidHex = toHex(key.kid);
    const fromTrust = values.trust === undefined ? undefined : fromTrustFile(values.trust, kidHex);
    if (fromTrust !== undefined && values.epoch !== undefined) throw new UsageError('give --trust or --epoch, not both');
    const epoch = fromTrust?.epoch ?? (values.epoch === undefined ? 1 : wholeNumber(values.epoch, '--epoch'));

    const params = new Map<string, RequestedSetting>();
    for (const [name, spec] of assignments(values.set, '--set')) {
      const colon = spec.indexOf(':');
      const valueText = colon < 0 ? spec : spec.slice(0, colon);
      const value = numberOrText(valueText);
      let unit = colon < 0 ? undefined : spec.slice(colon + 1);
      const setting = profile?.settings.get(name);
      if (unit === undefined && typeof value === 'number') {
        if (setting?.type !== 'number') throw new UsageError(`--set ${name}=${spec} has no unit: write ${name}=${spec}:<unit>, or give --profile <model>`);
        unit = setting.unit;
      }
      params.set(name, { value, unit });
    }
    if (params.size === 0) throw new UsageError('give at least one --set <name>=<value>');
    const bytes = signCommand(
      {
        gateway: required(values.gateway, '--gateway'),
        serial: required(values.device, '--device'),
        counter,
        iat,
        exp,
        nonce,
        epoch,
        op: 'set',
        params,
        orderId: values.order ?? `order-${counter}`,
        clinician: values.clinician ?? fromTrust?.person ?? defaultPerson(kidHex),
      },
      key,
      cosigner,
    );
    writeFileSync(out, bytes);
    console.error(`wrote ${out}: ${bytes.length} bytes, counter ${counter}, ${cosigner ? 'two signatures (COSE_Sign)' : 'one signature (COSE_Sign1)'}`);
    return 0;
  },
};
