/**
 * One error class for the CBOR profile; callers branch on `type`, never on message text.
 */
export type CborErrorType =
  | 'truncated' // a head or a declared length runs past the end of the input
  | 'trailing-bytes' // bytes left after the single top-level item
  | 'malformed' // reserved additional info (28–30), a stray break, simple(<32) in two bytes
  | 'indefinite-length' // RFC 8949 §4.2.1: definite lengths only
  | 'non-shortest' // RFC 8949 §4.2.1: an integer or length not in its shortest form
  | 'non-canonical-float' // a float not in its shortest form, a NaN other than f97e00, or a float holding a safe integer
  | 'duplicate-key'
  | 'unsorted-keys' // RFC 8949 §4.2.1: map keys sorted bytewise by their encoding
  | 'unsupported-key' // map keys are integers or text strings only
  | 'unsupported-tag'
  | 'unsupported-simple' // only false, true, null and undefined
  | 'invalid-utf8'
  | 'too-deep'
  | 'too-long'
  | 'unencodable'; // the encoder was given a value outside the profile

export class CborError extends Error {
  readonly type: CborErrorType;
  /** Byte offset of the offending item's head in the input, or -1 where it has none (encoding). */
  readonly offset: number;

  constructor(type: CborErrorType, message: string, offset = -1) {
    super(message);
    this.name = 'CborError';
    this.type = type;
    this.offset = offset;
  }
}

export type Result<T, E = CborError> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };
