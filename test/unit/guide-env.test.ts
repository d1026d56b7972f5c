/**
 * The guide's own .env (test/fixtures/guide-env/guide.env, its Step 2 block copied
 * verbatim) with real tokens in place of the placeholders: settings load, and
 * `build --dry-run` and `start --dry-run` run with a recording engine, saying
 * that SUPERGATEWAY_EXTRA_ARGS=--stateful is what the sandbox does anyway.
 * Any other Supergateway flag is refused (exit 2, no docker call) with the
 * setting that replaced it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { build } from '../../package_scripts/commands/build.js';
import { start } from '../../package_scripts/commands/start.js';
import type { CommandContext } from '../../package_scripts/context.js';
import type { DockerEngine } from '../../package_scripts/docker/engine.js';
import { UsageError } from '../../package_scripts/errors.js';
import { loadSettings } from '../../package_scripts/settings/load.js';
import { supergatewayArgsIssue } from '../../package_scripts/settings/supergateway.js';
import { GUIDE_ENV, guideEnvWithTokens } from '../guide-env.js';
import { repoRoot } from './project-fixture.js';
import { recordingOutput } from './recording-output.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-guide-env-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const TOKEN = '5eed'.repeat(16);
const filledGuideEnv = () => guideEnvWithTokens(TOKEN);

let counter = 0;
function harness(envText: string) {
  counter += 1;
  const dir = join(root, `case-${counter}`);
  mkdirSync(join(dir, 'home'), { recursive: true });
  const envFile = join(dir, '.env');
  writeFileSync(envFile, envText, { mode: 0o600 });
  const calls: string[][] = [];
  const messages: string[] = [];
  const engine: DockerEngine = {
    async run(args) {
      calls.push(args);
      return { stdout: '', stderr: '', exitCode: 0 };
    },
  };
  const ctx: CommandContext = { projectDir: repoRoot, hostEnv: { HOME: join(dir, 'home') }, out: recordingOutput(messages), docker: () => engine };
  return { ctx, envFile, calls, messages };
}

const STATEFUL_NOTE = /^note: SUPERGATEWAY_EXTRA_ARGS=--stateful: nothing to pass, the sandbox's session gateway is stateful anyway/;

describe("the guide's .env, as written", () => {
  it('the fixture is the guide block: NPM_MCP, --stateful, the nginx token and both tunnels', () => {
    for (const line of [
      'NPM_MCP="@modelcontextprotocol/server-filesystem"',
      'SUPERGATEWAY_EXTRA_ARGS="--stateful"',
      'NGINX_ACCESS_TOKEN="secret_key__please_change"',
    ]) {
      assert.ok(GUIDE_ENV.includes(line), line);
    }
  });

  it('loads for build and for run', () => {
    const h = harness(filledGuideEnv());
    for (const purpose of ['build', 'run'] as const) {
      const settings = loadSettings(h.envFile, { hostEnv: h.ctx.hostEnv, projectDir: repoRoot, purpose });
      assert.equal(settings.server.display.includes('@modelcontextprotocol/server-filesystem'), true);
      assert.equal(settings.accessToken, TOKEN);
      assert.equal(settings.SUPERGATEWAY_EXTRA_ARGS, '--stateful');
    }
  });

  it('build --dry-run: the docker build argv, the --stateful note, the tunnel settings nginx ignores; no docker call', async () => {
    const h = harness(filledGuideEnv());
    await build(h.ctx, { envFile: h.envFile, dryRun: true });
    assert.deepEqual(h.calls, []);
    assert.ok(
      h.messages.some((m) => STATEFUL_NOTE.test(m)),
      h.messages.join('\n'),
    );
    assert.ok(
      h.messages.some((m) =>
        /^warn: TEMPLATE=nginx does not use NGROK_URL, NGROK_AUTHTOKEN, NGROK_BASIC_AUTH, PINGGY_ACCESS_TOKEN, PINGGY_BEARER_TOKEN: ignored$/.test(m),
      ),
    );
    const data = h.messages.filter((m) => m.startsWith('data: '));
    assert.equal(data.length, 1);
    assert.match(data[0]!, /^data: docker build /);
    assert.ok(!h.messages.join('\n').includes(TOKEN), 'no token in the output');
  });

  it('start --dry-run: the docker run argv and the same lines; no docker call', async () => {
    const h = harness(filledGuideEnv());
    await start(h.ctx, { envFile: h.envFile, detach: true, dryRun: true });
    assert.deepEqual(h.calls, []);
    assert.ok(
      h.messages.some((m) => STATEFUL_NOTE.test(m)),
      h.messages.join('\n'),
    );
    const data = h.messages.filter((m) => m.startsWith('data: '));
    assert.equal(data.length, 1);
    assert.match(data[0]!, /^data: docker run /);
    assert.ok(!h.messages.join('\n').includes(TOKEN), 'no token in the output');
  });

  it('without the line, no note (the control)', async () => {
    const h = harness(filledGuideEnv().replace('SUPERGATEWAY_EXTRA_ARGS="--stateful"', 'SUPERGATEWAY_EXTRA_ARGS=""'));
    await build(h.ctx, { envFile: h.envFile, dryRun: true });
    assert.ok(!h.messages.some((m) => m.includes('SUPERGATEWAY_EXTRA_ARGS')), h.messages.join('\n'));
  });
});

describe('SUPERGATEWAY_EXTRA_ARGS other than --stateful', () => {
  const cases: Array<[string, RegExp]> = [
    ['--sessionTimeout 60000', /--sessionTimeout is replaced by MCP_SESSION_IDLE/],
    ['--stateful --sessionTimeout=60000', /--sessionTimeout is replaced by MCP_SESSION_IDLE/],
    ['--logLevel debug', /--logLevel is replaced by LOG_LEVEL/],
    ['--cors', /--cors is replaced by ALLOWED_ORIGINS/],
    ['--port 9000', /--port is replaced by HOST_PORT/],
    ['--no-stateful', /--no-stateful has no counterpart/],
  ];
  for (const [value, expected] of cases) {
    it(`${value}: refused, naming what replaced it`, () => {
      const issue = supergatewayArgsIssue(value);
      assert.ok(issue);
      assert.match(issue, expected);
      assert.match(issue, /^SUPERGATEWAY_EXTRA_ARGS is no longer read/);
      assert.match(issue, /keep only --stateful, which is what the sandbox does anyway/);
    });
  }

  for (const value of ['--stateful', '  --stateful  ', '--stateful --stateful']) {
    it(`${JSON.stringify(value)}: accepted`, () => assert.equal(supergatewayArgsIssue(value), undefined));
  }

  it('build refuses it with exit 2 before any docker call', async () => {
    const h = harness(filledGuideEnv().replace('"--stateful"', '"--stateful --sessionTimeout 60000"'));
    await assert.rejects(build(h.ctx, { envFile: h.envFile, dryRun: false }), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /SUPERGATEWAY_EXTRA_ARGS is no longer read.*--sessionTimeout is replaced by MCP_SESSION_IDLE/);
      return true;
    });
    assert.deepEqual(h.calls, []);
  });
});
