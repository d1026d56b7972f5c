import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  buildArgs,
  createNetworkArgs,
  findContainerArgs,
  findNetworkArgs,
  healthcheckArgs,
  imageExistsArgs,
  showLogsArgs,
  readCertificateArgs,
  removeContainerArgs,
  removeNetworkArgs,
  stateArgs,
} from '../../package_scripts/docker/argv.js';
import { hardeningArgs } from '../../package_scripts/sandbox/docker-run.js';
import { ENTRYPOINT_CAPABILITIES, sandboxProfile } from '../../package_scripts/sandbox/profile.js';
import { envOf as containerEnv, runArgs } from './sandbox-fixture.js';
import { formatCommand, maskSecrets } from '../../package_scripts/docker/engine.js';
import { instanceNames } from '../../package_scripts/docker/names.js';
import { resolveSettings, type Settings } from '../../package_scripts/settings/load.js';
import { DEFAULT_NPM_MCP } from '../../package_scripts/settings/schema.js';
import { makeProjectDir } from './project-fixture.js';
import { DEFAULT_NGINX_ENV, HEALTHCHECK_COMMAND } from './expected.js';

const TOKEN = '0123456789abcdef'.repeat(4); // 64 hex characters
const root = mkdtempSync(join(tmpdir(), 'mcp-argv-test-'));
const home = join(root, 'home');
const project = join(root, 'project');
const envDir = join(root, 'instance');
const envFile = join(envDir, '.env');
for (const dir of [home, project, envDir, join(envDir, 'data'), join(envDir, 'out')]) mkdirSync(dir, { recursive: true });
makeProjectDir(project);
after(() => rmSync(root, { recursive: true, force: true }));

/** Real defaults: the raw values go through the same resolveSettings as a .env file. */
function settings(raw: Record<string, string> = {}): Settings {
  return resolveSettings({ ACCESS_TOKEN: TOKEN, ...raw }, envFile, { hostEnv: { HOME: home }, projectDir: project });
}

/** The hardening part of the run argv for these settings. */
function hardeningOf(s: Settings): string[] {
  return hardeningArgs(sandboxProfile(s, instanceNames(s.NAME), { detached: true, egress: s.MCP_EGRESS }));
}

const DEFAULT_HARDENING = [
  '--cap-drop',
  'ALL',
  '--cap-add',
  'CHOWN',
  '--cap-add',
  'NET_ADMIN',
  '--cap-add',
  'SETGID',
  '--cap-add',
  'SETPCAP',
  '--cap-add',
  'SETUID',
  '--security-opt',
  'no-new-privileges',
  '--security-opt',
  `seccomp=${join(project, 'profiles', 'seccomp.json')}`,
  '--read-only',
  '--tmpfs',
  '/tmp:rw,nosuid,nodev,noexec,mode=1777,size=64m',
  '--tmpfs',
  '/run:rw,nosuid,nodev,noexec,mode=0755,size=16m',
  '--pids-limit',
  '256',
  '--memory',
  '1g',
  '--memory-swap',
  '1g',
  '--cpus',
  '1',
  '--ulimit',
  'core=0',
  // The log bound: the server's stderr cannot fill the host's disk.
  ...['--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3'],
];

/** Docker names the host machine inside the container (engines/docker.ts). */
const HOST_ALIAS = ['--add-host', 'host.docker.internal:host-gateway'];

const DEFAULT_ENV_FLAGS = [
  '--env',
  'NPM_MCP_ARGS',
  '--env',
  'MCP_SESSION_IDLE',
  '--env',
  'MCP_MAX_SESSIONS',
  '--env',
  'LOG_LEVEL',
  ...['MCP_AUDIT', 'MCP_AUDIT_ARGUMENTS', 'MCP_AUDIT_MAX_SIZE', 'MCP_AUDIT_KEEP', 'MCP_AUDIT_STDOUT', 'SANDBOX_NAME'].flatMap((n) => ['--env', n]),
  '--env',
  'MCP_EGRESS',
  '--env',
  'MCP_ENV',
  '--env',
  'SANDBOX_HOST_PORT',
  '--env',
  'SANDBOX_BIND_ADDRESS',
  '--env',
  'ACCESS_TOKEN',
  '--env',
  'ALLOWED_ORIGINS',
  '--env',
  'TLS_HOSTNAMES',
];

