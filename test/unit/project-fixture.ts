import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
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
