/**
 * The values of Vigil's CBOR profile, as JavaScript sees them.
 *
 * Integers decode to `number` when they are safe integers and to `bigint` otherwise (up to 64 bits);
 * maps always decode to `Map`, so that integer keys (COSE labels) keep their type. The encoder also
 * takes plain objects, whose keys are text.
 */
export type CborKey = number | bigint | string;

export type CborValue =
  | number
  | bigint
  | string
  | Uint8Array
  | boolean
  | null
  | undefined
  | readonly CborValue[]
  | CborMap
  | CborTag
  | CborObject;

export type CborMap = ReadonlyMap<CborKey, CborValue>;

export interface CborObject {
  readonly [key: string]: CborValue;
}

/** A tagged item (RFC 8949 §3.4). Which tag numbers a decoder accepts is the caller's choice. */
export class CborTag {
  readonly tag: number;
  readonly value: CborValue;

  constructor(tag: number, value: CborValue) {
    this.tag = tag;
    this.value = value;
  }
}
