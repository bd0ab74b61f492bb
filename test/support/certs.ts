/**
 * A throwaway site CA, a broker certificate for 127.0.0.1 and gateway client certificates (RSA, as
 * the ESP32's TLS stack needs; DESIGN.md), made with the openssl command-line tool.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Certs {
  readonly ca: string;
  readonly serverKey: string;
  readonly serverCert: string;
  client(cn: string, signedBy?: 'ca' | 'self'): { key: string; cert: string };
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('openssl is not installed: apt-get install openssl (needed for the mTLS tests)');
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString() ?? e}`);
  }
}

export function makeCerts(dir: string): Certs {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=vigil-test-ca'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext'], dir);
  return {
    ca: join(dir, 'ca.pem'),
    serverKey: join(dir, 'server.key'),
    serverCert: join(dir, 'server.pem'),
    client(cn, signedBy = 'ca') {
      const base = `client-${cn}-${signedBy}`;
      if (signedBy === 'self') {
        openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.pem`, '-days', '2', '-subj', `/CN=${cn}`], dir);
      } else {
        openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`], dir);
        openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${base}.pem`, '-days', '2'], dir);
      }
      return { key: join(dir, `${base}.key`), cert: join(dir, `${base}.pem`) };
    },
  };
}
