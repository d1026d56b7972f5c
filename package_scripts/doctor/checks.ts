import type { EngineDescriptor, EngineVersion } from '../engines/engine.js';
import { describeEngine } from '../engines/registry.js';

/**
 * `npm run doctor`'s verdicts, as pure functions of what was observed, so each
 * rule is tested without a machine in that state.
 */
export type Verdict = 'pass' | 'warn' | 'fail';

export interface Check {
  name: string;
  verdict: Verdict;
  detail: string;
  /** What to do, for warn and fail. */
  fix?: string;
}

/**
 * `securityOptions` is `docker info`'s SecurityOptions: Docker and Podman both
 * list "name=rootless" when the engine runs as a user, so its absence means rootful.
 */
export function engineCheck(observed: { version?: EngineVersion; operatingSystem?: string; securityOptions?: readonly string[]; error?: string }): Check {
  if (observed.error || !observed.version?.Server) {
    return {
      name: 'engine',
      verdict: 'fail',
      detail: observed.error ?? 'the docker command answered, but no engine did',
      fix: 'Start Docker Desktop, `sudo systemctl start docker`, or `podman machine start`; `docker info` must answer. Check DOCKER_HOST if you set it',
    };
  }
  const engine = describeEngine(observed.version, observed.operatingSystem);
  const api = observed.version.Server.ApiVersion;
  const mode = observed.securityOptions ? (observed.securityOptions.some((o) => /(^|,)name=rootless(,|$)/.test(o)) ? 'rootless' : 'rootful') : undefined;
  const about = [...(api ? [`API ${api}`] : []), ...(mode ? [mode] : []), `client ${observed.version.Client?.Version ?? 'unknown'}`];
  return { name: 'engine', verdict: 'pass', detail: `${engine.kind} ${engine.version} (${about.join(', ')})` };
}

/** How many distinct symbols: a hex token of real randomness uses nearly all 16. */
export function tokenCheck(token: string, source: string): Check {
  const distinct = new Set(token.toLowerCase()).size;
  if (token.length >= 32 && distinct < 8) {
    return {
      name: 'token',
      verdict: 'fail',
      detail: `${source} uses only ${distinct} different characters: not random`,
      fix: 'Replace it with the output of `npm run gen_key`',
    };
  }
  if (token.length < 64) {
    return {
      name: 'token',
      verdict: 'warn',
      detail: `${source} is ${token.length} hex characters (${token.length * 4} bits)`,
      fix: 'Use 64 hex characters (256 bits): `npm run gen_key`, paste into the env file, restart',
    };
  }
  return { name: 'token', verdict: 'pass', detail: `${source} is ${token.length} hex characters (${token.length * 4} bits)` };
}

export function envFileModeCheck(file: string, mode: number): Check | undefined {
  if ((mode & 0o077) === 0) return undefined;
  return {
    name: 'env file permissions',
    verdict: 'warn',
    detail: `${file} is readable by other users (mode ${(mode & 0o777).toString(8)})`,
    fix: `chmod 600 ${file}`,
  };
}

export type PortProbe = 'free' | 'in-use' | 'denied';

export function portCheck(
  port: number,
  address: string,
  probe: PortProbe,
  options: { ownedBy?: string | undefined; engine?: EngineDescriptor | undefined },
): Check {
  if (options.ownedBy) return { name: 'port', verdict: 'pass', detail: `${address}:${port} is published by ${options.ownedBy} (this instance)` };
  if (probe === 'in-use') {
    return {
      name: 'port',
      verdict: 'fail',
      detail: `${address}:${port} is in use by another program`,
      fix: `Set HOST_PORT to a free port (e.g. 8443) in the env file, or stop what listens there (\`ss -ltnp 'sport = :${port}'\` shows it)`,
    };
  }
  if (probe === 'denied' && options.engine?.rootlessCannotPublishPrivileged) {
    return {
      name: 'port',
      verdict: 'warn',
      detail: `ports below 1024 need privileges; rootless ${options.engine.displayName} cannot publish ${port}`,
      fix: 'Set HOST_PORT=8443 (or another port from 1024 up)',
    };
  }
  return {
    name: 'port',
    verdict: 'pass',
    detail: probe === 'denied' ? `${address}:${port} (privileged; the engine publishes it)` : `${address}:${port} is free`,
  };
}

