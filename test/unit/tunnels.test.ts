/**
 * The tunnel gateways' pure parts, loaded from docker/TEMPLATE/gateway exactly
 * as the container and the CLI load them: .env to ngrok forward options and
 * traffic policy (whose CEL is evaluated here against requests), and .env to
 * the OpenSSH configuration for Pinggy.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { evaluate } from '@marcbachmann/cel-js';
import { envOf as containerEnv, runArgs } from './sandbox-fixture.js';
import { instanceNames } from '../../package_scripts/docker/names.js';
import { resolveSettings } from '../../package_scripts/settings/load.js';
import { settingsSchemaFor } from '../../package_scripts/settings/schema.js';
import { allTemplates, gatewayPrefixes, gatewaySecretNames } from '../../package_scripts/templates/registry.js';
import { DEFAULT_CONTAINER_ENV } from './expected.js';

const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const load = createRequire(import.meta.url);
type Fn = (...args: any[]) => any;
const ngrok = load(join(projectDir, 'docker', 'ngrok', 'gateway', 'forward-options.cjs')) as Record<string, Fn>;
const pinggy = load(join(projectDir, 'docker', 'pinggy', 'gateway', 'ssh-config.cjs')) as Record<string, Fn>;
const tunnelLib = (await import(pathToFileURL(join(projectDir, 'docker', 'common', 'runtime', 'js', 'tunnel.mjs')).href)) as Record<string, Fn>;

const TOKEN = 'ab12'.repeat(16);
const AUTHTOKEN = '2abcDEF_ghi-123';

describe('ngrok: .env to forward options', () => {
  it('forwards to the session gateway with the authtoken and the bearer policy; nothing else by default', () => {
    const settings = ngrok.ngrokSettings!({ NGROK_AUTHTOKEN: AUTHTOKEN, ACCESS_TOKEN: TOKEN });
    assert.deepEqual(ngrok.forwardOptions!(settings), {
      addr: 'http://127.0.0.1:8000',
      authtoken: AUTHTOKEN,
      traffic_policy: JSON.stringify(ngrok.trafficPolicy!(settings)),
    });
    assert.equal(settings.retries, 8);
  });

  it('AUTH=oauth: forwards to the auth gateway (8001) and keeps the Authorization header; no token check at the edge', () => {
    const settings = ngrok.ngrokSettings!({ NGROK_AUTHTOKEN: AUTHTOKEN, ACCESS_TOKEN: TOKEN, AUTH: 'oauth', NGROK_ALLOW_CIDRS: '203.0.113.0/24' });
    assert.equal(ngrok.forwardOptions!(settings).addr, 'http://127.0.0.1:8001');
    assert.deepEqual(ngrok.trafficPolicy!(settings), {
      on_http_request: [{ name: 'allowed addresses', actions: [{ type: 'restrict-ips', config: { enforce: true, allow: ['203.0.113.0/24'] } }] }],
    });
    assert.throws(
      () => ngrok.ngrokSettings!({ NGROK_AUTHTOKEN: AUTHTOKEN, ACCESS_TOKEN: TOKEN, AUTH: 'oauth', NGROK_BASIC_AUTH: 'me:long-enough' }),
      /AUTH=oauth and NGROK_BASIC_AUTH/,
    );
    assert.throws(
      () => ngrok.ngrokSettings!({ NGROK_AUTHTOKEN: AUTHTOKEN, ACCESS_TOKEN: TOKEN, AUTH: 'oauth', NGROK_OAUTH_PROVIDER: 'google' }),
      /NGROK_OAUTH_PROVIDER/,
    );
  });

  it('NGROK_URL becomes the domain (scheme and slash dropped); NGROK_SERVER_ADDR the server address', () => {
    const settings = ngrok.ngrokSettings!({
      NGROK_AUTHTOKEN: AUTHTOKEN,
      ACCESS_TOKEN: TOKEN,
      NGROK_URL: 'https://example-url.ngrok.app/',
      NGROK_SERVER_ADDR: 'ngrok.internal:443',
    });
    const options = ngrok.forwardOptions!(settings);
    assert.equal(options.domain, 'example-url.ngrok.app');
    assert.equal(options.server_addr, 'ngrok.internal:443');
  });

  it('the bearer policy: a 401 with WWW-Authenticate unless the token matches, then the header is removed', () => {
    const policy = ngrok.trafficPolicy!(ngrok.ngrokSettings!({ NGROK_AUTHTOKEN: AUTHTOKEN, ACCESS_TOKEN: TOKEN }));
    assert.deepEqual(policy, {
      on_http_request: [
        {
          name: 'bearer token',
          expressions: [`!('authorization' in req.headers) || req.headers['authorization'] != ['Bearer ${TOKEN}']`],
          actions: [
            {
              type: 'custom-response',
              config: {
                status_code: 401,
                headers: { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' },
                body: 'A valid bearer token is required.\n',
              },
            },
          ],
        },
        { name: 'drop credentials', actions: [{ type: 'remove-headers', config: { headers: ['authorization'] } }] },
      ],
    });
  });

  it("the bearer rule's CEL denies every request without exactly the right header (evaluated)", () => {
    const expression = ngrok.bearerDenyExpression!(TOKEN);
    const denies = (headers: Record<string, string[]>) => evaluate(expression, { req: { headers } });
    assert.equal(denies({}), true, 'no Authorization header');
    assert.equal(denies({ authorization: [`Bearer ${TOKEN}`] }), false, 'the right token');
    assert.equal(denies({ authorization: [`Bearer ${TOKEN.slice(0, -1)}0`] }), true, 'a wrong token');
    assert.equal(denies({ authorization: [TOKEN] }), true, 'the token without "Bearer "');
    assert.equal(denies({ authorization: [`Basic ${TOKEN}`] }), true, 'another scheme');
    assert.equal(denies({ authorization: [`Bearer ${TOKEN}`, 'Bearer other'] }), true, 'two Authorization headers');
    assert.equal(denies({ 'x-authorization': [`Bearer ${TOKEN}`] }), true, 'the token in another header');
  });

  it('basic auth replaces the bearer rule (both use Authorization); IP allowlist and OAuth come first', () => {
    const settings = ngrok.ngrokSettings!({
      NGROK_AUTHTOKEN: AUTHTOKEN,
      NGROK_BASIC_AUTH: 'me:long-enough-password',
      NGROK_ALLOW_CIDRS: '203.0.113.0/24, 2001:db8::/32',
      NGROK_OAUTH_PROVIDER: 'google',
      NGROK_OAUTH_ALLOW_EMAILS: 'me@example.com',
      NGROK_OAUTH_ALLOW_DOMAINS: '@example.org',
    });
    const rules = ngrok.trafficPolicy!(settings).on_http_request;
    assert.deepEqual(
      rules.map((r: { name: string }) => r.name),
      ['allowed addresses', 'oauth', 'allowed identities', 'basic auth', 'drop credentials'],
    );
    assert.deepEqual(rules[0].actions, [{ type: 'restrict-ips', config: { enforce: true, allow: ['203.0.113.0/24', '2001:db8::/32'] } }]);
    assert.deepEqual(rules[1].actions, [{ type: 'oauth', config: { provider: 'google' } }]);
    assert.deepEqual(rules[3].actions, [{ type: 'basic-auth', config: { credentials: ['me:long-enough-password'] } }]);
  });

  it("the identity rule's CEL allows listed emails and domains only (evaluated)", () => {
    const expression = ngrok.identityDenyExpression!(['me@example.com'], ['example.org']);
    const denies = (email: string) => evaluate(expression, { actions: { ngrok: { oauth: { identity: { email } } } } });
    assert.equal(denies('me@example.com'), false);
    assert.equal(denies('anyone@example.org'), false);
    assert.equal(denies('you@example.com'), true);
    assert.equal(denies('a@evil.example.org'), true, 'a subdomain is another domain');
    assert.equal(denies('example.org@evil.test'), true);
  });

  it("classifies ngrok's answers as permanent and network failures as transient", () => {
    const rejected = Object.assign(new Error('failed to start session: authentication failed\n\nerror_code: ERR_NGROK_105'), { errorCode: 'ERR_NGROK_105' });
    assert.deepEqual(ngrok.classifyError!(rejected), {
      permanent: true,
      code: 'ERR_NGROK_105',
      hint: 'NGROK_AUTHTOKEN was rejected: copy a valid one from https://dashboard.ngrok.com/get-started/your-authtoken',
    });
    assert.equal(ngrok.classifyError!(new Error('failed to connect session: ERR_NGROK_8012 something')).permanent, true);
    assert.deepEqual(ngrok.classifyError!(new Error('failed to connect session: failed to establish tcp connection')), { permanent: false });
  });
});

describe('pinggy: .env to the OpenSSH configuration', () => {
  const env = { PINGGY_ACCESS_TOKEN: 'tok3n', ACCESS_TOKEN: TOKEN };

  it("refuses a token with '+' mode suffixes (token+tcp would be a raw tunnel no bearer check guards), quoting no part of it", () => {
    for (const token of ['tok3n+tcp', 'tok3n+force', 'tok3n+qr+tls', 'tok3n+']) {
      assert.throws(
        () => pinggy.pinggySettings!({ ...env, PINGGY_ACCESS_TOKEN: token }),
        (error: Error) => {
          assert.match(error.message, /^PINGGY_ACCESS_TOKEN holds a '\+' part, which Pinggy reads as a tunnel mode .* Set the token alone, without '\+\.\.\.'/);
          assert.ok(!error.message.includes('tok3n') && !/\+(tcp|force|qr|tls)/.test(error.message.replace(/such as \+tcp or \+tls/, '')), error.message);
          return true;
        },
      );
    }
    // Control: the token alone, with the characters Pinggy tokens use.
    assert.equal(pinggy.pinggySettings!({ ...env, PINGGY_ACCESS_TOKEN: 'aB3.x_y-z' }).token, 'aB3.x_y-z');
  });

  it("without PINGGY_HOST_KEY the key first seen is kept in the instance's volume when it is mounted; pinned, it is written and checked strictly", () => {
    const run = '/run/sandbox/gateway';
    const state = '/var/lib/mcp-sandbox/tunnel';
    const open = pinggy.pinggySettings!(env);
    // The restart case: a volume, so ssh's accept-new writes there and a later start refuses a different key.
    assert.deepEqual(pinggy.knownHostsPlan!(open, run, state, true), { file: `${state}/known_hosts`, write: undefined, kept: true });
    assert.match(
      pinggy.sshConfig!(open, `${state}/known_hosts`),
      /StrictHostKeyChecking accept-new\n {2}UserKnownHostsFile \/var\/lib\/mcp-sandbox\/tunnel\/known_hosts\n/,
    );
    // Plain docker run without the volume: this start only, as before.
    assert.deepEqual(pinggy.knownHostsPlan!(open, run, state, false), { file: `${run}/known_hosts`, write: '', kept: false });
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMUyF/Hy8Vrv2nh5bsZ7AGxLlXhCLMJBIE9gzytT0iXU';
    const pinned = pinggy.pinggySettings!({ ...env, PINGGY_HOST_KEY: key });
    assert.deepEqual(pinggy.knownHostsPlan!(pinned, run, state, true), { file: `${run}/known_hosts`, write: `[a.pinggy.io]:443 ${key}\n`, kept: false });
  });

  it('isMountPoint reads the mount point field of /proc/self/mountinfo', () => {
    const mountinfo = [
      '1045 1026 0:52 / / ro,relatime - overlay overlay rw',
      '1050 1045 8:1 /var/lib/docker/volumes/x-tunnel/_data /var/lib/mcp-sandbox/tunnel rw,relatime - ext4 /dev/sda1 rw',
    ].join('\n');
    assert.equal(pinggy.isMountPoint!(mountinfo, '/var/lib/mcp-sandbox/tunnel'), true);
    assert.equal(pinggy.isMountPoint!(mountinfo.split('\n')[0]!, '/var/lib/mcp-sandbox/tunnel'), false);
    assert.equal(pinggy.isMountPoint!(mountinfo, '/var/lib/mcp-sandbox'), false);
  });

  it('falls back to ACCESS_TOKEN for the bearer and to a.pinggy.io:443', () => {
    const settings = pinggy.pinggySettings!(env);
    assert.deepEqual(settings, {
      token: 'tok3n',
      bearer: TOKEN,
      oauth: false,
      basicAuth: '',
      allowCidrs: [],
      server: 'a.pinggy.io',
      port: 443,
      hostKey: '',
      retries: 8,
    });
    assert.equal(pinggy.remoteCommand!(settings), `k:${TOKEN} x:https`);
    assert.equal(pinggy.knownHosts!(settings), '');
  });

  it('the whole ssh_config: token as user, options as remote command, batch mode, host key checked', () => {
    const settings = pinggy.pinggySettings!({
      ...env,
      PINGGY_BEARER_TOKEN: 'B'.repeat(40),
      PINGGY_BASIC_AUTH: 'me:100%sure',
      PINGGY_ALLOW_CIDRS: '203.0.113.0/24,198.51.100.7',
      PINGGY_SERVER: 'eu.pinggy.io',
      PINGGY_PORT: '22',
      PINGGY_HOST_KEY: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMUyF/Hy8Vrv2nh5bsZ7AGxLlXhCLMJBIE9gzytT0iXU',
    });
    assert.equal(
      pinggy.sshConfig!(settings, '/run/sandbox/gateway/known_hosts'),
      [
        'Host pinggy',
        '  HostName eu.pinggy.io',
        '  Port 22',
        '  User tok3n',
        '  RemoteForward 0 127.0.0.1:8000',
        `  RemoteCommand k:${'B'.repeat(40)} b:me:100%%sure w:203.0.113.0/24,198.51.100.7 x:https`,
        '  RequestTTY no',
        '  ExitOnForwardFailure yes',
        '  ServerAliveInterval 30',
        '  ServerAliveCountMax 3',
        '  ConnectTimeout 20',
        '  BatchMode yes',
        '  PubkeyAuthentication no',
        '  PasswordAuthentication no',
        '  KbdInteractiveAuthentication no',
        '  StrictHostKeyChecking yes',
        '  UserKnownHostsFile /run/sandbox/gateway/known_hosts',
        '  GlobalKnownHostsFile /dev/null',
        '  UpdateHostKeys no',
        '  CheckHostIP no',
        '  ForwardAgent no',
        '  ForwardX11 no',
        '  ClearAllForwardings no',
        '  LogLevel INFO',
        '',
      ].join('\n'),
    );
    assert.equal(pinggy.knownHosts!(settings), `eu.pinggy.io ${settings.hostKey}\n`);
    assert.deepEqual(pinggy.sshArgs!('/run/sandbox/gateway/ssh_config'), ['-F', '/run/sandbox/gateway/ssh_config', 'pinggy']);
  });

  it('AUTH=oauth: the edge checks no token and the tunnel ends at the auth gateway (8001), not the session gateway', () => {
    const settings = pinggy.pinggySettings!({ ...env, AUTH: 'oauth', PINGGY_ALLOW_CIDRS: '203.0.113.0/24' });
    assert.equal(pinggy.remoteCommand!(settings), 'w:203.0.113.0/24 x:https');
    const config = pinggy.sshConfig!(settings, '/k');
    assert.match(config, /^ {2}RemoteForward 0 127\.0\.0\.1:8001$/m);
    // Control: AUTH=bearer keeps the edge's token check and the session gateway.
    const bearer = pinggy.pinggySettings!({ ...env, AUTH: 'bearer' });
    assert.equal(pinggy.remoteCommand!(bearer), `k:${TOKEN} x:https`);
    assert.match(pinggy.sshConfig!(bearer, '/k'), /^ {2}RemoteForward 0 127\.0\.0\.1:8000$/m);
  });

  it('AUTH=oauth refuses what the edge would check and nobody else would: basic auth, a separate bearer token', () => {
    assert.throws(() => pinggy.pinggySettings!({ ...env, AUTH: 'oauth', PINGGY_BASIC_AUTH: 'me:password1' }), /AUTH=oauth and PINGGY_BASIC_AUTH/);
    assert.throws(() => pinggy.pinggySettings!({ ...env, AUTH: 'oauth', PINGGY_BEARER_TOKEN: 'b'.repeat(40) }), /Remove PINGGY_BEARER_TOKEN/);
    assert.throws(() => pinggy.pinggySettings!({ ...env, AUTH: 'sso' }), /AUTH must be bearer or oauth/);
  });

  it('without PINGGY_HOST_KEY the first key is accepted (accept-new); other ports use [host]:port', () => {
    const settings = pinggy.pinggySettings!({ ...env, PINGGY_PORT: '2222', PINGGY_SERVER: 'stand-in' });
    assert.match(pinggy.sshConfig!(settings, '/k'), /^ {2}StrictHostKeyChecking accept-new$/m);
    assert.equal(pinggy.knownHostsName!(settings), '[stand-in]:2222');
  });

  it('reads the session: URLs, an allocated port, and the failures that retrying cannot fix', () => {
    assert.deepEqual(pinggy.readSessionLine!('https://abc-1-2-3-4.a.free.pinggy.link'), { url: 'https://abc-1-2-3-4.a.free.pinggy.link' });
    assert.deepEqual(pinggy.readSessionLine!('Allocated port 41565 for remote forward to 127.0.0.1:8000'), { allocatedPort: 41565 });
    assert.ok(pinggy.readSessionLine!('Host key verification failed.').permanent);
    assert.ok(pinggy.readSessionLine!('tok3n@a.pinggy.io: Permission denied (none).').permanent);
    assert.deepEqual(pinggy.readSessionLine!('Connection to a.pinggy.io closed by remote host.'), {});
  });
});

describe('the tunnels shared supervisor', () => {
  it('backs off 1, 2, 4 ... seconds, capped at 30', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => tunnelLib.backoffSeconds!(n)),
      [1, 2, 4, 8, 16, 30, 30],
    );
  });

  /** Runs superviseTunnel against scripted session outcomes; records waits and the exit. */
  async function supervise(outcomes: Array<{ established?: boolean; permanent?: string; reason: string }>, retries: number) {
    const waits: number[] = [];
    let attempts = 0;
    let exitCode: number | undefined;
    await tunnelLib.superviseTunnel!({
      name: 'test',
      retries,
      connect: async () => outcomes[attempts++] ?? { reason: 'script exhausted' },
      exit: (code: number) => {
        exitCode = code;
      },
      wait: async (seconds: number) => {
        waits.push(seconds);
      },
      down: () => undefined,
    });
    return { waits, attempts, exitCode };
  }

  it('a permanent refusal exits 1 at once, without retrying', async () => {
    assert.deepEqual(await supervise([{ permanent: 'Host key verification failed.', reason: 'ssh exited' }], 8), { waits: [], attempts: 1, exitCode: 1 });
  });

  it('transient failures back off, then exit 1 after TUNNEL_RETRIES in a row', async () => {
    const down = { reason: 'connection refused' };
    assert.deepEqual(await supervise([down, down, down, down], 4), { waits: [1, 2, 4], attempts: 4, exitCode: 1 });
  });

  it('a session that was up resets the count: a drop is retried after 1 s', async () => {
    const down = { reason: 'connection refused' };
    const up = { established: true, reason: 'session closed' };
    assert.deepEqual(await supervise([down, down, up, down, down], 3), { waits: [1, 2, 1, 2], attempts: 5, exitCode: 1 });
  });

  it('masks every secret in agent output', () => {
    assert.equal(tunnelLib.maskSecrets!('tok3n@host: Permission denied k:abcd1234', ['tok3n', 'abcd1234', '']), '****@host: Permission denied k:****');
  });
});

