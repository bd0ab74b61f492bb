import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { decode, diagnose } from '../../firmware/core/cbor/index.js';
import { fromHex } from '../../firmware/core/hex.js';
import { UsageError, type Command } from '../command.js';

/** Prints CBOR in diagnostic notation, through the same strict decoder the gateway uses. */
export const cborCommand: Command = {
  name: 'cbor',
  summary: 'decode CBOR (hex or a file) strictly and print it in diagnostic notation',
  usage: 'vigil cbor (--hex <hex> | --file <path>) [--tag <n> ...]',
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: { hex: { type: 'string' }, file: { type: 'string' }, tag: { type: 'string', multiple: true } },
      strict: true,
    });
    if ((values.hex === undefined) === (values.file === undefined)) throw new UsageError('give exactly one of --hex or --file');
    let bytes: Uint8Array;
    if (values.hex !== undefined) {
      const parsed = fromHex(values.hex.replace(/\s+/g, ''));
      if (parsed === undefined) throw new UsageError('--hex must be an even number of hex digits');
      bytes = parsed;
    } else {
      bytes = new Uint8Array(await readFile(values.file!));
    }
    const tags = (values.tag ?? []).map((t) => {
      const n = Number(t);
      if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--tag expects a tag number, got "${t}"`);
      return n;
    });
    const result = decode(bytes, { tags });
    if (!result.ok) {
      console.error(`not accepted: ${result.error.type} at offset ${result.error.offset}: ${result.error.message}`);
      return 1;
    }
    console.log(diagnose(result.value));
    return 0;
  },
};
