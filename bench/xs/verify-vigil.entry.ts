// XS bench bundle: Vigil's pure-TS verifier alone.
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { serveVerifyBench } from './verify-bench.js';

serveVerifyBench(ed25519Verify);
