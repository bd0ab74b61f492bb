export { decode, type DecodeOptions } from './decode.js';
export { encode } from './encode.js';
export { diagnose } from './diagnostic.js';
export { CborError, type CborErrorType, type Result } from './errors.js';
export { CborTag, type CborKey, type CborMap, type CborObject, type CborValue } from './value.js';