export function baseImageCheck(image: string, present: boolean): Check {
  if (present) return { name: 'base image', verdict: 'pass', detail: `${image} is on this machine` };
  return {
    name: 'base image',
    verdict: 'warn',
    detail: `${image} is not on this machine; \`npm run build\` pulls it from its registry`,
    fix: 'Without a registry: `bash scripts/make-base-image.sh 22` makes it locally (see README, "Without a registry")',
  };
}

export function instanceImageCheck(image: string, present: boolean): Check {
  if (present) return { name: 'image', verdict: 'pass', detail: `${image} is built` };
  return { name: 'image', verdict: 'warn', detail: `${image} is not built yet`, fix: 'npm run build' };
}

export interface CaObservation {
  /** The CA bundle setting in force and where it came from, if any. */
  setting?: { source: string; file: string };
  /** Certificates parsed from it; undefined when it could not be read. */
  certificates?: number;
  /** A proxy variable of the host (HTTPS_PROXY...), a sign of a network that may inspect TLS. */
  proxy?: string;
}

export function caCheck(observed: CaObservation): Check {
  if (observed.setting) {
    if (!observed.certificates) {
      return {
        name: 'build CA',
        verdict: 'fail',
        detail: `${observed.setting.source} names ${observed.setting.file}, which holds no PEM certificate`,
        fix: "Point it at the PEM bundle of your network's CA (-----BEGIN CERTIFICATE-----), or leave it empty",
      };
    }
    return { name: 'build CA', verdict: 'pass', detail: `${observed.setting.source}: ${observed.setting.file} (${observed.certificates} certificates)` };
  }
  if (observed.proxy) {
    return {
      name: 'build CA',
      verdict: 'warn',
      detail: `a proxy is set (${observed.proxy}) and no CA bundle: a proxy that inspects TLS makes \`npm install\` in the build fail with SELF_SIGNED_CERT_IN_CHAIN`,
      fix: "Set EXTRA_CA_CERT to your proxy's CA bundle (ask your IT department for it)",
    };
  }
  return { name: 'build CA', verdict: 'pass', detail: 'none set; needed only on networks that inspect TLS' };
}

export const GIB = 2 ** 30;

export function diskCheck(path: string, freeBytes: number): Check {
  const free = `${(freeBytes / GIB).toFixed(1)} GiB free at ${path}`;
  if (freeBytes < 2 * GIB)
    return {
      name: 'disk',
      verdict: 'fail',
      detail: free,
      fix: 'Free space: `docker system df` shows what Docker uses; `docker image prune` removes dangling images',
    };
  if (freeBytes < 5 * GIB) return { name: 'disk', verdict: 'warn', detail: free, fix: 'A build needs about 1 GiB; `docker system df` shows what Docker uses' };
  return { name: 'disk', verdict: 'pass', detail: free };
}

const MARK: Record<Verdict, string> = { pass: 'ok  ', warn: 'warn', fail: 'FAIL' };

export function formatChecks(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.flatMap((c) => [
    `${MARK[c.verdict]}  ${c.name.padEnd(width)}  ${c.detail}`,
    ...(c.fix && c.verdict !== 'pass' ? [`      ${' '.repeat(width)}  fix: ${c.fix}`] : []),
  ]);
  const failed = checks.filter((c) => c.verdict === 'fail').length;
  const warned = checks.filter((c) => c.verdict === 'warn').length;
  lines.push(
    '',
    failed === 0 ? `All checks passed${warned ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}.` : `${failed} check${failed > 1 ? 's' : ''} failed.`,
  );
  return lines.join('\n');
}

/** doctor's line about the local CA. */
export function localCaCheck(observed: { caFile?: string; trusted?: boolean; dns?: readonly string[]; ip?: readonly string[] }): Check {
  if (!observed.caFile) {
    return { name: 'local CA', verdict: 'pass', detail: 'not made yet: the first start makes it (then `npm run trust` adds it to the trust store)' };
  }
  const permits = `permits ${[...(observed.dns ?? []), ...(observed.ip ?? [])].join(', ')}`;
  if (observed.trusted) return { name: 'local CA', verdict: 'pass', detail: `${observed.caFile} is trusted by the system store (${permits})` };
  return {
    name: 'local CA',
    verdict: 'warn',
    detail: `${observed.caFile} is not in the system trust store (${permits}): VS Code, Cursor and browsers refuse the instance's certificate`,
    fix: 'npm run trust (asks before it changes anything; NODE_EXTRA_CA_CERTS=<that file> works for Node clients without it)',
  };
}