function assertNoSecretIn(args: readonly string[], secrets: readonly string[]) {
  for (const secret of secrets) {
    for (const arg of args) assert.ok(!arg.includes(secret), `argv element ${JSON.stringify(arg)} holds a secret value`);
  }
}

describe('settings defaults (via resolveSettings)', () => {
  it('fills the documented defaults and keeps the token out of the public fields', () => {
    const s = settings();
    assert.equal(s.template, 'nginx');
    assert.equal(s.NAME, 'mcp-sandbox');
    assert.deepEqual(s.server, { ecosystem: 'npm', display: `npm:${DEFAULT_NPM_MCP}`, spec: DEFAULT_NPM_MCP });
    assert.equal(s.MCP_SERVER_ARGS, '/workspace');
    assert.equal(s.HOST_PORT, 443);
    assert.equal(s.BIND_ADDRESS, '127.0.0.1');
    assert.equal(s.MCP_PIDS, 256);
    assert.equal(s.MCP_SESSION_IDLE, 300);
    assert.equal(s.MCP_MAX_SESSIONS, 18);
    assert.equal(s.accessToken, TOKEN);
    assert.deepEqual(s.secrets, [TOKEN]);
    assert.deepEqual(s.mounts, []);
    assert.deepEqual(s.serverEnv, {});
    assert.equal(s.extraCaCert, undefined);
    assert.equal(s.envFile, envFile);
    assert.ok(!('ACCESS_TOKEN' in s), 'the raw ACCESS_TOKEN field must not be copied into Settings');
  });
});

describe('buildArgs', () => {
  const contextDir = join(root, 'ctx');

  it('builds the default image with build arguments only (no secret)', () => {
    const s = settings();
    const args = buildArgs(s, instanceNames(s.NAME), { contextDir, noCache: false, serverSpec: `npm:${DEFAULT_NPM_MCP}` });
    assert.deepEqual(args, [
      'build',
      '--force-rm',
      '--file',
      join(contextDir, 'Dockerfile'),
      '--tag',
      'mcp-sandbox:latest',
      '--label',
      'io.mcp-sandbox.instance=mcp-sandbox',
      '--label',
      'io.mcp-sandbox.template=nginx',
      '--build-arg',
      'TEMPLATE=nginx',
      '--build-arg',
      'NODE_VERSION=22',
      '--build-arg',
      'SERVER_RUNTIME=node',
      '--build-arg',
      `MCP_SERVER=npm:${DEFAULT_NPM_MCP}`,
      '--build-arg',
      'MCP_SERVER_BIN=',
      '--build-arg',
      'MCP_INSTALL_SCRIPTS=true',
      contextDir,
    ]);
    assertNoSecretIn(args, s.secrets);
    assert.ok(!args.some((a) => a.startsWith('ACCESS_TOKEN')), 'no build argument names the token');
  });

  it('adds --no-cache, --platform, BASE_IMAGE, NPM_MCP_BIN, MCP_INSTALL_SCRIPTS, the tag and the staged server spec', () => {
    const s = settings({
      NAME: 'mcp-github',
      NODE_VERSION: '20.19.0',
      BASE_IMAGE: 'node:20-bookworm-slim',
      NPM_MCP: '@scope/server-github@1.2.3',
      NPM_MCP_BIN: 'server-github',
      MCP_INSTALL_SCRIPTS: 'false',
    });
    const args = buildArgs(s, instanceNames(s.NAME, 'v2'), {
      contextDir,
      noCache: true,
      platform: 'linux/arm64',
      serverSpec: 'npm:./server-github-1.2.3.tgz',
    });
    assert.deepEqual(args, [
      'build',
      '--force-rm',
      '--file',
      join(contextDir, 'Dockerfile'),
      '--tag',
      'mcp-github:v2',
      '--label',
      'io.mcp-sandbox.instance=mcp-github',
      '--label',
      'io.mcp-sandbox.template=nginx',
      '--no-cache',
      '--platform',
      'linux/arm64',
      '--build-arg',
      'TEMPLATE=nginx',
      '--build-arg',
      'NODE_VERSION=20.19.0',
      '--build-arg',
      'BASE_IMAGE=node:20-bookworm-slim',
      '--build-arg',
      'SERVER_RUNTIME=node',
      '--build-arg',
      'MCP_SERVER=npm:./server-github-1.2.3.tgz',
      '--build-arg',
      'MCP_SERVER_BIN=server-github',
      '--build-arg',
      'MCP_INSTALL_SCRIPTS=false',
      contextDir,
    ]);
    assertNoSecretIn(args, s.secrets);
  });
});

