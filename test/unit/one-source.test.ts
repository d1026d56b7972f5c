/**
 * Rules that must live in more than one runtime (the CLI in TypeScript, the
 * container in bash and CommonJS) are checked here against one table each:
 * the copies cannot drift apart without a failing test.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { PUBLIC_URL_PATH } from '../../package_scripts/docker/argv.js';
import { GATEWAY_PORT, SESSION_GATEWAY_PORT } from '../../package_scripts/docker/names.js';
import { envNameProblem, renderLoaderEnvNames, renderReservedEnvNames } from '../../package_scripts/settings/env-names.js';
import { renderSettingRules } from '../../package_scripts/settings/container-rules.js';
import { accessTokenSchema, AUTH_MODES, buildSettingsSchema, LOG_LEVELS } from '../../package_scripts/settings/schema.js';
import { authModule } from './auth-gateway/module.js';
import { gatewayPorts } from './gateway-ports.js';
import { repoRoot } from './project-fixture.js';

const read = (...path: string[]) => readFileSync(join(repoRoot, ...path), 'utf8');
const load = createRequire(import.meta.url);
type Validate = (env: Record<string, string>) => unknown;
const ngrok = load(join(repoRoot, 'docker', 'ngrok', 'gateway', 'forward-options.cjs')) as { ngrokSettings: Validate };
const pinggy = load(join(repoRoot, 'docker', 'pinggy', 'gateway', 'ssh-config.cjs')) as { pinggySettings: Validate };

const accepts = (validate: () => unknown) => {
  try {
    validate();
    return true;
  } catch {
    return false;
  }
};

/** Runs bash with SCRIPT; true when it exits 0. */
function bashAccepts(script: string, args: string[] = [], env: Record<string, string> = {}): boolean {
  return spawnSync('bash', ['-c', script, 'test', ...args], { encoding: 'utf8', env: { ...process.env, ...env } }).status === 0;
}

const SANDBOX_SH = join(repoRoot, 'docker', 'common', 'runtime', 'lib', 'sandbox.sh');
/** The entrypoint's check_settings (sandbox.sh) on AUTH and LOG_LEVEL, the MCP_ENV check left out (tested below). */
const entrypointAccepts = (env: { AUTH?: string; LOG_LEVEL?: string }) =>
  bashAccepts(`source "$1"; check_mcp_env() { :; }; check_settings`, [SANDBOX_SH], { MCP_ENV: '', LOG_LEVEL: 'info', ...env });
const { parseConfig: authGatewayConfig } = await authModule('config.mjs');
const authGatewayAccepts = (env: Record<string, string>) => accepts(() => authGatewayConfig({ AUTH_RESOURCE: 'https://127.0.0.1:8443/mcp', ...env }));

describe('the bearer token: one rule for the settings, nginx, ngrok, Pinggy and the auth gateway', () => {
  const CASES: Array<[string, boolean]> = [
    ['0123456789abcdef'.repeat(2), true],
    ['ABCDEF0123456789'.repeat(16), true],
    ['a'.repeat(31), false],
    ['a'.repeat(257), false],
    ['g'.repeat(32), false],
    // Letters and digits used to pass for Pinggy only; these two, for the auth gateway (16 characters without spaces).
    ['Zz'.repeat(20), false],
    ['0123456789abcdef', false],
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
      const viaAuthGateway = authGatewayAccepts({ ACCESS_TOKEN: token });
      assert.deepEqual(
        { settings, viaNginx, viaNgrok, viaPinggy, viaAuthGateway },
        { settings: valid, viaNginx: valid, viaNgrok: valid, viaPinggy: valid, viaAuthGateway: valid },
      );
    });
  }
});

