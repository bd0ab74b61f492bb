import './shims.js';
import { serve } from './bridge.js';
import { cborVectors, runCborVector } from '../portable/cbor-vectors.js';
import { runCborProperties } from '../portable/cbor-properties.js';

serve({
  count: () => cborVectors.length,
  vector: (i: number) => runCborVector(i),
  properties: (seed: number, numRuns: number) => runCborProperties(seed, numRuns),
});