describe('hardeningArgs', () => {
  it('drops every capability, adds back only the entrypoint ones, and applies the default limits', () => {
    assert.deepEqual(hardeningOf(settings()), DEFAULT_HARDENING);
    assert.deepEqual([...ENTRYPOINT_CAPABILITIES], ['CHOWN', 'NET_ADMIN', 'SETGID', 'SETPCAP', 'SETUID']);
  });

  it('MCP_TMP_SIZE sizes the /tmp tmpfs, written as Docker reads it; /run keeps its 16m', () => {
    const args = hardeningOf(settings({ MCP_MEMORY: '2g', MCP_TMP_SIZE: '512M' }));
    const tmpfs = args.flatMap((arg, i) => (args[i - 1] === '--tmpfs' ? [arg] : []));
    assert.deepEqual(tmpfs, ['/tmp:rw,nosuid,nodev,noexec,mode=1777,size=512m', '/run:rw,nosuid,nodev,noexec,mode=0755,size=16m']);
  });

  it('uses MCP_MEMORY for both --memory and --memory-swap (no swap), MCP_CPUS, MCP_PIDS and MCP_SECCOMP_PROFILE', () => {
    const profile = join(envDir, 'stricter.json');
    copyFileSync(join(project, 'profiles', 'seccomp.json'), profile);
    assert.deepEqual(hardeningOf(settings({ MCP_MEMORY: '512m', MCP_CPUS: '0.5', MCP_PIDS: '64', MCP_SECCOMP_PROFILE: './stricter.json' })), [
      '--cap-drop',
      'ALL',
      '--cap-add',
      'CHOWN',
      '--cap-add',
      'NET_ADMIN',
      '--cap-add',
      'SETGID',
      '--cap-add',
      'SETPCAP',
      '--cap-add',
      'SETUID',
      '--security-opt',
      'no-new-privileges',
      '--security-opt',
      `seccomp=${profile}`,
      '--read-only',
      '--tmpfs',
      '/tmp:rw,nosuid,nodev,noexec,mode=1777,size=64m',
      '--tmpfs',
      '/run:rw,nosuid,nodev,noexec,mode=0755,size=16m',
      '--pids-limit',
      '64',
      '--memory',
      '512m',
      '--memory-swap',
      '512m',
      '--cpus',
      '0.5',
      '--ulimit',
      'core=0',
      ...['--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3'],
    ]);
  });
});