describe('AUTH and LOG_LEVEL: the settings table, and every copy in the container held to it', () => {
  it('docker/common/runtime/js/setting-rules.cjs is what container-rules.ts renders (run scripts/write-container-rules.mjs)', () => {
    assert.equal(read('docker', 'common', 'runtime', 'js', 'setting-rules.cjs'), renderSettingRules());
  });

  const prepare = read('docker', 'nginx', 'gateway', 'prepare');
  const nginxCase = /^case "\$auth" in [^\n]*esac$/m.exec(prepare)?.[0];
  assert.ok(nginxCase, 'docker/nginx/gateway/prepare checks AUTH with one case statement');
  // The session gateway is bundled, so it keeps its own list: `if (!['info', …].includes(LEVEL))` or `LOG_LEVELS = ['info', …]`, in whichever of its modules.
  const sessionGatewayDir = join(repoRoot, 'docker', 'common', 'session-gateway', 'src');
  const sessionLevels = readdirSync(sessionGatewayDir)
    .map((file) => /(?:if \(!|LOG_LEVELS = )\[([^\]]*)\](?:\.includes\(LEVEL\)\)|;)/.exec(readFileSync(join(sessionGatewayDir, file), 'utf8'))?.[1])
    .find(Boolean);
  assert.ok(sessionLevels, 'the session gateway checks LOG_LEVEL against a list');
  const TOKEN = 'ab'.repeat(16);

  const authCases: Array<[string, boolean]> = [
    ...AUTH_MODES.map((mode): [string, boolean] => [mode, true]),
    ['Bearer', false],
    ['basic', false],
    ['oauth ', false],
    ['none', false],
  ];
  for (const [mode, valid] of authCases) {
    it(`AUTH=${JSON.stringify(mode)}: ${valid ? 'accepted' : 'refused'} by the settings, the entrypoint, nginx, ngrok and Pinggy`, () => {
      assert.deepEqual(
        {
          settings: buildSettingsSchema.shape.AUTH.safeParse(mode).success,
          entrypoint: entrypointAccepts({ AUTH: mode }),
          nginx: bashAccepts(`auth="$1"; die() { exit 78; }; ${nginxCase}`, [mode]),
          ngrok: accepts(() => ngrok.ngrokSettings({ NGROK_AUTHTOKEN: 'abc_DEF-1', ACCESS_TOKEN: TOKEN, AUTH: mode })),
          pinggy: accepts(() => pinggy.pinggySettings({ PINGGY_ACCESS_TOKEN: 'tok3n', ACCESS_TOKEN: TOKEN, AUTH: mode })),
        },
        { settings: valid, entrypoint: valid, nginx: valid, ngrok: valid, pinggy: valid },
      );
    });
  }

  const levelCases: Array<[string, boolean]> = [
    ...LOG_LEVELS.map((level): [string, boolean] => [level, true]),
    ['trace', false],
    ['INFO', false],
    ['warn', false],
  ];
  for (const [level, valid] of levelCases) {
    it(`LOG_LEVEL=${level}: ${valid ? 'accepted' : 'refused'} by the settings, the entrypoint, the session gateway and the auth gateway`, () => {
      assert.deepEqual(
        {
          settings: buildSettingsSchema.shape.LOG_LEVEL.safeParse(level).success,
          entrypoint: entrypointAccepts({ LOG_LEVEL: level }),
          sessionGateway: sessionLevels
            .split(',')
            .map((v) => v.trim().replace(/^'|'$/g, ''))
            .includes(level),
          authGateway: authGatewayAccepts({ ACCESS_TOKEN: TOKEN, LOG_LEVEL: level }),
        },
        { settings: valid, entrypoint: valid, sessionGateway: valid, authGateway: valid },
      );
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

describe('ports and paths inside the image: each held to its one table', () => {
  /** The files of the image's code (under docker/) that name PORT outside a comment, relative to the repository. */
  function filesNaming(port: number): string[] {
    const skip = /(^|\/)(node_modules|package-lock\.json|package\.json|bundle)(\/|$)/;
    const files = (readdirSync(join(repoRoot, 'docker'), { recursive: true }) as string[]).map((f) => `docker/${f}`).filter((f) => !skip.test(f));
    return files
      .filter((f) => statSync(join(repoRoot, f)).isFile())
      .filter((f) =>
        read(f)
          .split('\n')
          .some((line) => !/^\s*(#|\/\/|\*)/.test(line) && new RegExp(`\\b${port}\\b`).test(line)),
      )
      .sort();
  }
  /** Each copy's value, and that no other file of the image names the port. */
  function heldTo(port: number, uses: Array<[string, RegExp]>, alsoIn: string[] = []) {
    for (const [path, pattern] of uses) assert.equal(Number(pattern.exec(read(path))?.[1]), port, `${path} (${String(pattern)})`);
    const checked = [...new Set([...uses.map(([path]) => path), ...alsoIn])].sort();
    assert.deepEqual(filesNaming(port), checked, `only these files name port ${port}: check a new copy here`);
  }

  it(`the session gateway port (${SESSION_GATEWAY_PORT}, docker/names.ts) is the one every gateway, probe and firewall rule uses`, () => {
    heldTo(SESSION_GATEWAY_PORT, [
      ['docker/common/session-gateway/src/config.mjs', /wholeNumber\('GATEWAY_PORT', (\d+), 1\)/],
      ['docker/common/runtime/bin/healthcheck', /\/dev\/tcp\/127\.0\.0\.1\/(\d+)/],
      ['docker/common/runtime/bin/mcp-probe', /http:\/\/127\.0\.0\.1:(\d+)\/mcp/],
      ['docker/common/runtime/bin/firewall', /--dport (\d+) ! -i lo/],
      ['docker/common/runtime/bin/entrypoint', /AUTH_UPSTREAM=http:\/\/127\.0\.0\.1:(\d+)$/m],
      ['docker/common/auth-gateway/src/config.mjs', /AUTH_UPSTREAM must be a plain http origin such as http:\/\/127\.0\.0\.1:(\d+) /],
      ['docker/ngrok/gateway/forward-options.cjs', /SESSION_GATEWAY = 'http:\/\/127\.0\.0\.1:(\d+)'/],
      ['docker/pinggy/gateway/ssh-config.cjs', /SESSION_GATEWAY = '127\.0\.0\.1:(\d+)'/],
      ['docker/nginx/gateway/nginx.conf.template', /upstream session_gateway \{\s*server 127\.0\.0\.1:(\d+);/],
    ]);
  });

  it(`nginx listens on ${GATEWAY_PORT}, the port the CLI publishes and the image exposes`, () => {
    assert.match(read('docker', 'nginx', 'gateway', 'nginx.conf.template'), new RegExp(`listen ${GATEWAY_PORT} ssl`));
  });

  it('every port a gateway listens on is in docker/common/runtime/tables/gateway-ports, the table the firewall and the escape battery read', () => {
    const table = gatewayPorts();
    const published = table.filter((p) => p.scope === 'published').map((p) => p.port);
    assert.deepEqual(published, [GATEWAY_PORT], "nginx's port, the one the CLI publishes");
    assert.ok(!table.some((p) => p.port === SESSION_GATEWAY_PORT), "the session gateway's port is the mcp user's, never a gateway's");
    const loopback = table.filter((p) => p.scope === 'loopback');
    assert.deepEqual(
      loopback.map((p) => p.who),
      ['auth gateway (AUTH=oauth)'],
      'the auth gateway is the one loopback gateway',
    );
  });

  it("the auth gateway's port is the table's, in each of the five files that name it, and in no other", () => {
    const authPort = gatewayPorts().find((p) => p.who.startsWith('auth gateway'))!.port;
    heldTo(
      authPort,
      [
        ['docker/common/auth-gateway/src/config.mjs', /AUTH_PORT: (\d+),/],
        ['docker/common/runtime/bin/healthcheck', /\/dev\/tcp\/127\.0\.0\.1\/(\d+) \|\| \{ echo "the auth gateway/],
        ['docker/ngrok/gateway/forward-options.cjs', /AUTH_GATEWAY = 'http:\/\/127\.0\.0\.1:(\d+)'/],
        ['docker/pinggy/gateway/ssh-config.cjs', /AUTH_GATEWAY = '127\.0\.0\.1:(\d+)'/],
        ['docker/nginx/gateway/nginx.conf.template', /upstream auth_gateway \{\s*server 127\.0\.0\.1:(\d+);/],
      ],
      ['docker/common/runtime/tables/gateway-ports'],
    );
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

describe("shared container modules load from the image's folders as from the repository's", () => {
  /** The image's /opt/sandbox: the template's gateway folder, the auth gateway's and js/ side by side (Dockerfile), and nothing else. */
  function imageLayout(template: string, withLib: boolean) {
    const opt = mkdtempSync(join(tmpdir(), 'one-source-image-'));
    cpSync(join(repoRoot, 'docker', template, 'gateway'), join(opt, 'gateway'), { recursive: true, filter: (from) => !from.includes('node_modules') });
    cpSync(join(repoRoot, 'docker', 'common', 'auth-gateway', 'src'), join(opt, 'auth-gateway'), { recursive: true });
    if (withLib) cpSync(join(repoRoot, 'docker', 'common', 'runtime', 'js'), join(opt, 'js'), { recursive: true });
    return opt;
  }
  const CASES: Array<[string, string, (m: Record<string, Validate>) => unknown]> = [
    [
      'ngrok',
      'forward-options.cjs',
      (m) => m.ngrokSettings!({ NGROK_AUTHTOKEN: 'abc_DEF-1', ACCESS_TOKEN: 'ab'.repeat(16), NGROK_ALLOW_CIDRS: '198.51.100.7' }),
    ],
    ['pinggy', 'ssh-config.cjs', (m) => m.pinggySettings!({ PINGGY_ACCESS_TOKEN: 'tok3n', ACCESS_TOKEN: 'ab'.repeat(16), PINGGY_ALLOW_CIDRS: '198.51.100.7' })],
  ];
  for (const [template, file, settings] of CASES) {
    it(`${template}'s ${file} and the auth gateway find setting-rules.cjs and allowed-cidrs.cjs in /opt/sandbox/js; without it they fail to load`, async () => {
      const opt = imageLayout(template, true);
      const bare = imageLayout(template, false);
      try {
        const loaded = load(join(opt, 'gateway', file)) as Record<string, Validate>;
        assert.ok(settings(loaded), 'the module validates from the image layout');
        const config = (await import(pathToFileURL(join(opt, 'auth-gateway', 'config.mjs')).href)) as { parseConfig: Validate };
        assert.equal(
          accepts(() => config.parseConfig({ ACCESS_TOKEN: 'ab'.repeat(16), AUTH_RESOURCE: 'https://127.0.0.1:8443/mcp' })),
          true,
        );
        // Control: the same folders without lib/ (nor a repository around them) cannot load: the modules really read it.
        assert.throws(() => load(join(bare, 'gateway', file)), /Cannot find module/);
        await assert.rejects(import(pathToFileURL(join(bare, 'auth-gateway', 'config.mjs')).href));
      } finally {
        rmSync(opt, { recursive: true, force: true });
        rmSync(bare, { recursive: true, force: true });
      }
    });
  }
});
