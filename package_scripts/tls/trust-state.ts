import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import type { Env } from '../settings/load.js';
import type { LocalCa } from './ca.js';
import { DEBIAN_ANCHORS_DIR, LINUX_BUNDLES, nssDbCandidates, trustQueryArgv, type LinuxStore, type TrustTarget } from './trust-plan.js';

/**
 * What this machine looks like to `trust`, `untrust`, `doctor` and `connect`:
 * which stores exist, and whether the system store trusts the local CA.
 */

/** A command on PATH (and in the sbin folders a user's PATH often lacks on Debian). */
export function onPath(command: string, env: Env): boolean {
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'].filter(Boolean);
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function linuxStore(env: Env): LinuxStore {
  if (existsSync(DEBIAN_ANCHORS_DIR) && onPath('update-ca-certificates', env)) return 'debian';
  if (onPath('trust', env)) return 'p11-kit';
  return 'none';
}

/** NSS databases (cert9.db) of Chromium and of every Firefox profile under HOME. */
export function nssDatabases(home: string): string[] {
  const { fixed, firefoxProfileRoots } = nssDbCandidates(home);
  const profiles = firefoxProfileRoots.flatMap((root) => {
    try {
      return readdirSync(root).map((entry) => join(root, entry));
    } catch {
      return [];
    }
  });
  return [...fixed, ...profiles].filter((dir) => existsSync(join(dir, 'cert9.db')));
}

/** The machine as the plans need it. */
export function observeTarget(ca: LocalCa, env: Env, platform: NodeJS.Platform = process.platform): TrustTarget {
  const home = env.HOME || env.USERPROFILE || homedir();
  const der = ca.certificate.raw;
  return {
    platform,
    caFile: ca.paths.cert,
    caId: ca.id,
    home,
    ...(platform === 'linux'
      ? { linuxStore: linuxStore(env), nssDbs: nssDatabases(home), nssCertutil: onPath('certutil', env), sudo: process.getuid?.() !== 0 }
      : {}),
    sha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    serial: ca.certificate.serialNumber,
  };
}

/** A PEM certificate's base64 body without line breaks: how it is looked for in a bundle (whatever its line length). */
export function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

/** Whether a PEM bundle holds this certificate. */
export function bundleHolds(bundle: string, caPem: string): boolean {
  return bundle.replace(/\s+/g, '').includes(pemBody(caPem));
}

/**
 * Whether the system store trusts the CA. Linux: the bundle every
 * OpenSSL/GnuTLS client reads (curl, git, Node with NODE_USE_SYSTEM_CA) holds it; macOS
 * and Windows: their own tool says so.
 */
export async function systemTrusts(ca: LocalCa, env: Env, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  const pem = ca.certificate.toString();
  if (platform === 'linux') {
    return LINUX_BUNDLES.some((file) => {
      try {
        return bundleHolds(readFileSync(file, 'utf8'), pem);
      } catch {
        return false;
      }
    });
  }
  const argv = trustQueryArgv({ platform, caFile: ca.paths.cert, serial: ca.certificate.serialNumber });
  if (!argv) return false;
  const result = await execa(argv[0]!, argv.slice(1), { reject: false, env: { ...env } as Record<string, string> });
  return result.exitCode === 0;
}