describe('containerEnv', () => {
  it('holds the gateway settings with their defaults, the token included (values travel beside argv)', () => {
    assert.deepEqual(containerEnv(settings()), { ...DEFAULT_NGINX_ENV, ACCESS_TOKEN: TOKEN });
  });

  it('adds the MCP_ENV variables with their values and lists their names in MCP_ENV', () => {
    const s = settings({
      MCP_ENV: 'GITHUB_TOKEN, API_BASE',
      GITHUB_TOKEN: 'ghp_notarealsecretvalue',
      API_BASE: 'https://api.example.com',
      UNLISTED: 'never-passed',
      NPM_MCP_ARGS: '--verbose /workspace',
      LOG_LEVEL: 'debug',
      MCP_EGRESS: 'api.github.com:443',
      ALLOWED_ORIGINS: 'https://app.example.com',
      TLS_HOSTNAMES: 'DNS:my-host,IP:192.0.2.10',
      MCP_SESSION_IDLE: '2m',
      MCP_MAX_SESSIONS: '4',
      MCP_TOOLS: ' read_*, list_directory',
      MCP_TOOLS_DENY: 'read_secret',
    });
    // The container receives the name: it is checked there, at connection time.
    assert.deepEqual(containerEnv(s), {
      ACCESS_TOKEN: TOKEN,
      NPM_MCP_ARGS: '--verbose /workspace',
      MCP_SESSION_IDLE: '120',
      MCP_MAX_SESSIONS: '4',
      LOG_LEVEL: 'debug',
      // The tool policy, normalized; the session gateway enforces it.
      MCP_TOOLS: 'read_*,list_directory',
      MCP_TOOLS_DENY: 'read_secret',
      MCP_AUDIT: 'true',
      MCP_AUDIT_ARGUMENTS: 'names',
      MCP_AUDIT_MAX_SIZE: '10485760',
      MCP_AUDIT_KEEP: '5',
      MCP_AUDIT_STDOUT: 'false',
      SANDBOX_NAME: 'mcp-sandbox',
      MCP_EGRESS: 'api.github.com:443',
      MCP_ENV: 'GITHUB_TOKEN,API_BASE',
      SANDBOX_HOST_PORT: '443',
      SANDBOX_BIND_ADDRESS: '127.0.0.1',
      ALLOWED_ORIGINS: 'https://app.example.com',
      TLS_HOSTNAMES: 'DNS:my-host,IP:192.0.2.10',
    });
    // The values are the server's alone: they travel in the profile's file channel (sandbox/server-env.ts), never in the container's environment.
    const profile = sandboxProfile(s, instanceNames(s.NAME), { detached: true, egress: s.MCP_EGRESS });
    assert.deepEqual(profile.serverEnv, {
      volume: 'mcp-sandbox-server-env',
      values: { GITHUB_TOKEN: 'ghp_notarealsecretvalue', API_BASE: 'https://api.example.com' },
    });
    assert.deepEqual(s.secrets, [TOKEN, 'ghp_notarealsecretvalue', 'https://api.example.com']);
  });
});

