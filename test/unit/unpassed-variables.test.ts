/**
 * A variable in .env that is neither a setting nor listed in MCP_ENV reaches no
 * one. build and start warn about it (with --dry-run as without), naming the
 * MCP_ENV line that passes it, and never print its value.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { build } from '../../package_scripts/commands/build.js';
import { start } from '../../package_scripts/commands/start.js';
import { unpassedVariables } from '../../package_scripts/settings/unknown.js';
import { commandContext, recordingEngine, writeEnvFile } from './project-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-unpassed-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
const TOKEN = 'ab'.repeat(32);
const VALUE = 'ghp_NeverPrintThisValue1234';

let counter = 0;
function harness(env: string) {
  counter += 1;
  const dir = join(root, `case-${counter}`);
  mkdirSync(dir, { recursive: true });
  const envFile = writeEnvFile(join(dir, '.env'), `NAME=unpassed\nACCESS_TOKEN=${TOKEN}\n${env}`);
  const { engine, calls } = recordingEngine();
  const { ctx, messages } = commandContext(dir, engine);
  return { ctx, envFile, calls, messages };
}

const warnings = (messages: string[]) => messages.filter((m) => m.startsWith('warn: '));
const FORGOTTEN =
  /^warn: GITHUB_PERSONAL_ACCESS_TOKEN is in \S+\.env but not passed to the MCP server \(neither a setting nor listed in MCP_ENV\)\. If the server needs it, set: MCP_ENV=GITHUB_PERSONAL_ACCESS_TOKEN$/;

describe('variables the owner forgot to pass', () => {
  for (const command of ['build', 'start'] as const) {
    it(`${command} warns with the MCP_ENV line, --dry-run the same, and never prints the value`, async () => {
      const env = `GITHUB_PERSONAL_ACCESS_TOKEN=${VALUE}\n`;
      const dry = harness(env);
      const real = harness(env);
      if (command === 'build') {
        await build(dry.ctx, { envFile: dry.envFile, dryRun: true });
        await build(real.ctx, { envFile: real.envFile });
      } else {
        await start(dry.ctx, { envFile: dry.envFile, detach: true, dryRun: true });
        await start(real.ctx, { envFile: real.envFile, detach: true });
      }
      assert.deepEqual(dry.calls, [], '--dry-run runs nothing');
      assert.ok(real.calls.length > 0, 'the real run ran docker');
      assert.ok(
        warnings(dry.messages).some((m) => FORGOTTEN.test(m)),
        dry.messages.join('\n'),
      );
      const inDir = (messages: string[], dir: string) => warnings(messages).map((m) => m.replace(dir, 'DIR'));
      assert.deepEqual(inDir(dry.messages, dirname(dry.envFile)), inDir(real.messages, dirname(real.envFile)), 'the same warnings with and without --dry-run');
      for (const messages of [dry.messages, real.messages]) assert.ok(!messages.join('\n').includes(VALUE), 'the value is never printed');
    });
  }

  it('the line keeps what MCP_ENV already lists', async () => {
    const h = harness(`MCP_ENV=API_BASE\nAPI_BASE=https://example.test\nGITHUB_PERSONAL_ACCESS_TOKEN=${VALUE}\nSLACK_TOKEN=xoxb-1\n`);
    await build(h.ctx, { envFile: h.envFile, dryRun: true });
    const line = warnings(h.messages).find((m) => m.includes('not passed'));
    assert.ok(line, h.messages.join('\n'));
    assert.match(
      line,
      /^warn: GITHUB_PERSONAL_ACCESS_TOKEN, SLACK_TOKEN are in .* If the server needs them, set: MCP_ENV=API_BASE,GITHUB_PERSONAL_ACCESS_TOKEN,SLACK_TOKEN$/,
    );
    assert.ok(!h.messages.join('\n').includes('xoxb-1'));
  });

  it('listed in MCP_ENV: no warning (the control)', async () => {
    const h = harness(`MCP_ENV=GITHUB_PERSONAL_ACCESS_TOKEN\nGITHUB_PERSONAL_ACCESS_TOKEN=${VALUE}\n`);
    await build(h.ctx, { envFile: h.envFile, dryRun: true });
    assert.deepEqual(warnings(h.messages), []);
  });

  it('settings, aliases, dotenvx keys, misspelt settings and names MCP_ENV cannot list are not "forgotten"', () => {
    const names = ['NAME', 'NGINX_ACCESS_TOKEN', 'NPM_MCP', 'DOTENV_PUBLIC_KEY', 'MCP_EGRES', 'NGROK_REGION', 'PATH', 'HOME', 'MY_TOKEN'];
    assert.deepEqual(unpassedVariables(names, []), ['MY_TOKEN']);
    assert.deepEqual(unpassedVariables(names, ['MY_TOKEN']), []);
  });
});
