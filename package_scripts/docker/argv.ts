import { join } from 'node:path';
import type { Settings } from '../settings/load.js';
import { LABEL_INSTANCE, LABEL_TEMPLATE, type InstanceNames } from './names.js';
import { IMAGE_HEALTHCHECK } from './healthcheck.js';
import { packageNames } from '../settings/debian-packages.js';

/**
 * Pure builders of docker argv. Arguments are always separate array elements
 * (no shell, no quoting). The run command is rendered from the sandbox profile
 * (sandbox/docker-run.ts).
 */

export interface BuildOptions {
  contextDir: string;
  noCache: boolean;
  platform?: string;
  /** MCP_SERVER as the Dockerfile sees it (see docker/context.ts). */
  serverSpec: string;
}

export function buildArgs(settings: Settings, names: InstanceNames, options: BuildOptions): string[] {
  const buildArg = (name: string, value: string) => ['--build-arg', `${name}=${value}`];
  const packageArg = (name: string, value: string | undefined) => {
    const list = packageNames(value ?? '').join(',');
    return list ? buildArg(name, list) : [];
  };
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
    // Only when set, so that an image that names none keeps its cache and gets none.
    ...packageArg('MCP_SYSTEM_PACKAGES', settings.MCP_SYSTEM_PACKAGES),
    ...packageArg('MCP_BUILD_PACKAGES', settings.MCP_BUILD_PACKAGES),
    // Only when set: their values are kept in the (thrown-away) server stage's history.
    ...(settings.PIP_INDEX_URL ? buildArg('PIP_INDEX_URL', settings.PIP_INDEX_URL) : []),
    ...(settings.PIP_EXTRA_INDEX_URL ? buildArg('PIP_EXTRA_INDEX_URL', settings.PIP_EXTRA_INDEX_URL) : []),
    options.contextDir,
  ];
}

/** Where setup-os keeps MCP_SYSTEM_PACKAGES' NAME=VERSION lines in the image: the build's record. */
export const SYSTEM_PACKAGES_RECORD = '/opt/sandbox/build/system-packages';
/** The record read from the image just built, without its entrypoint, network or root. */
export const readSystemPackagesArgs = (image: string) => [
  'run',
  '--rm',
  ...['--network', 'none'],
  ...['--user', '65534:65534'],
  ...['--entrypoint', 'cat'],
  image,
  SYSTEM_PACKAGES_RECORD,
];

/** Docker names a container "/NAME" in this filter, Podman "NAME": the optional slash matches both, and only NAME. */
export const findContainerArgs = (name: string) => ['ps', '--all', '--quiet', '--filter', `name=^/?${name}$`];
export const removeContainerArgs = (name: string) => ['rm', '--force', name];
export const imageExistsArgs = (image: string) => ['image', 'inspect', '--format', '{{.Id}}', image];
export const findNetworkArgs = (network: string) => ['network', 'ls', '--quiet', '--filter', `name=^${network}$`];
export const createNetworkArgs = (network: string, instance: string) => ['network', 'create', ...['--label', `${LABEL_INSTANCE}=${instance}`], network];
export const removeNetworkArgs = (network: string) => ['network', 'rm', network];
export const findVolumeArgs = (volume: string) => ['volume', 'ls', '--quiet', '--filter', `name=^${volume}$`];
export const removeVolumeArgs = (volume: string) => ['volume', 'rm', volume];
export const stateArgs = (name: string) => ['inspect', '--format', '{{.State.Status}}', name];
/** The image's own health check (healthcheck.ts), run now: unprivileged, with an empty environment. */
export const healthcheckArgs = (name: string) => ['exec', name, ...IMAGE_HEALTHCHECK.command];
/** One MCP round trip on the container's loopback, as the unprivileged gateway user (docker/common/runtime/bin/mcp-probe). */
export const probeInsideArgs = (name: string, timeoutSeconds: number) => [
  'exec',
  ...['--user', 'gateway'],
  name,
  '/opt/sandbox/bin/mcp-probe',
  String(Math.max(1, Math.round(timeoutSeconds))),
];
/** AUTH=oauth: the auth gateway revokes every token and code it issued (docker/common/auth-gateway, control socket; as "gateway", its only user). */
export const revokeOAuthArgs = (name: string) => ['exec', ...['--user', 'gateway'], name, 'node', '/opt/sandbox/auth-gateway/main.mjs', 'revoke-all'];
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
/** Where the egress enforcer keeps, in learn mode, the MCP_EGRESS line of what was reached (egress-gateway/src/main.mjs). */
export const LEARNED_EGRESS_PATH = '/run/sandbox/egress/learned';
export const learnedEgressArgs = (name: string) => ['exec', name, 'cat', LEARNED_EGRESS_PATH];
/** The pins tool the session gateway ships (pins-tool.mjs), run as warden, who owns the pins. */
export const PINS_TOOL_PATH = '/opt/session-gateway/pins-tool.mjs';
export const toolPinsArgs = (name: string, args: readonly string[]) => ['exec', '--user', 'warden', name, 'node', PINS_TOOL_PATH, ...args];
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
/** The audit trail's folder in the warden's volume (docker/common/session-gateway/src/audit.mjs). */
export const AUDIT_DIR = '/var/lib/mcp-sandbox/warden/audit';
/**
 * Every audit file, as the warden (the folder is its own, 0700), in one exec: each after a
 * line `==> NAME <==` (tail's header; an audit line starts with `{`). A fixed script, nothing of the user's in it.
 */
export const readAuditArgs = (name: string) => [
  'exec',
  ...['--user', 'warden'],
  name,
  'sh',
  '-c',
  `cd ${AUDIT_DIR} 2>/dev/null || exit 0; for f in audit.jsonl*; do [ -f "$f" ] && printf '==> %s <==\\n' "$f" && cat -- "$f"; done; exit 0`,
];
