/**
 * Rules that must live in more than one runtime (the CLI in TypeScript, the
 * container in bash and CommonJS) are checked here against one table each:
 * the copies cannot drift apart without a failing test.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PUBLIC_URL_PATH } from '../../package_scripts/docker/argv.js';
import { GATEWAY_PORT, SESSION_GATEWAY_PORT } from '../../package_scripts/docker/names.js';
import { envNameProblem, renderLoaderEnvNames, renderReservedEnvNames } from '../../package_scripts/settings/env-names.js';
import { accessTokenSchema } from '../../package_scripts/settings/schema.js';
import { gatewayPorts } from './gateway-ports.js';
import { repoRoot } from './project-fixture.js';

const read = (...path: string[]) => readFileSync(join(repoRoot, ...path), 'utf8');
const load = createRequire(import.meta.url);
type Validate = (env: Record<string, string>) => unknown;
const ngrok = load(join(repoRoot, 'docker', 'ngrok', 'gateway', 'forward-options.cjs')) as { ngrokSettings: Validate };
const pinggy = load(join(repoRoot, 'docker', 'pinggy', 'gateway', 'ssh-config.cjs')) as { pinggySettings: Validate };

/** Runs bash with SCRIPT; true when it exits 0. */
function bashAccepts(script: string, args: string[] = []): boolean {
  return spawnSync('bash', ['-c', script, 'test', ...args], { encoding: 'utf8' }).status === 0;
}

const accepts = (validate: () => unknown) => {
  try {
    validate();
    return true;
  } catch {
    return false;
  }
};

describe('the bearer token: one rule for the settings, nginx, ngrok and Pinggy', () => {
  const CASES: Array<[string, boolean]> = [
    ['0123456789abcdef'.repeat(2), true],
    ['ABCDEF0123456789'.repeat(16), true],
    ['a'.repeat(31), false],
    ['a'.repeat(257), false],
    ['g'.repeat(32), false],
    // Letters and digits used to pass for Pinggy only.
    ['Zz'.repeat(20), false],
    [`${'a'.repeat(32)} `, false],
    [`${'a'.repeat(32)}\n`, false],
    ['', false],
  ];
  const prepare = read('docker', 'nginx', 'gateway', 'prepare');
  const nginxRegex = /\[\[ "\$token" =~ (\S+) \]\]/.exec(prepare)?.[1];
  assert.ok(nginxRegex, 'docker/nginx/gateway/prepare checks the token with [[ =~ ]]');

  for (const [token, valid] of CASES) {
    it(`${JSON.stringify(token.length > 20 ? `${token.slice(0, 12)}…(${token.length})` : token)}: ${valid ? 'accepted' : 'refused'} everywhere`, () => {
      const settings = accessTokenSchema.safeParse(token).success;
      const viaNginx = bashAccepts(`token="$1"; [[ "$token" =~ ${nginxRegex} ]]`, [token]);
      const viaNgrok = accepts(() => ngrok.ngrokSettings({ NGROK_AUTHTOKEN: 'abc_DEF-1', ACCESS_TOKEN: token }));
      const viaPinggy = accepts(() => pinggy.pinggySettings({ PINGGY_ACCESS_TOKEN: 'tok3n', PINGGY_BEARER_TOKEN: token }));
      assert.deepEqual({ settings, viaNginx, viaNgrok, viaPinggy }, { settings: valid, viaNginx: valid, viaNgrok: valid, viaPinggy: valid });
    });
  }
});

