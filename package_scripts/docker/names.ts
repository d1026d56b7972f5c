/** Every Docker object of an instance is named after NAME, and labelled so it can be found again. */
export const LABEL_INSTANCE = 'io.mcp-sandbox.instance';
export const LABEL_TEMPLATE = 'io.mcp-sandbox.template';

export interface InstanceNames {
  container: string;
  image: string;
  network: string;
  tlsVolume: string;
  /** AUTH=oauth: the authorization state (clients, token hashes), readable by the gateway user only. */
  authVolume: string;
  /** TEMPLATE=pinggy: the tunnel server's host key as first seen, kept across restarts (docker/pinggy/gateway/configure.mjs). */
  tunnelVolume: string;
  /** MCP_DATA: the server's own data, kept across stop, start and rebuilds; only `stop --delete-data` removes it. */
  dataVolume: string;
  /** MCP_ENV's values as a file for the server alone (sandbox/server-env.ts): written by every start, removed by stop. */
  serverEnvVolume: string;
  /**
   * The session gateway's own state (user "warden"): the audit trail and the pinned tool
   * definitions, out of the server's reach, kept across stop, start and rebuilds.
   */
  wardenVolume: string;
}

export function instanceNames(name: string, tag = 'latest'): InstanceNames {
  return {
    container: name,
    image: `${name}:${tag}`,
    network: `${name}-net`,
    tlsVolume: `${name}-tls`,
    authVolume: `${name}-auth`,
    tunnelVolume: `${name}-tunnel`,
    dataVolume: `${name}-data`,
    serverEnvVolume: `${name}-server-env`,
    wardenVolume: `${name}-warden`,
  };
}

/** Inside the container: nginx listens here; HOST_PORT maps to it. */
export const GATEWAY_PORT = 8443;
/**
 * Inside the container: the session gateway on loopback, which every gateway
 * forwards to (test/unit/one-source.test.ts checks each file that names it).
 */
export const SESSION_GATEWAY_PORT = 8000;
export const TLS_VOLUME_TARGET = '/var/lib/mcp-sandbox/tls';
/** Inside the container: the OAuth state of AUTH=oauth (docker/common/auth-gateway), owned by "gateway", mode 0700. */
export const AUTH_VOLUME_TARGET = '/var/lib/mcp-sandbox/auth';
/** Inside the container: Pinggy's known_hosts as first seen, owned by "gateway", mode 0700 (docker/common/build/setup-os). */
export const TUNNEL_VOLUME_TARGET = '/var/lib/mcp-sandbox/tunnel';
/** Inside the container: the warden's state (audit trail, tool pins), owned by "warden", mode 0700 (docker/common/build/setup-os). */
export const WARDEN_VOLUME_TARGET = '/var/lib/mcp-sandbox/warden';
/** Inside the container: CERT_FILE and KEY_FILE, mounted read-only (docker/nginx/gateway/prepare reads them). */
export const USER_TLS_TARGET = '/etc/mcp-sandbox/user-tls';
