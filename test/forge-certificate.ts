/**
 * What a thief of the local CA's key could make: a certificate for any name,
 * signed with that key by plain openssl, outside the CLI and its name
 * constraints. The unit tests (ca.test.ts) and the trust e2e test
 * (trust.test.ts) show that OpenSSL and Node refuse it for a name outside the
 * CA's constraints, and accept it for a name inside them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export interface ForgedCertificate {
  /** DIR/NAME.pem */
  cert: string;
  /** DIR/NAME-key.pem */
  key: string;
}

/** A P-256 key and a server certificate for NAME (subjectAltName DNS:NAME), signed by the CA's pair, written into DIR. */
export async function forgeCertificate(ca: { cert: string; key: string }, name: string, dir: string): Promise<ForgedCertificate> {
  const forged = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  const request = join(dir, `${name}.csr`);
  const extensions = join(dir, `${name}.cnf`);
  await execa('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    forged.key,
    '-subj',
    `/CN=${name}`,
    '-out',
    request,
  ]);
  writeFileSync(extensions, `[ ext ]\nsubjectAltName = DNS:${name}\nextendedKeyUsage = serverAuth\n`);
  await execa('openssl', [
    'x509',
    '-req',
    ...['-in', request, '-CA', ca.cert, '-CAkey', ca.key],
    ...['-set_serial', '7', '-days', '30', '-extfile', extensions, '-extensions', 'ext'],
    ...['-out', forged.cert],
  ]);
  return forged;
}