describe('runArgs', () => {
  it('attached: --rm, names only for the environment, the token only in env', () => {
    const s = settings();
    const run = runArgs(s, instanceNames(s.NAME), { detached: false });
    assert.deepEqual(run.args, [
      'run',
      '--name',
      'mcp-sandbox',
      '--rm',
      '--label',
      'io.mcp-sandbox.instance=mcp-sandbox',
      '--label',
      'io.mcp-sandbox.template=nginx',
      '--network',
      'mcp-sandbox-net',
      ...DEFAULT_HARDENING,
      '--publish',
      '127.0.0.1:443:8443',
      '--volume',
      'mcp-sandbox-tls:/var/lib/mcp-sandbox/tls',
      '--volume',
      'mcp-sandbox-warden:/var/lib/mcp-sandbox/warden',
      ...HOST_ALIAS,
      ...DEFAULT_ENV_FLAGS,
      'mcp-sandbox:latest',
    ]);
    assert.deepEqual(run.env, containerEnv(s));
    assert.equal(run.env.ACCESS_TOKEN, TOKEN);
  });

  it('detached: --detach and --restart unless-stopped instead of --rm, and the tag of the image', () => {
    const s = settings({ NAME: 'mcp-files', HOST_PORT: '8443' });
    const run = runArgs(s, instanceNames(s.NAME, 'v3'), { detached: true });
    assert.deepEqual(run.args, [
      'run',
      '--name',
      'mcp-files',
      '--detach',
      '--restart',
      'unless-stopped',
      '--label',
      'io.mcp-sandbox.instance=mcp-files',
      '--label',
      'io.mcp-sandbox.template=nginx',
      '--network',
      'mcp-files-net',
      ...DEFAULT_HARDENING,
      '--publish',
      '127.0.0.1:8443:8443',
      '--volume',
      'mcp-files-tls:/var/lib/mcp-sandbox/tls',
      '--volume',
      'mcp-files-warden:/var/lib/mcp-sandbox/warden',
      ...HOST_ALIAS,
      ...DEFAULT_ENV_FLAGS,
      'mcp-files:v3',
    ]);
    assert.ok(!run.args.includes('--rm'));
  });

  it('mounts: relative host paths resolve against the .env folder, read-only unless rw', () => {
    const s = settings({ MCP_MOUNTS: './data:/workspace, out:/output/:rw' });
    const run = runArgs(s, instanceNames(s.NAME), { detached: true });
    assert.deepEqual(run.args, [
      'run',
      '--name',
      'mcp-sandbox',
      '--detach',
      '--restart',
      'unless-stopped',
      '--label',
      'io.mcp-sandbox.instance=mcp-sandbox',
      '--label',
      'io.mcp-sandbox.template=nginx',
      '--network',
      'mcp-sandbox-net',
      ...DEFAULT_HARDENING,
      '--publish',
      '127.0.0.1:443:8443',
      '--volume',
      'mcp-sandbox-tls:/var/lib/mcp-sandbox/tls',
      '--volume',
      'mcp-sandbox-warden:/var/lib/mcp-sandbox/warden',
      '--mount',
      `type=bind,source=${join(envDir, 'data')},target=/workspace,readonly`,
      '--mount',
      `type=bind,source=${join(envDir, 'out')},target=/output`,
      ...HOST_ALIAS,
      ...DEFAULT_ENV_FLAGS,
      'mcp-sandbox:latest',
    ]);
  });

  it('MCP_ENV: no --env for the server variables, their values in neither argv nor env; the read-only volume of their file instead', () => {
    const s = settings({ MCP_ENV: 'GITHUB_TOKEN,OTHER_SECRET', GITHUB_TOKEN: 'ghp_0000notreal1111', OTHER_SECRET: 'hunter2-longer' });
    const run = runArgs(s, instanceNames(s.NAME), { detached: false });
    assert.deepEqual(run.args, [
      'run',
      '--name',
      'mcp-sandbox',
      '--rm',
      '--label',
      'io.mcp-sandbox.instance=mcp-sandbox',
      '--label',
      'io.mcp-sandbox.template=nginx',
      '--network',
      'mcp-sandbox-net',
      ...DEFAULT_HARDENING,
      '--publish',
      '127.0.0.1:443:8443',
      '--volume',
      'mcp-sandbox-tls:/var/lib/mcp-sandbox/tls',
      '--volume',
      'mcp-sandbox-warden:/var/lib/mcp-sandbox/warden',
      '--volume',
      'mcp-sandbox-server-env:/etc/mcp-sandbox/server-env:ro',
      ...HOST_ALIAS,
      ...DEFAULT_ENV_FLAGS,
      'mcp-sandbox:latest',
    ]);
    // The names stay in the environment (the entrypoint checks them); the values are in the file only.
    assert.equal(run.env.MCP_ENV, 'GITHUB_TOKEN,OTHER_SECRET');
    assert.equal('GITHUB_TOKEN' in run.env, false);
    assert.equal('OTHER_SECRET' in run.env, false);
    assertNoSecretIn(run.args, s.secrets);
    assertNoSecretIn(Object.values(run.env), ['ghp_0000notreal1111', 'hunter2-longer']);
  });

  it('an IPv6 BIND_ADDRESS is bracketed in --publish', () => {
    const s = settings({ BIND_ADDRESS: '::1', HOST_PORT: '9443' });
    const run = runArgs(s, instanceNames(s.NAME), { detached: false });
    const at = run.args.indexOf('--publish');
    assert.deepEqual(run.args.slice(at, at + 2), ['--publish', '[::1]:9443:8443']);
    assert.deepEqual(run.args, [
      'run',
      '--name',
      'mcp-sandbox',
      '--rm',
      '--label',
      'io.mcp-sandbox.instance=mcp-sandbox',
      '--label',
      'io.mcp-sandbox.template=nginx',
      '--network',
      'mcp-sandbox-net',
      ...DEFAULT_HARDENING,
      '--publish',
      '[::1]:9443:8443',
      '--volume',
      'mcp-sandbox-tls:/var/lib/mcp-sandbox/tls',
      '--volume',
      'mcp-sandbox-warden:/var/lib/mcp-sandbox/warden',
      ...HOST_ALIAS,
      ...DEFAULT_ENV_FLAGS,
      'mcp-sandbox:latest',
    ]);
    const any = runArgs(settings({ BIND_ADDRESS: '::' }), instanceNames('mcp-sandbox'), { detached: true });
    assert.ok(any.args.includes('[::]:443:8443'));
    const v4 = runArgs(settings({ BIND_ADDRESS: '0.0.0.0' }), instanceNames('mcp-sandbox'), { detached: true });
    assert.ok(v4.args.includes('0.0.0.0:443:8443'));
  });

  it('MCP_EGRESS names reach the container as names: no --add-host pin, the canonical value in its environment', () => {
    const s = settings({ MCP_EGRESS: 'api.github.com:443,registry.npmjs.org,*.githubusercontent.com', MCP_MOUNTS: './data:/workspace' });
    const run = runArgs(s, instanceNames(s.NAME), { detached: true });
    assert.deepEqual(run.args, [
      'run',
      '--name',
      'mcp-sandbox',
      '--detach',
      '--restart',
      'unless-stopped',
      '--label',
      'io.mcp-sandbox.instance=mcp-sandbox',
      '--label',
      'io.mcp-sandbox.template=nginx',
      '--network',
      'mcp-sandbox-net',
      ...DEFAULT_HARDENING,
      '--publish',
      '127.0.0.1:443:8443',
      '--volume',
      'mcp-sandbox-tls:/var/lib/mcp-sandbox/tls',
      '--volume',
      'mcp-sandbox-warden:/var/lib/mcp-sandbox/warden',
      '--mount',
      `type=bind,source=${join(envDir, 'data')},target=/workspace,readonly`,
      ...HOST_ALIAS,
      ...DEFAULT_ENV_FLAGS,
      'mcp-sandbox:latest',
    ]);
    assert.equal(run.env.MCP_EGRESS, 'api.github.com:443,registry.npmjs.org,*.githubusercontent.com');
    const byAddress = settings({ MCP_EGRESS: '10.1.2.0/24:5432, 192.0.2.7' });
    const direct = runArgs(byAddress, instanceNames(byAddress.NAME), { detached: true });
    assert.equal(direct.env.MCP_EGRESS, '10.1.2.0/24:5432,192.0.2.7');
  });

  it('the token value never appears in any argv element; only the name ACCESS_TOKEN does', () => {
    const variants: Array<[Record<string, string>, boolean]> = [
      [{}, false],
      [{}, true],
      [{ MCP_MOUNTS: './data:/workspace:rw', BIND_ADDRESS: '::1' }, true],
      [{ MCP_ENV: 'GH', GH: 'gh-secret-value' }, false],
      // The alias of the guide gives the same result.
      [{ ACCESS_TOKEN: '', NGINX_ACCESS_TOKEN: TOKEN }, true],
    ];
    for (const [raw, detached] of variants) {
      const s = settings(raw);
      assert.equal(s.accessToken, TOKEN);
      const run = runArgs(s, instanceNames(s.NAME), { detached });
      assertNoSecretIn(run.args, [TOKEN, ...s.secrets]);
      assert.ok(!run.args.some((a) => /^(NGINX_)?ACCESS_TOKEN=/.test(a)), 'no NAME=value form for the token');
      const at = run.args.indexOf('ACCESS_TOKEN');
      assert.ok(at > 0, 'ACCESS_TOKEN is named');
      assert.equal(run.args[at - 1], '--env');
      assert.equal(run.args.filter((a) => a.includes('ACCESS_TOKEN')).length, 1);
      assert.ok(!formatCommand(run.args, s.secrets).includes(TOKEN));
      assert.equal(run.env.ACCESS_TOKEN, TOKEN);
    }
  });
});

