import type { InstanceNames } from '../docker/names.js';
import {
  AUTH_VOLUME_TARGET,
  GATEWAY_PORT,
  LABEL_INSTANCE,
  LABEL_TEMPLATE,
  TLS_VOLUME_TARGET,
  TUNNEL_VOLUME_TARGET,
  USER_TLS_TARGET,
  WARDEN_VOLUME_TARGET,
} from '../docker/names.js';
import { UsageError } from '../errors.js';
import type { Settings } from '../settings/load.js';
import { ownNetworkIssue } from '../settings/networks.js';
import { publishesPort, templateNamed } from '../templates/registry.js';
import { firewallEgressValue } from './firewall.js';
import type { EgressSetting } from '../settings/egress.js';
import type { ServerEnvChannel } from './server-env.js';

/**
 * The sandbox of one instance as data: everything the kernel enforces and
 * everything the container is given, built once from the settings. Pure
 * renderers turn it into the `docker run` argv (docker-run.ts) and the
 * firewall's rules (firewall.ts); exports render the same object.
 */
export interface SandboxProfile {
  container: string;
  image: string;
  labels: Record<string, string>;
  /** Detached instances restart unless stopped; attached ones are removed when they end. */
  lifecycle: 'restart-unless-stopped' | 'remove-on-exit';
  /** Dropped: all. Added back for the entrypoint's set-up only (it gives them up before anything long-lived starts). */
  capabilities: { drop: readonly ['ALL']; add: readonly string[] };
  noNewPrivileges: true;
  /** Absolute path of the seccomp profile (JSON) on the host. */
  seccompProfile: string;
  readOnlyRoot: true;
  tmpfs: readonly TmpfsMount[];
  limits: Limits;
  log: LogBound;
  network: string;
  /** MCP_NETWORKS: existing networks joined beside `network` before the container starts (docker-run.ts's joinNetworkArgs). */
  extraNetworks: readonly string[];
  /** A template reached on a published port only: where the gateway port is published on the host. */
  publish?: { hostAddress: string; hostPort: number; containerPort: number };
  /** Named volumes (the TLS state of a published port, the OAuth state of AUTH=oauth, a tunnel's state such as Pinggy's host key, the server's MCP_DATA, the warden's audit trail and pins). */
  volumes: readonly NamedVolume[];
  /** Host paths bound into the container: MCP_MOUNTS and CERT_FILE/KEY_FILE. */
  binds: readonly BindMount[];
  /** MCP_EGRESS as parsed: names are checked in the container, on the name (docs/design/EGRESS.md). */
  egress: EgressSetting;
  /** The container's environment. Only the names go on a command line; values travel beside it. */
  env: Record<string, string>;
  /** MCP_ENV's values: a file for the server alone (server-env.ts), never in `env`. Absent when MCP_ENV is empty. */
  serverEnv?: ServerEnvChannel;
}

export interface NamedVolume {
  name: string;
  target: string;
  /** MCP_DATA and the warden's state: data that must outlive the pod too (Kubernetes: a PersistentVolumeClaim, not an emptyDir). */
  persistent?: true;
}

export interface TmpfsMount {
  target: string;
  /** Sizes in Docker's notation (64m). */
  size: string;
  /** Mounted rw, nosuid, nodev, noexec: nothing written at run time can be run. */
  options: readonly ['rw', 'nosuid', 'nodev', 'noexec'];
  /**
   * The mount's own mode, never the engine's default (Docker's is 1777): /run
   * is root's and read-only to the others (the entrypoint gives each user its
   * folder below it), /tmp is shared and sticky. The entrypoint sets the same
   * modes where a renderer cannot (Kubernetes' emptyDir).
   */
  mode: '0755' | '1777';
}

export interface Limits {
  pids: number;
  /** Docker's size notation; swap is set to the same value, so there is none. */
  memory: string;
  cpus: string;
  /** ulimit core: 0, so a crashing process's memory (tokens included) never lands in a file. */
  coreFileSize: 0;
}

