// @ts-check
'use strict';
// Pinggy: from the container's environment to the OpenSSH client's
// configuration. CommonJS so that the CLI can load it synchronously
// and validate .env with the very same rules. Pure functions (unit-tested); configure.mjs writes the files.
// Every secret goes into the config file (readable by "gateway" only), never
// onto ssh's command line.

const { existsSync } = require('node:fs');
const { join } = require('node:path');

// Code every template shares: /opt/sandbox/js, beside this folder, in the image; docker/common/runtime/js in the
// repository, where the CLI validates .env with this very module and the unit tests load it.
const SHARED_LIB = existsSync(join(__dirname, '..', 'js')) ? join(__dirname, '..', 'js') : join(__dirname, '..', '..', 'common', 'runtime', 'js');
const { ACCESS_TOKEN_PATTERN, AUTH_MODES } = require(join(SHARED_LIB, 'setting-rules.cjs'));
const { badCidr, list } = require(join(SHARED_LIB, 'allowed-cidrs.cjs'));

class ConfigError extends Error {}

const DEFAULT_SERVER = 'a.pinggy.io';
const DEFAULT_PORT = 443;
const SSH_HOST_ALIAS = 'pinggy';
const SESSION_GATEWAY = '127.0.0.1:8000';
// AUTH=oauth: the auth gateway (docker/common/auth-gateway) checks every request and proxies to the session gateway.
const AUTH_GATEWAY = '127.0.0.1:8001';

/** The settings Pinggy needs, validated; errors name the variable. */
function pinggySettings(env) {
  const token = env.PINGGY_ACCESS_TOKEN ?? '';
  if (!token) throw new ConfigError('PINGGY_ACCESS_TOKEN is not set: copy your token from https://dashboard.pinggy.io');
  // Pinggy reads "+" parts of the user name as modes (token+tcp, +tls, +force, +qr...):
  // +tcp or +tls would make a raw tunnel to the session gateway that no k: bearer check
  // guards. The sandbox chooses the mode (x:https with the checks below); a token is the token alone.
  if (token.includes('+')) {
    // Not quoted: the message must not carry any part of the token.
    throw new ConfigError(
      "PINGGY_ACCESS_TOKEN holds a '+' part, which Pinggy reads as a tunnel mode (such as +tcp or +tls, which it does not guard with the bearer token). Set the token alone, without '+...': the sandbox always asks for HTTPS with the bearer check",
    );
  }
  if (!/^[A-Za-z0-9._-]+$/.test(token)) throw new ConfigError('PINGGY_ACCESS_TOKEN may hold only letters, digits and . _ -');

  const bearer = env.PINGGY_BEARER_TOKEN || env.ACCESS_TOKEN || '';
  if (!bearer) throw new ConfigError('PINGGY_BEARER_TOKEN (or ACCESS_TOKEN) is not set: generate one with npm run gen_key');
  // The bearer-token rule of every template (hex, 32 to 256): the CLI's, generated into setting-rules.cjs.
  if (!ACCESS_TOKEN_PATTERN.test(bearer)) {
    throw new ConfigError('PINGGY_BEARER_TOKEN (or ACCESS_TOKEN) must be 32 to 256 hex characters: generate one with npm run gen_key');
  }

  const oauth = (env.AUTH || 'bearer') === 'oauth';
  if (!AUTH_MODES.includes(env.AUTH || 'bearer')) throw new ConfigError(`AUTH must be ${AUTH_MODES.join(' or ')}`);
  if (oauth && env.PINGGY_BEARER_TOKEN && env.PINGGY_BEARER_TOKEN !== env.ACCESS_TOKEN) {
    throw new ConfigError(
      'AUTH=oauth: the container checks ACCESS_TOKEN itself, so PINGGY_BEARER_TOKEN would not be checked by anyone. Remove PINGGY_BEARER_TOKEN',
    );
  }
  if (oauth && env.PINGGY_BASIC_AUTH) {
    throw new ConfigError('AUTH=oauth and PINGGY_BASIC_AUTH cannot be used together: web connectors cannot send basic auth. Remove PINGGY_BASIC_AUTH');
  }
  const basicAuth = env.PINGGY_BASIC_AUTH ?? '';
  if (basicAuth && !/^[^\s:'"\\]+:[^\s'"\\]+$/.test(basicAuth)) {
    throw new ConfigError('PINGGY_BASIC_AUTH must be user:password without spaces or quotes');
  }
  const allowCidrs = list(env.PINGGY_ALLOW_CIDRS);
  const badEntry = badCidr(allowCidrs);
  if (badEntry) throw new ConfigError(`PINGGY_ALLOW_CIDRS entry '${badEntry}' is not an address or CIDR such as 203.0.113.0/24`);

  const server = env.PINGGY_SERVER || DEFAULT_SERVER;
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(server)) throw new ConfigError(`PINGGY_SERVER '${server}' is not a host name`);
  const port = Number(env.PINGGY_PORT || DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError('PINGGY_PORT must be a port number from 1 to 65535');

  const hostKey = (env.PINGGY_HOST_KEY ?? '').trim();
  if (hostKey && !/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|rsa-sha2-(256|512)) [A-Za-z0-9+/]+={0,3}$/.test(hostKey)) {
    throw new ConfigError('PINGGY_HOST_KEY must be a public key line such as "ssh-ed25519 AAAA..." (the part after the host name in known_hosts)');
  }
  const retries = Number(env.TUNNEL_RETRIES || 8);
  if (!Number.isInteger(retries) || retries < 1) throw new ConfigError('TUNNEL_RETRIES must be a whole number of at least 1');

  return { token, bearer, oauth, basicAuth, allowCidrs, server, port, hostKey, retries };
}

