/**
 * The entrypoint's environment scrub (run_as in docker/common/runtime/lib/sandbox.sh),
 * run for real with a fake setpriv that logs its arguments and the environment
 * it was handed, then runs the command: what the "mcp" and "gateway" users'
 * commands would see. The escape battery checks /proc/PID/environ in a running container too.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { projectDir, runWithFakes, type Run } from './fakes.js';

const LIB = join(projectDir, 'docker', 'common', 'runtime', 'lib', 'sandbox.sh');

/** Runs `body` in bash after sourcing the library, with the fakes first on run_as's PATH too. */
function inLib(body: string, env: Record<string, string> = {}): Promise<Run> {
  const script = `set -euo pipefail\n. "$1"\nSANDBOX_PATH="$PATH"\n${body}`;
  return runWithFakes('bash', ['-c', script, 'test', LIB], env);
}

/** The environment setpriv was handed (it passes it on unchanged to the command); `calls` setpriv calls in a row. */
function environment(run: Run, calls = 1): Record<string, string> {
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'started');
  assert.equal(run.setprivEnvironments.length, calls);
  const { _: command, SHLVL: level, ...rest } = run.setprivEnvironments[0]!;
  // bash itself gives every command it execs `_` (that command's path) and
  // SHLVL (its own nesting level): a path and a number, nothing of the caller's.
  assert.ok(command === undefined || command.endsWith('/setpriv'), command);
  assert.match(level ?? '0', /^\d+$/);
  return rest;
}

let secrets: string[] = [];
before(async () => {
  const run = await inLib('printf "%s" "$GATEWAY_SECRETS"');
  secrets = run.stdout.split(' ');
  assert.ok(secrets.includes('ACCESS_TOKEN') && secrets.includes('NGROK_AUTHTOKEN') && secrets.includes('PINGGY_ACCESS_TOKEN'), run.stdout);
});

/** Every gateway secret set, as the entrypoint has them before it hands over. */
const secretEnv = () => Object.fromEntries(secrets.map((name) => [name, `secret-value-of-${name}`]));

describe('run_as: only PATH and the listed names reach the command', { concurrency: true }, () => {
  test('the session gateway ("mcp"): its own settings and the MCP_ENV names, never a gateway secret', async () => {
    const run = await inLib('run_session_gateway printf started', {
      ...secretEnv(),
      HOME: '/tmp/mcp-home',
      LOG_LEVEL: 'debug',
      NPM_MCP_ARGS: `/workspace --flag 'quoted value'`,
      MCP_MAX_SESSIONS: '4',
      MCP_SESSION_IDLE: '60',
      MCP_TOOLS: 'read_*',
      MCP_TOOLS_DENY: 'read_secret',
      MCP_ENV: 'GITHUB_TOKEN,API_BASE',
      GITHUB_TOKEN: 'ghp_forwarded',
      API_BASE: 'https://api.example',
      MCP_EGRESS: '1.2.3.4/32:443',
      UNLISTED: 'not for mcp',
      NODE_OPTIONS: '--require /tmp/evil.js',
    });
    assert.deepEqual(environment(run, 2), {
      PATH: run.path,
      HOME: '/tmp/mcp-home',
      LOG_LEVEL: 'debug',
      NPM_MCP_ARGS: `/workspace --flag 'quoted value'`,
      MCP_MAX_SESSIONS: '4',
      MCP_SESSION_IDLE: '60',
      MCP_TOOLS: 'read_*',
      MCP_TOOLS_DENY: 'read_secret',
      GITHUB_TOKEN: 'ghp_forwarded',
      API_BASE: 'https://api.example',
    });
    // "warden" (not the servers' "mcp") with CAP_SETUID and CAP_SETGID alone, ambient so that node keeps them (session-gateway/src/privileges.mjs).
    const warden = [
      'setpriv',
      '--reuid=warden',
      '--regid=warden',
      '--clear-groups',
      '--ambient-caps=-all,+setuid,+setgid',
      '--bounding-set=-all',
      '--no-new-privs',
    ];
    assert.deepEqual(run.calls, [
      ['setpriv', '--inh-caps=-all,+setuid,+setgid', '--', ...warden, '--', 'printf', 'started'],
      [...warden, '--', 'printf', 'started'],
    ]);
    // The second setpriv is run by the first (a sh script here, which adds PWD, _ and SHLVL of its own).
    const shells = ['PWD', '_', 'SHLVL'];
    const without = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).filter(([k]) => !shells.includes(k)));
    assert.deepEqual(without(run.setprivEnvironments[1]!), without(run.setprivEnvironments[0]!), 'the second setpriv gets the same scrubbed environment');
    // Unset, not passed to `env`: no value is ever on a command line.
    for (const value of Object.values(secretEnv())) assert.ok(!run.calls.flat().some((arg) => arg.includes(value)));
  });

  test('with MCP_ENV empty: the session gateway gets its own settings only', async () => {
    const run = await inLib('run_session_gateway printf started', { ...secretEnv(), HOME: '/tmp/mcp-home', MCP_ENV: '', GITHUB_TOKEN: 'ghp_not_listed' });
    assert.deepEqual(environment(run, 2), { PATH: run.path, HOME: '/tmp/mcp-home' });
  });

  for (const template of ['nginx', 'ngrok', 'pinggy']) {
    test(`the ${template} gateway's long-lived step ("gateway"): PATH and its keep-env names only`, async () => {
      const keep = readFileSync(join(projectDir, 'docker', template, 'gateway', 'keep-env'), 'utf8').trim();
      const kept = keep.split(/\s+/).filter(Boolean);
      const run = await inLib('run_as gateway "$KEEP_NAMES" printf started', { ...secretEnv(), KEEP_NAMES: keep, HOME: '/root', LOG_LEVEL: 'info' });
      const env = environment(run);
      assert.deepEqual(Object.keys(env).sort(), ['PATH', ...kept].sort());
      assert.equal(run.calls[0]?.[1], '--reuid=gateway');
    });
  }

  test("the PATH run_as sets is the image default, not the caller's (positive control: the tests override it)", async () => {
    const run = await runWithFakes('bash', ['-c', `. "$1"; printf "%s" "$SANDBOX_PATH"`, 'test', LIB], { SANDBOX_PATH: '/tmp/evil' });
    assert.equal(run.stdout, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });
});