/**
 * The container's log on the host. Every line the server writes to stderr is
 * passed on to it, and memory, CPU and process limits do not cover the engine's
 * log file: without a bound the server can fill the host's disk. The json-file
 * driver is named (a daemon's default may be one that ignores max-size) and is
 * the one `docker logs` and .LogPath read; Podman takes the same flags (its
 * k8s-file log is truncated at max-size; it keeps no rotated files).
 */
export interface LogBound {
  driver: 'json-file';
  /** Docker's size notation, per file. */
  maxSize: string;
  /** Files kept, the current one included: at most maxSize × maxFiles on the host. */
  maxFiles: number;
}

export const SANDBOX_LOG: LogBound = { driver: 'json-file', maxSize: '10m', maxFiles: 3 };

export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/**
 * Capabilities the entrypoint needs for its set-up, and only for that (see
 * docker/common/runtime/bin/entrypoint for what each one is for).
 */
export const ENTRYPOINT_CAPABILITIES = ['CHOWN', 'NET_ADMIN', 'SETGID', 'SETPCAP', 'SETUID'] as const;

const NOEXEC = ['rw', 'nosuid', 'nodev', 'noexec'] as const;
/** /tmp is MCP_TMP_SIZE (64m by default; a browser needs more, docs/GUIDE.md "A browser"); /run is the sandbox's own. */
export function sandboxTmpfs(tmpSize: string): readonly TmpfsMount[] {
  return [
    { target: '/tmp', size: tmpSize, options: NOEXEC, mode: '1777' },
    { target: '/run', size: '16m', options: NOEXEC, mode: '0755' },
  ];
}

export interface ProfileOptions {
  detached: boolean;
  /** MCP_EGRESS as parsed (settings/egress.ts); nothing is resolved on the host. */
  egress: EgressSetting;
  /**
   * AUTH=oauth on a published port: the protected resource's URL (instance/oauth.ts), which
   * tokens are bound to; never taken from a request. Tunnels read theirs in the container.
   */
  oauthResource?: string;
}

/**
 * The container's environment: the gateway's settings, the names (not the
 * values) of the server's variables, and the normalized egress rules. The
 * values go through the profile's serverEnv channel instead.
 */
export function containerEnv(settings: Settings, egress: EgressSetting, oauthResource?: string): Record<string, string> {
  return {
    // The container's name for MCP_SERVER_ARGS.
    NPM_MCP_ARGS: settings.MCP_SERVER_ARGS,
    MCP_SESSION_IDLE: String(settings.MCP_SESSION_IDLE),
    MCP_MAX_SESSIONS: String(settings.MCP_MAX_SESSIONS),
    LOG_LEVEL: settings.LOG_LEVEL,
    // The tool policy, enforced by the session gateway (settings/tools.ts); unset when empty.
    ...(settings.MCP_TOOLS.length > 0 ? { MCP_TOOLS: settings.MCP_TOOLS.join(',') } : {}),
    ...(settings.MCP_TOOLS_DENY.length > 0 ? { MCP_TOOLS_DENY: settings.MCP_TOOLS_DENY.join(',') } : {}),
    // The audit trail (settings/audit.ts); the instance's name goes into each line.
    MCP_AUDIT: settings.MCP_AUDIT,
    MCP_AUDIT_ARGUMENTS: settings.MCP_AUDIT_ARGUMENTS,
    MCP_AUDIT_MAX_SIZE: String(settings.MCP_AUDIT_MAX_SIZE),
    MCP_AUDIT_KEEP: String(settings.MCP_AUDIT_KEEP),
    MCP_AUDIT_STDOUT: settings.MCP_AUDIT_STDOUT,
    SANDBOX_NAME: settings.NAME,
    MCP_EGRESS: firewallEgressValue(egress),
    MCP_ENV: Object.keys(settings.serverEnv).join(','),
    // Where the port is published: the gateway derives the instance's own origins from it.
    ...(publishesPort(settings.template) ? { SANDBOX_HOST_PORT: String(settings.HOST_PORT), SANDBOX_BIND_ADDRESS: settings.BIND_ADDRESS } : {}),
    // Only for the gateway's log line: the mounted pair was signed by the local CA, not brought as CERT_FILE.
    ...(settings.tlsFiles?.localCa ? { SANDBOX_TLS_SOURCE: 'local-ca' } : {}),
    ...(oauthResource ? { AUTH_RESOURCE: oauthResource } : {}),
    // The entrypoint hands this mount point to the server's user (it is root's when the volume is new).
    ...(settings.MCP_DATA ? { MCP_DATA: settings.MCP_DATA } : {}),
    ...settings.gatewayEnv,
  };
}

