import { ed25519Verify } from './firmware/crypto/ed25519.ts';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
ed.hashes.sha512 = sha512;
import fs from 'node:fs';
const hx = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const w = JSON.parse(fs.readFileSync('test/vectors/wycheproof-ed25519.json', 'utf8'));
let mism = 0;
for (const g of w.testGroups) for (const t of g.tests) {
  const mine = ed25519Verify(hx(t.sig), hx(t.msg), hx(g.publicKey.pk));
  let nob = false; try { nob = ed.verify(hx(t.sig), hx(t.msg), hx(g.publicKey.pk), { zip215: false }); } catch {}
  if (mine !== (t.result === 'valid') || nob !== mine) { mism++; console.log(t.tcId, t.result, 'mine', mine, 'noble', nob, t.flags, t.comment); }
}
console.log('wycheproof mismatches', mism);
const s = JSON.parse(fs.readFileSync('test/vectors/ed25519-speccheck-cases.json', 'utf8'));
s.forEach((c: any, i: number) => { let nob=false; try { nob = ed.verify(hx(c.signature), hx(c.message), hx(c.pub_key), { zip215: false }); } catch {}; console.log(i, ed25519Verify(hx(c.signature), hx(c.message), hx(c.pub_key)), 'noble', nob); });
const { createNodeEd25519Verify } = await import('./host/crypto/ed25519.ts');
const nv = createNodeEd25519Verify();
let m2 = 0;
for (const g of w.testGroups) for (const t of g.tests) if (nv(hx(t.sig), hx(t.msg), hx(g.publicKey.pk)) !== (t.result === 'valid')) { m2++; console.log('node mismatch', t.tcId); }
s.forEach((c: any, i: number) => { if (nv(hx(c.signature), hx(c.message), hx(c.pub_key)) !== (i === 3)) console.log('node speccheck mismatch', i); });
console.log('node mismatches', m2);
