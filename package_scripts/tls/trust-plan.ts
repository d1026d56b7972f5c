import { join } from 'node:path';

/**
 * The commands that add the local CA to a machine's trust stores, or take it
 * out again, per platform. Pure: what is installed where (which store, which
 * NSS databases, sudo or not) is observed by commands/trust.ts and passed in,
 * so each platform's list is tested by deep equality on any machine.
 */

export type LinuxStore = 'debian' | 'p11-kit' | 'none';

export interface TrustTarget {
  platform: NodeJS.Platform;
  /** The CA certificate (PEM). */
  caFile: string;
  /** Short id of the CA (from its fingerprint): names its file in the Debian store and its NSS nickname. */
  caId: string;
  home: string;
  /** Linux: which system store this distribution uses. */
  linuxStore?: LinuxStore;
  /** Linux: NSS databases (folders with cert9.db) of Chromium and Firefox profiles; used when certutil is present. */
  nssDbs?: readonly string[];
  /** Linux: whether NSS's certutil is on PATH. */
  nssCertutil?: boolean;
  /** Not root: system-wide steps need sudo. */
  sudo?: boolean;
  /** macOS: the CA's SHA-1 (as `security` names certificates); Windows: its serial number. Needed to remove it. */
  sha1?: string;
  serial?: string;
}

export interface TrustStep {
  /** Which store this step changes, for the user. */
  store: string;
  argv: string[];
}

export interface TrustPlan {
  steps: TrustStep[];
  /** Stores that exist but cannot be changed here, with what to do. */
  notes: string[];
}

export const DEBIAN_ANCHORS_DIR = '/usr/local/share/ca-certificates';
export const nssNickname = (caId: string) => `mcp-sandbox local CA ${caId}`;
export const debianAnchorFile = (caId: string) => join(DEBIAN_ANCHORS_DIR, `mcp-sandbox-${caId}.crt`);
export const macKeychain = (home: string) => join(home, 'Library', 'Keychains', 'login.keychain-db');

const asRoot = (target: TrustTarget, argv: string[]) => (target.sudo ? ['sudo', ...argv] : argv);

function nssSteps(target: TrustTarget, action: 'add' | 'remove'): TrustPlan {
  const dbs = target.nssDbs ?? [];
  if (dbs.length === 0) return { steps: [], notes: [] };
  if (!target.nssCertutil) {
    return {
      steps: [],
      notes: [
        `Chromium/Firefox keep their own certificate databases (${dbs.join(', ')}); install NSS's certutil (Debian/Ubuntu: libnss3-tools, Fedora: nss-tools) and run this again to ${action === 'add' ? 'add the CA there' : 'remove it there'}.`,
      ],
    };
  }
  const nickname = nssNickname(target.caId);
  return {
    steps: dbs.map((db) => ({
      store: `NSS database ${db}`,
      argv:
        action === 'add'
          ? ['certutil', '-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', nickname, '-i', target.caFile]
          : ['certutil', '-d', `sql:${db}`, '-D', '-n', nickname],
    })),
    notes: [],
  };
}

/** The steps that make this machine trust the CA. */
export function trustPlan(target: TrustTarget): TrustPlan {
  switch (target.platform) {
    case 'darwin':
      return {
        steps: [
          {
            store: 'login keychain',
            argv: ['security', 'add-trusted-cert', '-r', 'trustRoot', '-k', macKeychain(target.home), target.caFile],
          },
        ],
        notes: [],
      };
    case 'win32':
      return { steps: [{ store: "current user's Root store", argv: ['certutil', '-user', '-addstore', 'Root', target.caFile] }], notes: [] };
    case 'linux': {
      const nss = nssSteps(target, 'add');
      const system: TrustStep[] =
        target.linuxStore === 'debian'
          ? [
              { store: 'system store', argv: asRoot(target, ['install', '-m', '0644', target.caFile, debianAnchorFile(target.caId)]) },
              { store: 'system store', argv: asRoot(target, ['update-ca-certificates']) },
            ]
          : target.linuxStore === 'p11-kit'
            ? [{ store: 'system store', argv: asRoot(target, ['trust', 'anchor', '--store', target.caFile]) }]
            : [];
      const notes =
        target.linuxStore === 'none'
          ? ["No system trust store tool was found (update-ca-certificates or p11-kit's trust): add the CA to your distribution's store by hand."]
          : [];
      return { steps: [...system, ...nss.steps], notes: [...notes, ...nss.notes] };
    }
    default:
      return { steps: [], notes: [`${target.platform} is not supported by npm run trust: add ${target.caFile} to its trust store by hand.`] };
  }
}

/** The steps that undo trustPlan. */
export function untrustPlan(target: TrustTarget): TrustPlan {
  switch (target.platform) {
    case 'darwin':
      return {
        steps: [
          { store: 'login keychain', argv: ['security', 'remove-trusted-cert', target.caFile] },
          ...(target.sha1 ? [{ store: 'login keychain', argv: ['security', 'delete-certificate', '-Z', target.sha1, macKeychain(target.home)] }] : []),
        ],
        notes: [],
      };
    case 'win32':
      return {
        steps: target.serial ? [{ store: "current user's Root store", argv: ['certutil', '-user', '-delstore', 'Root', target.serial] }] : [],
        notes: [],
      };
    case 'linux': {
      const nss = nssSteps(target, 'remove');
      const system: TrustStep[] =
        target.linuxStore === 'debian'
          ? [
              { store: 'system store', argv: asRoot(target, ['rm', '-f', debianAnchorFile(target.caId)]) },
              { store: 'system store', argv: asRoot(target, ['update-ca-certificates', '--fresh']) },
            ]
          : target.linuxStore === 'p11-kit'
            ? [{ store: 'system store', argv: asRoot(target, ['trust', 'anchor', '--remove', target.caFile]) }]
            : [];
      return { steps: [...system, ...nss.steps], notes: nss.notes };
    }
    default:
      return { steps: [], notes: [`${target.platform} is not supported by npm run untrust: remove ${target.caFile} from its trust store by hand.`] };
  }
}

/** The system store's answer to "is this CA trusted?", as a command whose exit status says it (macOS, Windows). */
export function trustQueryArgv(target: Pick<TrustTarget, 'platform' | 'caFile' | 'serial'>): string[] | undefined {
  if (target.platform === 'darwin') return ['security', 'verify-cert', '-c', target.caFile, '-p', 'ssl'];
  if (target.platform === 'win32' && target.serial) return ['certutil', '-user', '-verifystore', 'Root', target.serial];
  return undefined;
}

/** Linux: the bundles distributions build from their store (Debian, Fedora/RHEL, Arch, openSUSE, Alpine). */
export const LINUX_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

/** Linux NSS databases worth updating under HOME: Chromium's shared one and each Firefox profile (also the snap's). */
export function nssDbCandidates(home: string): { fixed: string[]; firefoxProfileRoots: string[] } {
  return {
    fixed: [join(home, '.pki', 'nssdb')],
    firefoxProfileRoots: [join(home, '.mozilla', 'firefox'), join(home, 'snap', 'firefox', 'common', '.mozilla', 'firefox')],
  };
}
