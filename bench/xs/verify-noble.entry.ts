// XS bench bundle: plain @noble/ed25519 verify (zip215: false), the reference.
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { serveVerifyBench } from './verify-bench.js';

ed.hashes.sha512 = sha512;
serveVerifyBench((sig, msg, pub) => ed.verify(sig, msg, pub, { zip215: false }));