describe('check_settings: what the entrypoint refuses before it changes anything', { concurrency: true }, () => {
  const defaults = { LOG_LEVEL: 'info', MCP_ENV: '' };
  const check = (env: Record<string, string>) => inLib('check_settings', { ...defaults, ...env });

  test('good settings pass (positive control)', async () => {
    const run = await check({ MCP_ENV: 'GITHUB_TOKEN,API_BASE', NPM_MCP_ARGS: '/workspace --x', MCP_MAX_SESSIONS: '8', MCP_SESSION_IDLE: '0' });
    assert.equal(run.status, 0, run.stderr);
  });

  test('MCP_ENV naming any gateway secret is refused (exit 78)', async () => {
    for (const name of secrets) {
      const run = await check({ MCP_ENV: `GITHUB_TOKEN,${name}` });
      assert.equal(run.status, 78, name);
      assert.match(run.stderr, new RegExp(`MCP_ENV names ${name}, a gateway secret`));
    }
  });

  const refused: Array<[string, Record<string, string>, RegExp]> = [
    ['MCP_ENV with a space', { MCP_ENV: 'A B' }, /MCP_ENV must be a comma-separated list/],
    ['MCP_ENV with a shell metacharacter', { MCP_ENV: 'A;id' }, /MCP_ENV must be a comma-separated list/],
    ['an unknown LOG_LEVEL', { LOG_LEVEL: 'verbose' }, /LOG_LEVEL 'verbose' is not info, debug or none/],
    ['NPM_MCP_ARGS on two lines', { NPM_MCP_ARGS: 'a\nb' }, /NPM_MCP_ARGS must be one line/],
    ['MCP_MAX_SESSIONS not a number', { MCP_MAX_SESSIONS: '4x' }, /MCP_MAX_SESSIONS must be a whole number/],
    ['MCP_SESSION_IDLE not a number', { MCP_SESSION_IDLE: 'soon' }, /MCP_SESSION_IDLE must be a whole number/],
  ];
  for (const [name, env, message] of refused) {
    test(`refuses ${name} (exit 78)`, async () => {
      const run = await check(env);
      assert.equal(run.status, 78);
      assert.match(run.stderr, message);
    });
  }
});

test('the entrypoint uses the library: settings checked first, the session gateway started through run_session_gateway', () => {
  const entrypoint = readFileSync(join(projectDir, 'docker', 'common', 'runtime', 'bin', 'entrypoint'), 'utf8');
  const dockerfile = readFileSync(join(projectDir, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^COPY docker\/common\/runtime\/ \/opt\/sandbox\/$/m);
  assert.match(entrypoint, /^\. \/opt\/sandbox\/lib\/sandbox\.sh /m);
  const order = ['check_settings', '/opt/sandbox/bin/firewall', 'run_session_gateway node /opt/session-gateway/entry.mjs'].map((s) => entrypoint.indexOf(s));
  assert.ok(
    order.every((at, i) => at > 0 && (i === 0 || at > order[i - 1]!)),
    `order: ${order.join(', ')}`,
  );
});
