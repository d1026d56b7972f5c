import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIPPED_SECCOMP_PROFILE } from '../../package_scripts/settings/seccomp-file.js';

/** The repository (compiled tests live in dist/test/unit/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A stand-in project folder holding what settings read from the project: the shipped seccomp profile. */
export function makeProjectDir(dir: string): string {
  mkdirSync(join(dir, dirname(SHIPPED_SECCOMP_PROFILE)), { recursive: true });
  copyFileSync(join(repoRoot, SHIPPED_SECCOMP_PROFILE), join(dir, SHIPPED_SECCOMP_PROFILE));
  return dir;
}

/** A self-signed certificate, as the gateway publishes it (test/fixtures/tls/self-signed.pem). */
export const CERT_PEM = readFileSync(join(repoRoot, 'test', 'fixtures', 'tls', 'self-signed.pem'), 'utf8');

let tlsCopy: string | undefined;
/**
 * test/fixtures/tls as a user keeps it: the private keys mode 0600 (git checks files
 * out 0644, and KEY_FILE readable by group or others is refused). A copy, made once
 * per test process, in the system's temporary folder.
 */
export function tlsFixtures(): string {
  if (tlsCopy) return tlsCopy;
  const dir = join(mkdtempSync(join(tmpdir(), 'mcp-tls-fixtures-')), 'tls');
  cpSync(join(repoRoot, 'test', 'fixtures', 'tls'), dir, { recursive: true });
  for (const name of readdirSync(dir)) if (name.endsWith('-key.pem')) chmodSync(join(dir, name), 0o600);
  return (tlsCopy = dir);
}