describe('small argv helpers', () => {
  it('instanceNames derives every object name from NAME', () => {
    assert.deepEqual(instanceNames('mcp-x'), {
      container: 'mcp-x',
      image: 'mcp-x:latest',
      network: 'mcp-x-net',
      tlsVolume: 'mcp-x-tls',
      authVolume: 'mcp-x-auth',
      tunnelVolume: 'mcp-x-tunnel',
      dataVolume: 'mcp-x-data',
      serverEnvVolume: 'mcp-x-server-env',
      wardenVolume: 'mcp-x-warden',
    });
    assert.deepEqual(instanceNames('mcp-x', '1.2'), {
      container: 'mcp-x',
      image: 'mcp-x:1.2',
      network: 'mcp-x-net',
      tlsVolume: 'mcp-x-tls',
      authVolume: 'mcp-x-auth',
      tunnelVolume: 'mcp-x-tunnel',
      dataVolume: 'mcp-x-data',
      serverEnvVolume: 'mcp-x-server-env',
      wardenVolume: 'mcp-x-warden',
    });
  });

  it('container and network look-ups are anchored on the exact name', () => {
    // Docker matches "/mcp-sandbox", Podman "mcp-sandbox"; both engines were tried with this filter.
    assert.deepEqual(findContainerArgs('mcp-sandbox'), ['ps', '--all', '--quiet', '--filter', 'name=^/?mcp-sandbox$']);
    assert.deepEqual(findNetworkArgs('mcp-sandbox-net'), ['network', 'ls', '--quiet', '--filter', 'name=^mcp-sandbox-net$']);
  });

  it('remove, inspect, create, state, health check, certificate and logs', () => {
    assert.deepEqual(removeContainerArgs('mcp-sandbox'), ['rm', '--force', 'mcp-sandbox']);
    assert.deepEqual(imageExistsArgs('mcp-sandbox:latest'), ['image', 'inspect', '--format', '{{.Id}}', 'mcp-sandbox:latest']);
    assert.deepEqual(createNetworkArgs('mcp-sandbox-net', 'mcp-sandbox'), [
      'network',
      'create',
      '--label',
      'io.mcp-sandbox.instance=mcp-sandbox',
      'mcp-sandbox-net',
    ]);
    assert.deepEqual(removeNetworkArgs('mcp-sandbox-net'), ['network', 'rm', 'mcp-sandbox-net']);
    assert.deepEqual(stateArgs('mcp-sandbox'), ['inspect', '--format', '{{.State.Status}}', 'mcp-sandbox']);
    assert.deepEqual(healthcheckArgs('mcp-sandbox'), ['exec', 'mcp-sandbox', ...HEALTHCHECK_COMMAND]);
    assert.deepEqual(readCertificateArgs('mcp-sandbox'), ['exec', 'mcp-sandbox', 'cat', '/run/sandbox/served-cert.pem']);
    assert.deepEqual(showLogsArgs('mcp-sandbox', { follow: false, tail: 30 }), ['logs', '--tail', '30', 'mcp-sandbox']);
  });
});

