// @ts-check
// The auth gateway's settings, from the environment the entrypoint passes.
// Each one is checked; a bad value is a ConfigError naming the setting and
// the fix (main.mjs prints it and exits 78, like the session gateway).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import addressRules from './cimd-address.cjs';
import { publicUrlProblem } from './resource.mjs';

// The settings rules the CLI applies too (generated from package_scripts/settings/schema.ts): /opt/sandbox/js,
// beside this folder, in the image; docker/common/runtime/js in the repository, where the unit tests load this module.
const sharedLib = ['../js/', '../../runtime/js/'].map((path) => new URL(path, import.meta.url)).find((url) => existsSync(url));
const { ACCESS_TOKEN_PATTERN, LOG_LEVELS } = createRequire(import.meta.url)(fileURLToPath(new URL('setting-rules.cjs', sharedLib)));

export class ConfigError extends Error {}

const DEFAULTS = {
  AUTH_PORT: 8001,
  AUTH_STATE_DIR: '/var/lib/mcp-sandbox/auth',
  AUTH_CONTROL_SOCKET: '/run/sandbox/gateway/auth-control.sock',
  OAUTH_ACCESS_TTL: 900,
  OAUTH_REFRESH_TTL: 2592000,
  // The image's EXTRA_CA_CERT bundle (Dockerfile): the CIMD fetcher trusts it next to Node's CAs.
  AUTH_CIMD_CA_FILE: '/opt/sandbox/ca/extra-ca.crt',
};

function seconds(env, name, min, max) {
  const raw = env[name] || String(DEFAULTS[name]);
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new ConfigError(`${name} must be a whole number of seconds from ${min} to ${max} (got '${raw.slice(0, 40)}')`);
  return Number(raw);
}

function absolutePath(env, name) {
  const value = env[name] || DEFAULTS[name];
  if (!value.startsWith('/')) throw new ConfigError(`${name} must be an absolute path (got '${value.slice(0, 100)}')`);
  return value;
}

export function parseConfig(env) {
  const portText = env.AUTH_PORT || String(DEFAULTS.AUTH_PORT);
  if (!/^\d+$/.test(portText) || Number(portText) > 65535)
    throw new ConfigError(`AUTH_PORT must be a port number from 0 to 65535 (got '${portText.slice(0, 20)}')`);

  const accessToken = env.ACCESS_TOKEN ?? '';
  if (!accessToken) throw new ConfigError('ACCESS_TOKEN is required: the static token keeps working next to OAuth and proves ownership at consent');
  if (!ACCESS_TOKEN_PATTERN.test(accessToken)) throw new ConfigError('ACCESS_TOKEN must be 32 to 256 hex characters (npm run gen_key makes one)');

  const passphrase = env.OAUTH_OWNER_PASSPHRASE ?? '';
  if (passphrase && passphrase.length < 12)
    throw new ConfigError('OAUTH_OWNER_PASSPHRASE must be at least 12 characters (or leave it empty: the consent page then takes ACCESS_TOKEN)');

  const resource = env.AUTH_RESOURCE ?? '';
  const resourceFile = env.AUTH_RESOURCE_FILE ?? '';
  if (resource && resourceFile)
    throw new ConfigError('AUTH_RESOURCE and AUTH_RESOURCE_FILE are exclusive: set AUTH_RESOURCE (nginx) or AUTH_RESOURCE_FILE (tunnels)');
  if (!resource && !resourceFile)
    throw new ConfigError(
      'AUTH_RESOURCE (the public URL such as https://127.0.0.1:8443/mcp) or AUTH_RESOURCE_FILE (the file the tunnel agent writes its URL to) is required',
    );
  if (resource) {
    const problem = publicUrlProblem(resource);
    if (problem) throw new ConfigError(`AUTH_RESOURCE ${problem} (got '${resource.slice(0, 100)}'), e.g. https://127.0.0.1:8443/mcp`);
  }
  if (resourceFile && !resourceFile.startsWith('/')) throw new ConfigError(`AUTH_RESOURCE_FILE must be an absolute path (got '${resourceFile.slice(0, 100)}')`);

  const upstreamText = env.AUTH_UPSTREAM ?? '';
  let upstream;
  if (upstreamText) {
    try {
      upstream = new URL(upstreamText);
    } catch {
      upstream = undefined;
    }
    if (!upstream || upstream.protocol !== 'http:' || upstream.username || upstream.search || (upstream.pathname !== '/' && upstream.pathname !== ''))
      throw new ConfigError(`AUTH_UPSTREAM must be a plain http origin such as http://127.0.0.1:8000 (got '${upstreamText.slice(0, 100)}')`);
  }

  let cimdAllowance;
  try {
    cimdAllowance = addressRules.parseAllowance(env.OAUTH_CIMD_ALLOW);
  } catch (error) {
    throw new ConfigError(error.message);
  }

  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(`LOG_LEVEL '${logLevel.slice(0, 20)}' is not ${LOG_LEVELS.slice(0, -1).join(', ')} or ${LOG_LEVELS.at(-1)}`);

  return {
    port: Number(portText),
    stateDir: absolutePath(env, 'AUTH_STATE_DIR'),
    controlSocket: absolutePath(env, 'AUTH_CONTROL_SOCKET'),
    accessToken,
    passphrase,
    resource: resource || undefined,
    resourceFile: resourceFile || undefined,
    upstream: upstream?.origin,
    accessTtl: seconds(env, 'OAUTH_ACCESS_TTL', 5, 86400),
    refreshTtl: seconds(env, 'OAUTH_REFRESH_TTL', 60, 31536000),
    logLevel,
    cimdAllowance,
    cimdCaFile: absolutePath(env, 'AUTH_CIMD_CA_FILE'),
  };
}
