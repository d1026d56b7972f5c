import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** A certificate the user brings (CERT_FILE/KEY_FILE), served by nginx instead of the self-signed one. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint of CERT_FILE, as Node prints it (AA:BB:...). */
  fingerprint: string;
  /** The certificate signs itself: a client can trust exactly this file. */
  selfSigned: boolean;
  issuer: string;
  /** Set when the certificate was signed by the local CA at start (tls/instance-certificate.ts), not brought by the user. */
  localCa?: { caFile: string; trusted: boolean };
}

const BOTH_OR_NEITHER =
  'CERT_FILE and KEY_FILE go together: set both (a PEM certificate and its private key, e.g. from mkcert) or neither (a self-signed certificate is made)';

function readableFile(setting: string, path: string): Buffer {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new UsageError(`${setting} names ${path}, which does not exist; fix the path (relative paths start from the .env folder)`);
  }
  if (!isFile) throw new UsageError(`${setting} names ${path}, which is not a file; point it at a PEM file`);
  try {
    accessSync(path, constants.R_OK);
    return readFileSync(path);
  } catch {
    throw new UsageError(`${setting} names ${path}, which you cannot read; fix its permissions (chmod u+r) or run as its owner`);
  }
}

/**
 * A private key that group or others may read is refused. It is bind-mounted
 * into the container as it is on the host, mode included; and a key other users
 * of this machine can read is no longer only the instance's. (Inside the
 * container the folder it is mounted in is closed to the server's user whatever
 * the mode: docker/common/build/setup-os.) Not on Windows, which has no such modes.
 */
function refuseShared(keyFile: string): void {
  if (process.platform === 'win32') return;
  let mode: number;
  try {
    mode = statSync(keyFile).mode & 0o777;
  } catch {
    return; // readableFile() names a missing file
  }
  if ((mode & 0o077) !== 0) {
    throw new UsageError(
      `KEY_FILE ${keyFile} can be read by group or others (mode ${mode.toString(8).padStart(4, '0')}); a private key must be yours alone: chmod 600 ${keyFile}`,
    );
  }
}

/**
 * Checks CERT_FILE/KEY_FILE before anything starts: both or neither, readable,
 * the key readable by its owner only, a PEM certificate, a private key that belongs to it. The key is read only to
 * check that; no message quotes it.
 */
export function resolveTlsFiles(certSetting: string, keySetting: string, baseDir: string): TlsFiles | undefined {
  if (certSetting === '' && keySetting === '') return undefined;
  if (certSetting === '' || keySetting === '') throw new UsageError(BOTH_OR_NEITHER);
  const certFile = resolve(baseDir, certSetting);
  const keyFile = resolve(baseDir, keySetting);

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(readableFile('CERT_FILE', certFile));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`CERT_FILE ${certFile} is not a PEM certificate (-----BEGIN CERTIFICATE-----); point it at the certificate, not the key`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(readableFile('KEY_FILE', keyFile));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`KEY_FILE ${keyFile} is not an unencrypted PEM private key; export the key without a passphrase (mkcert's *-key.pem is one)`);
  }
  refuseShared(keyFile);
  if (!certificate.checkPrivateKey(key)) {
    throw new UsageError(`KEY_FILE ${keyFile} is not the private key of CERT_FILE ${certFile}; use the pair made together`);
  }
  return {
    certFile,
    keyFile,
    fingerprint: certificate.fingerprint256,
    selfSigned: certificate.issuer === certificate.subject && certificate.verify(certificate.publicKey),
    issuer: certificate.issuer.replace(/\n/g, ', '),
  };
}
