import { join } from 'node:path';
import type { Settings } from '../settings/load.js';
import { GATEWAY_PORT, LABEL_INSTANCE, LABEL_TEMPLATE, TLS_VOLUME_TARGET, USER_TLS_TARGET, type InstanceNames } from './names.js';

/**
 * Pure builders of docker argv. Arguments are always separate array elements
 * (no shell, no quoting); secret values never appear in them: a variable is
 * named with `-e NAME` and its value travels in the docker client's environment.
 */

export interface DockerInvocation {
  args: string[];
  /** Values for the `-e NAME` flags, given to the docker client process only. */
  env: Record<string, string>;
}

export interface BuildOptions {
  contextDir: string;
  noCache: boolean;
  platform?: string;
  /** MCP_SERVER as the Dockerfile sees it (see docker/context.ts). */
  serverSpec: string;
}

export function buildArgs(settings: Settings, names: InstanceNames, options: BuildOptions): string[] {
  const buildArg = (name: string, value: string) => ['--build-arg', `${name}=${value}`];
  return [
    'build',
    '--force-rm',
    ...['--file', join(options.contextDir, 'Dockerfile')],
    ...['--tag', names.image],
    ...['--label', `${LABEL_INSTANCE}=${settings.NAME}`],
    ...['--label', `${LABEL_TEMPLATE}=${settings.template}`],
    ...(options.noCache ? ['--no-cache'] : []),
    ...(options.platform ? ['--platform', options.platform] : []),
    ...buildArg('TEMPLATE', settings.template),
    ...buildArg('NODE_VERSION', settings.NODE_VERSION),
    ...(settings.BASE_IMAGE ? buildArg('BASE_IMAGE', settings.BASE_IMAGE) : []),
    ...buildArg('SERVER_RUNTIME', settings.server.ecosystem === 'python' ? 'python' : 'node'),
    ...buildArg('MCP_SERVER', options.serverSpec),
    ...buildArg('MCP_SERVER_BIN', settings.MCP_SERVER_BIN),
    ...buildArg('MCP_INSTALL_SCRIPTS', settings.MCP_INSTALL_SCRIPTS),
    // Only when set: their values are kept in the (thrown-away) server stage's history.
    ...(settings.PIP_INDEX_URL ? buildArg('PIP_INDEX_URL', settings.PIP_INDEX_URL) : []),
    ...(settings.PIP_EXTRA_INDEX_URL ? buildArg('PIP_EXTRA_INDEX_URL', settings.PIP_EXTRA_INDEX_URL) : []),
    options.contextDir,
  ];
}

/**
 * Capabilities the entrypoint needs for its set-up, and only for that: it
 * gives all of them up before any long-lived process starts (see
 * docker/common/bin/entrypoint for what each one is for).
 */
export const ENTRYPOINT_CAPABILITIES = ['CHOWN', 'NET_ADMIN', 'SETGID', 'SETPCAP', 'SETUID'] as const;

export function hardeningArgs(settings: Settings): string[] {
  return [
    ...['--cap-drop', 'ALL'],
    ...ENTRYPOINT_CAPABILITIES.flatMap((cap) => ['--cap-add', cap]),
    ...['--security-opt', 'no-new-privileges'],
    // The docker client reads the file and sends its content (profiles/seccomp.json unless MCP_SECCOMP_PROFILE).
    ...['--security-opt', `seccomp=${settings.seccompProfile}`],
    '--read-only',
    // The only writable places; noexec so nothing written at run time can be run.
    ...['--tmpfs', '/tmp:rw,nosuid,nodev,noexec,size=64m'],
    ...['--tmpfs', '/run:rw,nosuid,nodev,noexec,size=16m'],
    ...['--pids-limit', String(settings.MCP_PIDS)],
    ...['--memory', settings.MCP_MEMORY],
    ...['--memory-swap', settings.MCP_MEMORY],
    ...['--cpus', settings.MCP_CPUS],
    // No core dumps: a crashing process's memory (tokens included) never lands in a file.
    ...['--ulimit', 'core=0'],
  ];
}

function publishArg(settings: Settings): string[] {
  const host = settings.BIND_ADDRESS.includes(':') ? `[${settings.BIND_ADDRESS}]` : settings.BIND_ADDRESS;
  return ['--publish', `${host}:${settings.HOST_PORT}:${GATEWAY_PORT}`];
}

function mountArgs(settings: Settings): string[] {
  return settings.mounts.flatMap((m) => ['--mount', `type=bind,source=${m.hostPath},target=${m.containerPath}${m.readOnly ? ',readonly' : ''}`]);
}

/** CERT_FILE/KEY_FILE, read-only: the gateway copies them at start and never writes back. */
export function tlsFileMountArgs(settings: Settings): string[] {
  if (!settings.tlsFiles) return [];
  const { certFile, keyFile } = settings.tlsFiles;
  return [
    ...['--mount', `type=bind,source=${certFile},target=${USER_TLS_TARGET}/cert.pem,readonly`],
    ...['--mount', `type=bind,source=${keyFile},target=${USER_TLS_TARGET}/key.pem,readonly`],
  ];
}