describe('formatCommand and maskSecrets', () => {
  it('maskSecrets replaces every occurrence of every secret of 4 characters or more', () => {
    assert.equal(maskSecrets(`token ${TOKEN} and again ${TOKEN}.`, [TOKEN]), 'token **** and again ****.');
    assert.equal(maskSecrets('a=ghp_abcd b=s3cr3t', ['ghp_abcd', 's3cr3t']), 'a=**** b=****');
    assert.equal(maskSecrets('abc is short', ['abc']), 'abc is short');
    assert.equal(maskSecrets('nothing here', []), 'nothing here');
    assert.equal(maskSecrets('', [TOKEN]), '');
  });

  it('formatCommand prefixes docker, quotes what the shell would split, and masks secrets', () => {
    assert.equal(formatCommand(['ps', '--all']), 'docker ps --all');
    assert.equal(formatCommand(['run', '--name', 'x', 'a b', "it's", '']), `docker run --name x 'a b' 'it'\\''s' ''`);
    assert.equal(formatCommand(['inspect', '--format', '{{.State.Status}}', 'x']), `docker inspect --format '{{.State.Status}}' x`);
    assert.equal(formatCommand(['run', '--env', `ACCESS_TOKEN=${TOKEN}`, 'img'], [TOKEN]), 'docker run --env ACCESS_TOKEN=**** img');
    assert.equal(formatCommand(['run', '--label', `x=${TOKEN} y`], [TOKEN]), `docker run --label 'x=**** y'`);
  });

  it('a dry-run rendering of the real run argv carries no secret', () => {
    const s = settings({ MCP_ENV: 'GH_PAT', GH_PAT: 'ghp_dryrunsecret' });
    const text = formatCommand(runArgs(s, instanceNames(s.NAME), { detached: true }).args, s.secrets);
    assert.ok(text.startsWith('docker run --name mcp-sandbox --detach'));
    assert.ok(text.includes('--cap-drop ALL'));
    assert.ok(text.includes('--env ACCESS_TOKEN'));
    assert.ok(!text.includes('--env GH_PAT'));
    assert.ok(text.includes('--volume mcp-sandbox-server-env:/etc/mcp-sandbox/server-env:ro'));
    assert.ok(!text.includes(TOKEN));
    assert.ok(!text.includes('ghp_dryrunsecret'));
  });
});
