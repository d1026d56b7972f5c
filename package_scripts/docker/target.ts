import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { dockerContextIssue, dockerHostIssue } from '../settings/engine-address.js';
import type { Env } from '../settings/load.js';

/**
 * Which engine every docker command of one CLI command goes to, chosen once:
 * `--context NAME`, else DOCKER_HOST or DOCKER_CONTEXT in the env file (it
 * describes the instance), else the shell's, else the docker CLI's current
 * context. The choice reaches the docker client only through its environment
 * (engine.ts), never through argv, so every argv builder stays the same.
 */
export interface EngineSelection {
  variable?: 'DOCKER_HOST' | 'DOCKER_CONTEXT';
  value?: string;
  /** For messages: "--context", "DOCKER_HOST in /p/.env", "DOCKER_HOST in your shell". */
  source: string;
}

export const DEFAULT_SELECTION: EngineSelection = { source: "the docker CLI's current context" };

export interface SelectionInput {
  /** --context NAME. */
  context?: string;
  /** DOCKER_HOST and DOCKER_CONTEXT as the env file sets them (empty means unset). */
  fileValues?: { DOCKER_HOST?: string; DOCKER_CONTEXT?: string };
  envFile?: string;
  hostEnv: Env;
}

/** The engine selection; bad values are usage errors (exit 2) before any docker command. */
export function selectEngine(input: SelectionInput): EngineSelection {
  if (input.context !== undefined) {
    const issue = dockerContextIssue(input.context, '--context');
    if (issue) throw new UsageError(issue);
    return { variable: 'DOCKER_CONTEXT', value: input.context, source: '--context' };
  }
  const fromFile = pick(input.fileValues ?? {}, `in ${input.envFile ?? 'the env file'}`, true);
  if (fromFile) return fromFile;
  return pick(input.hostEnv, 'in your shell', false) ?? DEFAULT_SELECTION;
}

function pick(values: { DOCKER_HOST?: string; DOCKER_CONTEXT?: string }, where: string, exclusive: boolean): EngineSelection | undefined {
  const host = values.DOCKER_HOST || undefined;
  const context = values.DOCKER_CONTEXT || undefined;
  if (exclusive && host && context) {
    throw new UsageError(`Both DOCKER_HOST and DOCKER_CONTEXT are set ${where}: keep one (DOCKER_HOST=ssh://user@host, or the name of a Docker context)`);
  }
  // As the docker CLI has it: DOCKER_HOST wins over DOCKER_CONTEXT.
  if (host) {
    const issue = dockerHostIssue(host);
    if (issue) throw new UsageError(`${issue} (${where})`);
    return { variable: 'DOCKER_HOST', value: host, source: `DOCKER_HOST ${where}` };
  }
  if (context) {
    const issue = dockerContextIssue(context);
    if (issue) throw new UsageError(`${issue} (${where})`);
    return { variable: 'DOCKER_CONTEXT', value: context, source: `DOCKER_CONTEXT ${where}` };
  }
  return undefined;
}

/** The docker client's environment for a selection: the chosen variable set, the other one removed (DOCKER_HOST would win over a context). */
export function selectionEnv(selection: EngineSelection): Record<string, string | undefined> {
  if (!selection.variable) return {};
  return selection.variable === 'DOCKER_HOST'
    ? { DOCKER_HOST: selection.value, DOCKER_CONTEXT: undefined }
    : { DOCKER_CONTEXT: selection.value, DOCKER_HOST: undefined };
}

/** Where the engine is: its address, and for another machine how to reach it. */
export interface EngineEndpoint {
  /** The engine's address (unix:///var/run/docker.sock, ssh://root@host ...). */
  address: string;
  /** Set when the engine runs on another machine. */
  remote?: RemoteHost;
}

export interface RemoteHost {
  /** The host name or address as written (no brackets), what clients dial. */
  hostname: string;
  /** ssh's user and port when the address is ssh:// (for the `ssh -L` line). */
  user?: string;
  sshPort?: number;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * The endpoint of an engine address. ssh:// and tcp:// to a name other than
 * loopback are another machine; unix:// and npipe:// (Docker Desktop, Colima,
 * Podman machine forward the socket and the published ports) are this one.
 */
export function endpointOf(address: string): EngineEndpoint {
  const withScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(address) ? address : `tcp://${address}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { address };
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'ssh' && scheme !== 'tcp') return { address };
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (hostname === '' || LOOPBACK_NAMES.has(hostname) || hostname.startsWith('127.')) return { address };
  return {
    address,
    remote: {
      hostname,
      ...(scheme === 'ssh' && url.username ? { user: decodeURIComponent(url.username) } : {}),
      ...(scheme === 'ssh' && url.port ? { sshPort: Number(url.port) } : {}),
    },
  };
}

/** The remote host as a certificate subject name: IP:address or DNS:name. */
export function certificateName(remote: RemoteHost): string {
  return isIP(remote.hostname) ? `IP:${remote.hostname}` : `DNS:${remote.hostname}`;
}

/** The host part of a URL for a remote host name (IPv6 in brackets). */
export function urlHost(hostname: string): string {
  return isIP(hostname) === 6 ? `[${hostname}]` : hostname;
}

/** The ssh destination of a remote host, as ssh takes it. */
export function sshDestination(remote: RemoteHost): string {
  return `${remote.user ? `${remote.user}@` : ''}${remote.hostname}`;
}

/**
 * The line that makes a port published on the remote's loopback reachable
 * here on the same port (-N: no remote command, only the forwarding).
 */
export function sshForwardCommand(remote: RemoteHost, port: number, remoteBind = '127.0.0.1'): string {
  const bind = remoteBind.includes(':') ? `[${remoteBind}]` : remoteBind;
  return `ssh -N -L 127.0.0.1:${port}:${bind}:${port}${remote.sshPort ? ` -p ${remote.sshPort}` : ''} ${sshDestination(remote)}`;
}