describe('MCP_ENV: one rule for the CLI and the entrypoint', () => {
  it('docker/common/runtime/tables/reserved-env-names is what env-names.ts renders (run scripts/write-container-rules.mjs)', () => {
    assert.equal(read('docker', 'common', 'runtime', 'tables', 'reserved-env-names'), renderReservedEnvNames());
  });

  it('docker/common/runtime/tables/loader-env-names is what env-names.ts renders (run scripts/write-container-rules.mjs)', () => {
    assert.equal(read('docker', 'common', 'runtime', 'tables', 'loader-env-names'), renderLoaderEnvNames());
  });

  const entrypoint = read('docker', 'common', 'runtime', 'lib', 'sandbox.sh'); // the entrypoint's library
  const fn = /^check_mcp_env\(\) \{\n[\s\S]*?\n\}$/m.exec(entrypoint)?.[0];
  const secrets = /^readonly GATEWAY_SECRETS="[^"]+"$/m.exec(entrypoint)?.[0];
  assert.ok(fn && secrets, 'the entrypoint defines check_mcp_env and GATEWAY_SECRETS');
  const reserved = join(repoRoot, 'docker', 'common', 'runtime', 'tables', 'reserved-env-names');
  const loaders = join(repoRoot, 'docker', 'common', 'runtime', 'tables', 'loader-env-names');
  const containerAccepts = (name: string) => bashAccepts(`die() { exit 78; }\n${secrets}\n${fn}\ncheck_mcp_env "$1" "$2" "$3"`, [name, reserved, loaders]);

  const CASES: Array<[string, boolean]> = [
    ['GITHUB_TOKEN', true],
    ['_private', true],
    ['api_base2', true],
    ['ACCESS_TOKEN', false],
    ['NGINX_ACCESS_TOKEN', false],
    ['NGROK_AUTHTOKEN', false],
    ['NGROK_ANYTHING_NEW', false],
    ['PINGGY_BEARER_TOKEN', false],
    ['MCP_EGRESS', false],
    ['MCP_ENV', false],
    ['LOG_LEVEL', false],
    ['HOST_PORT', false],
    ['NPM_MCP_ARGS', false],
    ['SANDBOX_HOST_PORT', false],
    ['HOME', false],
    ['PATH', false],
    // Loader, shell and interpreter hooks (LOADER_NAMES), prefixes included.
    ['LD_PRELOAD', false],
    ['LD_LIBRARY_PATH', false],
    ['LD_AUDIT', false],
    ['NODE_OPTIONS', false],
    ['NODE_PATH', false],
    ['BASH_ENV', false],
    ['ENV', false],
    ['PYTHONSTARTUP', false],
    ['PYTHONPATH', false],
    ['PERL5OPT', false],
    ['GLIBC_TUNABLES', false],
    ['MALLOC_CHECK_', false],
    ['LDAP_URI', true],
    ['ENVIRONMENT', true],
    ['NODE_ENV', true],
    ['PYTHONUNBUFFERED', true],
    ['9LIVES', false],
    ['A-B', false],
    ['A;B', false],
  ];
  for (const [name, valid] of CASES) {
    it(`${name}: ${valid ? 'passed' : 'refused'} by both`, () => {
      assert.deepEqual({ cli: envNameProblem(name) === undefined, container: containerAccepts(name) }, { cli: valid, container: valid });
    });
  }
});