function tlsFileBinds(settings: Settings): BindMount[] {
  if (!settings.tlsFiles) return [];
  // Read-only: the gateway copies them at start and never writes back.
  return [
    { source: settings.tlsFiles.certFile, target: `${USER_TLS_TARGET}/cert.pem`, readOnly: true },
    { source: settings.tlsFiles.keyFile, target: `${USER_TLS_TARGET}/key.pem`, readOnly: true },
  ];
}

export function sandboxProfile(settings: Settings, names: InstanceNames, options: ProfileOptions): SandboxProfile {
  // A tunnel dials out: nothing is published and there is no certificate to keep.
  const published = publishesPort(settings.template);
  return {
    container: names.container,
    image: names.image,
    labels: { [LABEL_INSTANCE]: settings.NAME, [LABEL_TEMPLATE]: settings.template },
    lifecycle: options.detached ? 'restart-unless-stopped' : 'remove-on-exit',
    capabilities: { drop: ['ALL'], add: ENTRYPOINT_CAPABILITIES },
    noNewPrivileges: true,
    seccompProfile: settings.seccompProfile,
    readOnlyRoot: true,
    tmpfs: sandboxTmpfs(settings.MCP_TMP_SIZE),
    limits: { pids: settings.MCP_PIDS, memory: settings.MCP_MEMORY, cpus: settings.MCP_CPUS, coreFileSize: 0 },
    log: SANDBOX_LOG,
    network: names.network,
    extraNetworks: joinedNetworks(settings.networks, names.network),
    ...(published ? { publish: { hostAddress: settings.BIND_ADDRESS, hostPort: settings.HOST_PORT, containerPort: GATEWAY_PORT } } : {}),
    volumes: [
      ...(published ? [{ name: names.tlsVolume, target: TLS_VOLUME_TARGET }] : []),
      ...(settings.AUTH === 'oauth' ? [{ name: names.authVolume, target: AUTH_VOLUME_TARGET }] : []),
      // Pinggy without PINGGY_HOST_KEY keeps the key first seen here, so a restart does not trust a new one.
      ...(templateNamed(settings.template).keepsTunnelState ? [{ name: names.tunnelVolume, target: TUNNEL_VOLUME_TARGET }] : []),
      ...(settings.MCP_DATA ? [{ name: names.dataVolume, target: settings.MCP_DATA, persistent: true as const }] : []),
      // The audit trail and the tool pins: the owner's record, which outlives the container and its image.
      { name: names.wardenVolume, target: WARDEN_VOLUME_TARGET, persistent: true as const },
    ],
    binds: [
      ...(published ? tlsFileBinds(settings) : []),
      ...settings.mounts.map((m) => ({ source: m.hostPath, target: m.containerPath, readOnly: m.readOnly })),
    ],
    egress: options.egress,
    env: containerEnv(settings, options.egress, options.oauthResource),
    ...(Object.keys(settings.serverEnv).length > 0 ? { serverEnv: { volume: names.serverEnvVolume, values: { ...settings.serverEnv } } } : {}),
  };
}

/** MCP_NETWORKS as the profile holds it; the instance's own network is named there only when the name is known. */
function joinedNetworks(networks: readonly string[], own: string): readonly string[] {
  const issue = ownNetworkIssue(networks, own);
  if (issue) throw new UsageError(issue);
  return networks;
}