/** The container's environment: names on the command line, values beside it. */
export function containerEnv(settings: Settings): Record<string, string> {
  return {
    // The container's name for MCP_SERVER_ARGS.
    NPM_MCP_ARGS: settings.MCP_SERVER_ARGS,
    MCP_SESSION_IDLE: String(settings.MCP_SESSION_IDLE),
    MCP_MAX_SESSIONS: String(settings.MCP_MAX_SESSIONS),
    LOG_LEVEL: settings.LOG_LEVEL,
    MCP_EGRESS: settings.MCP_EGRESS,
    MCP_ENV: Object.keys(settings.serverEnv).join(','),
    // Where the port is published: nginx derives the instance's own origins from it.
    ...(settings.template === 'nginx' ? { SANDBOX_HOST_PORT: String(settings.HOST_PORT), SANDBOX_BIND_ADDRESS: settings.BIND_ADDRESS } : {}),
    ...settings.gatewayEnv,
    ...settings.serverEnv,
  };
}

export interface RunOptions {
  detached: boolean;
  /** MCP_EGRESS host names resolved on the host, pinned in the container's /etc/hosts. */
  egressHosts?: Readonly<Record<string, readonly string[]>>;
}

function addHostArgs(egressHosts: RunOptions['egressHosts'] = {}): string[] {
  return Object.entries(egressHosts).flatMap(([host, addresses]) => addresses.flatMap((a) => ['--add-host', `${host}:${a}`]));
}

export function runArgs(settings: Settings, names: InstanceNames, options: RunOptions): DockerInvocation {
  const env = containerEnv(settings);
  const args = [
    'run',
    ...['--name', names.container],
    ...(options.detached ? ['--detach', '--restart', 'unless-stopped'] : ['--rm']),
    ...['--label', `${LABEL_INSTANCE}=${settings.NAME}`],
    ...['--label', `${LABEL_TEMPLATE}=${settings.template}`],
    ...['--network', names.network],
    ...hardeningArgs(settings),
    // A tunnel dials out: nothing is published and there is no certificate to keep.
    ...(settings.template === 'nginx' ? [...publishArg(settings), '--volume', `${names.tlsVolume}:${TLS_VOLUME_TARGET}`, ...tlsFileMountArgs(settings)] : []),
    ...mountArgs(settings),
    ...addHostArgs(options.egressHosts),
    ...Object.keys(env).flatMap((name) => ['--env', name]),
    names.image,
  ];
  return { args, env };
}

export const findContainerArgs = (name: string) => ['ps', '--all', '--quiet', '--filter', `name=^/${name}$`];
export const removeContainerArgs = (name: string) => ['rm', '--force', name];
export const imageExistsArgs = (image: string) => ['image', 'inspect', '--format', '{{.Id}}', image];
export const findNetworkArgs = (network: string) => ['network', 'ls', '--quiet', '--filter', `name=^${network}$`];
export const createNetworkArgs = (network: string, instance: string) => ['network', 'create', ...['--label', `${LABEL_INSTANCE}=${instance}`], network];
export const removeNetworkArgs = (network: string) => ['network', 'rm', network];
export const stateArgs = (name: string) => ['inspect', '--format', '{{.State.Status}}', name];
export const healthcheckArgs = (name: string) => ['exec', name, '/opt/sandbox/bin/healthcheck'];
/** One MCP round trip on the container's loopback, as the unprivileged gateway user (docker/common/bin/mcp-probe). */
export const probeInsideArgs = (name: string, timeoutSeconds: number) => [
  'exec',
  ...['--user', 'gateway'],
  name,
  '/opt/sandbox/bin/mcp-probe',
  String(Math.max(1, Math.round(timeoutSeconds))),
];
/** The certificate nginx serves (self-signed or CERT_FILE), published by docker/nginx/gateway/prepare. */
export const SERVED_CERTIFICATE_PATH = '/run/sandbox/served-cert.pem';
export const readCertificateArgs = (name: string) => ['exec', name, 'cat', SERVED_CERTIFICATE_PATH];

/** Every container this tool manages, found by its label (no state file of our own). */
export const listInstancesArgs = (name?: string) => [
  'ps',
  '--all',
  '--quiet',
  '--no-trunc',
  ...['--filter', name ? `label=${LABEL_INSTANCE}=${name}` : `label=${LABEL_INSTANCE}`],
];
export const inspectContainersArgs = (ids: readonly string[]) => ['container', 'inspect', ...ids];
/** Tunnel templates write their public URL here once the tunnel is up (world-readable). */
export const PUBLIC_URL_PATH = '/run/sandbox/public-url';
export const readPublicUrlArgs = (name: string) => ['exec', name, 'cat', PUBLIC_URL_PATH];
export interface LogsOptions {
  follow: boolean;
  /** A number of lines, or undefined for all of them. */
  tail?: number;
}
export const showLogsArgs = (name: string, options: LogsOptions) => [
  'logs',
  ...(options.follow ? ['--follow'] : []),
  ...['--tail', options.tail === undefined ? 'all' : String(options.tail)],
  name,
];
export const engineVersionArgs = () => ['version', '--format', '{{json .}}'];
export const engineInfoArgs = () => ['info', '--format', '{{json .}}'];
