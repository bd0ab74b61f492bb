// XS bench bundle: Vigil's pure-TS verifier alone.
import { ed25519Verify } from '../../firmware/crypto/ed25519.js';
import { serveVerifyBench } from './verify-bench.js';

serveVerifyBench(ed25519Verify);