describe('ports and paths inside the image, spelled once in TypeScript', () => {
  it(`the session gateway port (${SESSION_GATEWAY_PORT}) is the one every gateway, probe and firewall rule uses`, () => {
    const uses: Array<[string[], RegExp]> = [
      [['docker', 'common', 'session-gateway', 'src', 'config.mjs'], /wholeNumber\('GATEWAY_PORT', (\d+), 1\)/],
      [['docker', 'common', 'runtime', 'bin', 'healthcheck'], /\/dev\/tcp\/127\.0\.0\.1\/(\d+)/],
      [['docker', 'common', 'runtime', 'bin', 'mcp-probe'], /http:\/\/127\.0\.0\.1:(\d+)\/mcp/],
      [['docker', 'common', 'runtime', 'bin', 'firewall'], /--dport (\d+) ! -i lo/],
      [['docker', 'ngrok', 'gateway', 'forward-options.cjs'], /'http:\/\/127\.0\.0\.1:(\d+)'/],
      [['docker', 'pinggy', 'gateway', 'ssh-config.cjs'], /'127\.0\.0\.1:(\d+)'/],
      [['docker', 'nginx', 'gateway', 'nginx.conf.template'], /server 127\.0\.0\.1:(\d+);/],
    ];
    for (const [path, pattern] of uses) {
      const found = pattern.exec(read(...path))?.[1];
      assert.equal(Number(found), SESSION_GATEWAY_PORT, path.join('/'));
    }
  });

  it(`nginx listens on ${GATEWAY_PORT}, the port the CLI publishes and the image exposes`, () => {
    assert.match(read('docker', 'nginx', 'gateway', 'nginx.conf.template'), new RegExp(`listen ${GATEWAY_PORT} ssl`));
  });

  it('every port a gateway listens on is in docker/common/runtime/tables/gateway-ports, the table the firewall and the escape battery read', () => {
    const table = gatewayPorts();
    const published = table.filter((p) => p.scope === 'published').map((p) => p.port);
    const loopback = table.filter((p) => p.scope === 'loopback').map((p) => p.port);
    assert.deepEqual(published, [GATEWAY_PORT], "nginx's port, the one the CLI publishes");
    assert.ok(!table.some((p) => p.port === SESSION_GATEWAY_PORT), "the session gateway's port is the mcp user's, never a gateway's");
    const authPort = /AUTH_PORT: (\d+),/.exec(read('docker', 'common', 'auth-gateway', 'src', 'config.mjs'))?.[1];
    assert.deepEqual(loopback, [Number(authPort)], "the auth gateway's port");
    const uses: Array<[string[], RegExp]> = [
      [['docker', 'common', 'runtime', 'bin', 'healthcheck'], /\/dev\/tcp\/127\.0\.0\.1\/(\d+) \|\| \{ echo "the auth gateway/],
      [['docker', 'ngrok', 'gateway', 'forward-options.cjs'], /AUTH_GATEWAY = 'http:\/\/127\.0\.0\.1:(\d+)'/],
      [['docker', 'pinggy', 'gateway', 'ssh-config.cjs'], /AUTH_GATEWAY = '127\.0\.0\.1:(\d+)'/],
      [['docker', 'nginx', 'gateway', 'nginx.conf.template'], /upstream auth_gateway \{\s*server 127\.0\.0\.1:(\d+);/],
    ];
    for (const [path, pattern] of uses) assert.equal(Number(pattern.exec(read(...path))?.[1]), Number(authPort), path.join('/'));
  });

  it(`the tunnel's public URL file is ${PUBLIC_URL_PATH} for the CLI, the entrypoint, the tunnels and the readiness check`, () => {
    assert.match(read('docker', 'common', 'runtime', 'js', 'tunnel.mjs'), /RUN_DIR = '\/run\/sandbox'[\s\S]*PUBLIC_URL_FILE = `\$\{RUN_DIR\}\/public-url`/);
    assert.match(read('docker', 'common', 'runtime', 'bin', 'entrypoint'), /RUN_DIR=\/run\/sandbox[\s\S]*: >"\$RUN_DIR\/public-url"/);
    assert.ok(read('docker', 'common', 'runtime', 'bin', 'tunnel-ready').includes(`[ -s ${PUBLIC_URL_PATH} ]`));
    assert.equal(PUBLIC_URL_PATH, '/run/sandbox/public-url');
  });
});

describe('allowed client addresses: one rule for ngrok and Pinggy', () => {
  const settingsWith = (cidrs: string) => ({
    ngrok: () => ngrok.ngrokSettings({ NGROK_AUTHTOKEN: 'abc_DEF-1', ACCESS_TOKEN: 'ab'.repeat(16), NGROK_ALLOW_CIDRS: cidrs }),
    pinggy: () => pinggy.pinggySettings({ PINGGY_ACCESS_TOKEN: 'tok3n', ACCESS_TOKEN: 'ab'.repeat(16), PINGGY_ALLOW_CIDRS: cidrs }),
  });
  const CASES: Array<[string, boolean]> = [
    ['203.0.113.0/24', true],
    ['198.51.100.7', true],
    ['0.0.0.0/0', true],
    ['2001:db8::/32', true],
    ['::1', true],
    ['203.0.113.0/33', false],
    ['999.1.1.1/8', false],
    ['203.0.113', false],
    ['2001:db8::/129', false],
    ['example.com', false],
    ['203.0.113.0/24;x', false],
  ];
  for (const [cidr, valid] of CASES) {
    it(`${cidr}: ${valid ? 'accepted' : 'refused'} by both`, () => {
      const { ngrok: viaNgrok, pinggy: viaPinggy } = settingsWith(cidr);
      assert.deepEqual({ ngrok: accepts(viaNgrok), pinggy: accepts(viaPinggy) }, { ngrok: valid, pinggy: valid });
    });
  }

  it('ngrok receives CIDRs only: a single address becomes /32 or /128', () => {
    const settings = ngrok.ngrokSettings({
      NGROK_AUTHTOKEN: 'abc_DEF-1',
      ACCESS_TOKEN: 'ab'.repeat(16),
      NGROK_ALLOW_CIDRS: '198.51.100.7, ::1, 203.0.113.0/24',
    }) as { allowCidrs: string[] };
    assert.deepEqual(settings.allowCidrs, ['198.51.100.7/32', '::1/128', '203.0.113.0/24']);
  });
});

describe('secret masking: the CLI and the tunnel agents mask alike', async () => {
  const { maskSecrets: hostMask } = await import('../../package_scripts/docker/engine.js');
  const { maskSecrets: containerMask } = (await import(join(repoRoot, 'docker', 'common', 'runtime', 'js', 'tunnel.mjs'))) as {
    maskSecrets: (line: string, secrets: string[]) => string;
  };
  const CASES: Array<[string, string[], string]> = [
    ['token abcd1234 twice abcd1234', ['abcd1234'], 'token **** twice ****'],
    ['short abc stays', ['abc'], 'short abc stays'],
    ['two: s3cret and p4ssword', ['s3cret', 'p4ssword'], 'two: **** and ****'],
    ['nothing here', [], 'nothing here'],
  ];
  for (const [line, secrets, masked] of CASES) {
    it(JSON.stringify(line), () => {
      assert.deepEqual({ host: hostMask(line, secrets), container: containerMask(line, secrets) }, { host: masked, container: masked });
    });
  }
});