/** Pinggy's own options travel as the "remote command" of the SSH session. */
function remoteCommand(settings) {
  return [
    // With AUTH=oauth the edge checks nothing: discovery and registration come without a token, and the auth gateway judges the rest.
    ...(settings.oauth ? [] : [`k:${settings.bearer}`]),
    ...(settings.basicAuth ? [`b:${settings.basicAuth}`] : []),
    ...(settings.allowCidrs.length ? [`w:${settings.allowCidrs.join(',')}`] : []),
    'x:https',
  ].join(' ');
}

/** The known_hosts name of the server: OpenSSH writes [host]:port for ports other than 22. */
function knownHostsName(settings) {
  return settings.port === 22 ? settings.server : `[${settings.server}]:${settings.port}`;
}

function knownHosts(settings) {
  return settings.hostKey ? `${knownHostsName(settings)} ${settings.hostKey}\n` : '';
}

/**
 * Where ssh checks the server's key. Pinned (PINGGY_HOST_KEY): a file written from the
 * setting, checked strictly. Not pinned: the key first seen is accepted (accept-new) into
 * the instance's volume when one is mounted at stateDir, so every later start, a restart
 * included, refuses a different key; without the volume (plain `docker run`), into the
 * run folder, which lives as long as the container's current start.
 */
function knownHostsPlan(settings, runDir, stateDir, stateMounted) {
  if (settings.hostKey) return { file: `${runDir}/known_hosts`, write: knownHosts(settings), kept: false };
  if (stateMounted) return { file: `${stateDir}/known_hosts`, write: undefined, kept: true };
  return { file: `${runDir}/known_hosts`, write: '', kept: false };
}

/** Is `path` a mount point (a volume), per the lines of /proc/self/mountinfo? */
function isMountPoint(mountinfo, path) {
  return mountinfo.split('\n').some((line) => line.split(' ')[4] === path);
}

// ssh_config expands %-tokens in some values; a literal % is written %%.
const literal = (value) => value.replaceAll('%', '%%');

function sshConfig(settings, knownHostsFile) {
  return [
    `Host ${SSH_HOST_ALIAS}`,
    `  HostName ${settings.server}`,
    `  Port ${settings.port}`,
    `  User ${settings.token}`,
    `  RemoteForward 0 ${settings.oauth ? AUTH_GATEWAY : SESSION_GATEWAY}`,
    `  RemoteCommand ${literal(remoteCommand(settings))}`,
    '  RequestTTY no',
    '  ExitOnForwardFailure yes',
    '  ServerAliveInterval 30',
    '  ServerAliveCountMax 3',
    '  ConnectTimeout 20',
    // Pinggy takes the token as the user name and needs no key or password;
    // nothing may ever prompt.
    '  BatchMode yes',
    '  PubkeyAuthentication no',
    '  PasswordAuthentication no',
    '  KbdInteractiveAuthentication no',
    // The server's key is pinned by PINGGY_HOST_KEY; without it the first key
    // seen is trusted and kept (knownHostsPlan says where).
    `  StrictHostKeyChecking ${settings.hostKey ? 'yes' : 'accept-new'}`,
    `  UserKnownHostsFile ${knownHostsFile}`,
    '  GlobalKnownHostsFile /dev/null',
    '  UpdateHostKeys no',
    '  CheckHostIP no',
    '  ForwardAgent no',
    '  ForwardX11 no',
    '  ClearAllForwardings no',
    '  LogLevel INFO',
    '',
  ].join('\n');
}

const sshArgs = (configFile) => ['-F', configFile, SSH_HOST_ALIAS];

/** What a line of ssh or Pinggy output tells the supervisor. */
function readSessionLine(line) {
  const url = line.match(/\bhttps:\/\/[^\s"'<>]+/);
  if (url) return { url: url[0] };
  const allocated = line.match(/Allocated port (\d+) for remote forward/);
  if (allocated) return { allocatedPort: Number(allocated[1]) };
  if (
    /Permission denied|Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key .* is known for|Too many authentication failures/i.test(
      line,
    )
  ) {
    return { permanent: line.trim() };
  }
  return {};
}

module.exports = {
  ConfigError,
  DEFAULT_SERVER,
  DEFAULT_PORT,
  SSH_HOST_ALIAS,
  pinggySettings,
  remoteCommand,
  knownHostsName,
  knownHosts,
  knownHostsPlan,
  isMountPoint,
  sshConfig,
  sshArgs,
  readSessionLine,
};
