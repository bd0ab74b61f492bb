/**
 * RFC 8949 §8 diagnostic notation, for logs, test output and the `vigil` tools. It prints decoded
 * values in the form the RFC's Appendix A uses, so vectors can be checked against the RFC's own text.
 */
import { toHex } from '../hex.js';
import { CborTag, type CborValue } from './value.js';

export function diagnose(v: CborValue): string {
  switch (typeof v) {
    case 'number':
      return number(v);
    case 'bigint':
      return v.toString();
    case 'string':
      return text(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'undefined';
    default:
      break;
  }
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `h'${toHex(v)}'`;
  if (Array.isArray(v)) return `[${(v as readonly CborValue[]).map(diagnose).join(', ')}]`;
  if (v instanceof CborTag) return `${v.tag}(${diagnose(v.value)})`;
  const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
  return `{${entries.map(([k, val]) => `${diagnose(k as CborValue)}: ${diagnose(val)}`).join(', ')}}`;
}

/** Integers print plainly; floats always show a fraction or exponent part (`1.5`, `-0.0`, `1.0e+300`). */
function number(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Number.isSafeInteger(v) && !(v === 0 && 1 / v < 0)) return String(v);
  if (v === 0) return '-0.0';
  const s = String(v);
  if (/[.]/.test(s)) return s;
  const e = s.indexOf('e');
  return e < 0 ? `${s}.0` : `${s.slice(0, e)}.0${s.slice(e)}`;
}

function text(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += `\\${s[i]}`;
    else if (c >= 0x20 && c < 0x7f) out += s[i];
    else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}