describe('tunnel settings in the CLI', () => {
  const hostEnv = { HOME: '/nonexistent-home' };
  const settingsOf = (raw: Record<string, string>) => resolveSettings(raw, join(projectDir, 'test-instance', '.env'), { hostEnv, projectDir });

  it("lists the settings the chosen template ignores (another template's, or nginx's with a tunnel)", () => {
    const pinggy = settingsOf({
      TEMPLATE: 'pinggy',
      ACCESS_TOKEN: TOKEN,
      PINGGY_ACCESS_TOKEN: 't',
      NGROK_AUTHTOKEN: 'x',
      ALLOWED_ORIGINS: 'https://a.example',
      TUNNEL_RETRIES: '3',
      HOST_PORT: '8443',
    });
    assert.deepEqual(pinggy.unusedSettings, ['NGROK_AUTHTOKEN', 'ALLOWED_ORIGINS', 'HOST_PORT']);
    const nginx = settingsOf({ ACCESS_TOKEN: TOKEN, HOST_PORT: '8443', PINGGY_SERVER: 'x', TUNNEL_RETRIES: '3' });
    assert.deepEqual(nginx.unusedSettings, ['PINGGY_SERVER', 'TUNNEL_RETRIES']);
  });

  it("every gateway setting is a declared .env setting (the schema reads every template descriptor's settings)", () => {
    const { shape } = settingsSchemaFor('run');
    const undeclared = allTemplates()
      .flatMap((t) => [...t.settings, ...(t.hostSettings ?? [])])
      .filter((name) => !(name in shape));
    assert.deepEqual(undeclared, []);
  });

  it("the templates' gateway secrets are the list the entrypoint strips", () => {
    const entrypoint = readFileSync(join(projectDir, 'docker', 'common', 'runtime', 'lib', 'sandbox.sh'), 'utf8');
    const list = entrypoint.match(/^readonly GATEWAY_SECRETS="([^"]+)"$/m)?.[1]?.split(' ');
    assert.deepEqual(list, gatewaySecretNames());
  });

  it("the entrypoint's tunnel-setting prefixes are the templates' own (descriptors' settingPrefix)", () => {
    const lib = readFileSync(join(projectDir, 'docker', 'common', 'runtime', 'lib', 'sandbox.sh'), 'utf8');
    const prefixes = /case "\$name" in ([A-Z_*|]+)\) die "MCP_ENV names \$name, a tunnel setting/.exec(lib)?.[1]?.split('|');
    assert.deepEqual(
      prefixes?.map((p) => p.replace(/\*$/, '')),
      gatewayPrefixes(),
    );
  });

  it('a tunnel publishes no port and mounts no certificate volume (Pinggy: only its host-key volume); only its own settings reach the container', () => {
    const settings = settingsOf({
      TEMPLATE: 'pinggy',
      ACCESS_TOKEN: TOKEN,
      PINGGY_ACCESS_TOKEN: 'tok3n',
      PINGGY_BASIC_AUTH: 'me:secret-pass',
      NGROK_AUTHTOKEN: 'not-for-pinggy',
      ALLOWED_ORIGINS: 'https://ignored.example',
    });
    const run = runArgs(settings, instanceNames(settings.NAME), { detached: true });
    assert.ok(!run.args.includes('--publish'), run.args.join(' '));
    assert.deepEqual(
      run.args.filter((a, i) => run.args[i - 1] === '--volume'),
      ['mcp-sandbox-tunnel:/var/lib/mcp-sandbox/tunnel', 'mcp-sandbox-warden:/var/lib/mcp-sandbox/warden'],
    );
    assert.deepEqual(containerEnv(settings), {
      ...DEFAULT_CONTAINER_ENV,
      ACCESS_TOKEN: TOKEN,
      PINGGY_ACCESS_TOKEN: 'tok3n',
      PINGGY_BASIC_AUTH: 'me:secret-pass',
    });
    assert.deepEqual(settings.secrets, [TOKEN, 'tok3n', 'me:secret-pass', 'secret-pass']);
    for (const secret of settings.secrets) assert.ok(!run.args.join(' ').includes(secret));
  });
});
