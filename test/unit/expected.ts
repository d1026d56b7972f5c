/**
 * Expected values several unit tests hold the code to, written out once and
 * by hand (never taken from the code under test): a change to one of them is
 * one edit here, and every test that renders it sees it.
 */

/** The image's health check command (the Dockerfile's HEALTHCHECK): as `docker exec`, Compose and Kubernetes run it. */
export const HEALTHCHECK_COMMAND = [
  '/usr/bin/setpriv',
  '--reuid=nobody',
  '--regid=nogroup',
  '--clear-groups',
  '--inh-caps=-all',
  '--bounding-set=-all',
  '--no-new-privs',
  '--',
  '/usr/bin/env',
  '-i',
  'PATH=/usr/bin:/bin',
  '/opt/sandbox/bin/healthcheck',
];

/** The container's own variables with every setting at its default (MCP_MEMORY=1g and MCP_PIDS=256 make 18 sessions). */
export const DEFAULT_CONTAINER_ENV: Readonly<Record<string, string>> = {
  NPM_MCP_ARGS: '/workspace',
  MCP_SESSION_IDLE: '300',
  MCP_MAX_SESSIONS: '18',
  LOG_LEVEL: 'info',
  MCP_AUDIT: 'true',
  MCP_AUDIT_ARGUMENTS: 'names',
  MCP_AUDIT_MAX_SIZE: '10485760',
  MCP_AUDIT_KEEP: '5',
  MCP_AUDIT_STDOUT: 'false',
  SANDBOX_NAME: 'mcp-sandbox',
  MCP_EGRESS: 'none',
  MCP_ENV: '',
};

/** What nginx (a published port) adds at its defaults: where the port is published, and its gateway's settings. */
export const DEFAULT_NGINX_ENV: Readonly<Record<string, string>> = {
  ...DEFAULT_CONTAINER_ENV,
  SANDBOX_HOST_PORT: '443',
  SANDBOX_BIND_ADDRESS: '127.0.0.1',
  ALLOWED_ORIGINS: '',
  TLS_HOSTNAMES: '',
};
