/**
 * MCP_ENV's values as a file for the server alone (sandbox/server-env.ts,
 * operator/server-env.ts): the writer's argv holds no value, the text goes
 * through its stdin, and the entrypoint's load_server_env (docker/common/runtime/lib/sandbox.sh,
 * run for real here with the fakes) reads back exactly what the CLI wrote.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { DockerCallOptions, DockerEngine, DockerResult } from '../../package_scripts/docker/engine.js';
import { removeServerEnv, writeServerEnv } from '../../package_scripts/instance/server-env.js';
import { sandboxProfile } from '../../package_scripts/sandbox/profile.js';
import { SERVER_ENV_FILE, serverEnvText, serverEnvWriterArgs } from '../../package_scripts/sandbox/server-env.js';
import { instanceNames } from '../../package_scripts/docker/names.js';
import { resolveSettings } from '../../package_scripts/settings/load.js';
import { makeProjectDir } from './project-fixture.js';
import { projectDir, runWithFakes } from './shell/fakes.js';

const TOKEN = 'ab'.repeat(32);
const root = mkdtempSync(join(tmpdir(), 'mcps-server-env-settings-'));
const project = makeProjectDir(join(root, 'project'));
mkdirSync(join(root, 'home'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Values no env file or shell quoting would carry unchanged: line breaks, quotes, `$`, a trailing newline, non-ASCII. */
const AWKWARD = { BARS_VAR: 'line one\nline "two" $HOME \\ \'x\'\n', EMPTY: '', UNICODE: 'héllo ✓ =' };

function profileWith(env: Record<string, string>) {
  const settings = resolveSettings({ ACCESS_TOKEN: TOKEN, ...env }, join(root, '.env'), { hostEnv: { HOME: join(root, 'home') }, projectDir: project });
  return sandboxProfile(settings, instanceNames(settings.NAME), { detached: true, egress: settings.MCP_EGRESS });
}

function recordingEngine(existing: readonly string[] = []) {
  const calls: Array<{ args: string[]; options: DockerCallOptions }> = [];
  const docker: DockerEngine = {
    async run(args, options = {}): Promise<DockerResult> {
      calls.push({ args, options });
      if (args[0] === 'volume' && args[1] === 'ls') return { stdout: existing.filter((v) => args.includes(`name=^${v}$`)).join('\n'), stderr: '', exitCode: 0 };
      return { stdout: '', stderr: '', exitCode: 0 };
    },
  };
  return { docker, calls };
}

describe('the server-env channel on the CLI side', () => {
  it('the text: one NAME=BASE64 line a variable, every value back unchanged', () => {
    const text = serverEnvText(AWKWARD);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    for (const line of lines) assert.match(line, /^[A-Z_]+=[A-Za-z0-9+/]*={0,2}$/);
    const back = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), Buffer.from(l.slice(l.indexOf('=') + 1), 'base64').toString('utf8')]));
    assert.deepEqual(back, AWKWARD);
  });

  it("the writer: the instance's image, no network, no capability, read-only, no log; no value in its argv", () => {
    const profile = profileWith({ NAME: 'w', MCP_ENV: 'BARS_VAR', BARS_VAR: 'bars-secret-value' });
    const args = serverEnvWriterArgs(profile.serverEnv!, profile.image);
    assert.deepEqual(args.slice(0, 3), ['run', '--rm', '--interactive']);
    for (const pair of [
      ['--network', 'none'],
      ['--cap-drop', 'ALL'],
      ['--log-driver', 'none'],
      ['--volume', 'w-server-env:/out'],
      ['--entrypoint', '/bin/sh'],
    ])
      assert.ok(args.join('\0').includes(pair.join('\0')), pair.join(' '));
    assert.ok(args.includes('--read-only') && args.includes('w:latest'));
    assert.ok(!args.some((a) => a.includes('bars-secret-value') || a.includes(Buffer.from('bars-secret-value').toString('base64'))));
    assert.ok(!args.some((a) => a.startsWith('io.mcp-sandbox.instance')), 'no instance label: status never takes it for an instance');
  });

  it('start writes the volume through stdin after removing the old one; without MCP_ENV it only removes', async () => {
    const profile = profileWith({ NAME: 'w', MCP_ENV: 'BARS_VAR', BARS_VAR: 'bars-secret-value' });
    const { docker, calls } = recordingEngine(['w-server-env']);
    await writeServerEnv(docker, profile, 'w-server-env');
    assert.deepEqual(
      calls.map((c) => c.args.slice(0, 2)),
      [
        ['volume', 'ls'],
        ['volume', 'rm'],
        ['run', '--rm'],
      ],
    );
    const writer = calls[2]!;
    assert.equal(writer.options.input, serverEnvText({ BARS_VAR: 'bars-secret-value' }));
    assert.equal(writer.options.env, undefined, 'nothing in the client environment either');
    assert.ok(!calls.some((c) => c.args.some((a) => a.includes('bars-secret-value'))));
    // Control: no MCP_ENV, so the left-over volume goes and nothing is written.
    const plain = recordingEngine(['w-server-env']);
    await writeServerEnv(plain.docker, profileWith({ NAME: 'w' }), 'w-server-env');
    assert.deepEqual(
      plain.calls.map((c) => c.args.slice(0, 3)),
      [
        ['volume', 'ls', '--quiet'],
        ['volume', 'rm', 'w-server-env'],
      ],
    );
    const none = recordingEngine();
    await removeServerEnv(none.docker, 'w-server-env');
    assert.equal(none.calls.length, 1, 'no volume: nothing removed');
  });

  it('the file lives where the entrypoint looks for it', async () => {
    const run = await runWithFakes('bash', [
      '-c',
      '. "$1"; printf %s "$SERVER_ENV_FILE"',
      'test',
      join(projectDir, 'docker', 'common', 'runtime', 'lib', 'sandbox.sh'),
    ]);
    assert.equal(run.stdout, SERVER_ENV_FILE);
  });
});

describe('load_server_env and check_server_env_file (the entrypoint, run for real)', { concurrency: true }, () => {
  const LIB = join(projectDir, 'docker', 'common', 'runtime', 'lib', 'sandbox.sh');
  const dir = mkdtempSync(join(tmpdir(), 'mcps-server-env-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string, mode = 0o600) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  };
  /** The session gateway's start, with its file: prints what the command it execs would see, NUL-separated. */
  const start = (path: string, names: string, env: Record<string, string> = {}, extra = '') =>
    runWithFakes(
      'bash',
      [
        '-c',
        `set -euo pipefail\n. "$1"\nSANDBOX_PATH="$PATH"\nSERVER_ENV_FILE="$2"\n${extra}check_server_env_file "$SERVER_ENV_FILE"\nrun_session_gateway env -0`,
        'test',
        LIB,
        path,
      ],
      { MCP_ENV: names, ...env },
    );
  const envOf = (stdout: string) =>
    Object.fromEntries(
      stdout
        .split('\0')
        .filter(Boolean)
        .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
    );

  it("the server's environment gets every value exactly as written (line breaks, quotes, $, an empty one, non-ASCII)", async () => {
    const run = await start(file('awkward', serverEnvText(AWKWARD)), 'BARS_VAR,EMPTY,UNICODE');
    assert.equal(run.status, 0, run.stderr);
    const env = envOf(run.stdout);
    for (const [name, value] of Object.entries(AWKWARD)) assert.equal(env[name], value, name);
    // No value on any command line: setpriv's and the fakes' argv are logged.
    assert.ok(!run.calls.flat().some((a) => a.includes('line one') || a.includes(Buffer.from(AWKWARD.BARS_VAR).toString('base64'))));
  });

  it("the file's value replaces the environment's; without the file the environment's value is kept (plain docker run -e)", async () => {
    const path = file('replace', serverEnvText({ BARS_VAR: 'from-the-file' }));
    assert.equal(envOf((await start(path, 'BARS_VAR', { BARS_VAR: 'from-config-env' })).stdout).BARS_VAR, 'from-the-file');
    const absent = await start(join(dir, 'no-such-file'), 'BARS_VAR', { BARS_VAR: 'from-config-env' });
    assert.equal(absent.status, 0, absent.stderr);
    assert.equal(envOf(absent.stdout).BARS_VAR, 'from-config-env');
  });

  it('a file owned by another user (a Compose secret bound from the host) is read as its owner through setpriv', async () => {
    // This shell says it is uid 4242 (the entrypoint's environment is scrubbed, so a function stands in), so the file (this test's user's) is "another user's".
    const run = await start(
      file('owned', serverEnvText({ BARS_VAR: 'v' })),
      'BARS_VAR',
      {},
      'id() { if [ "$*" = -u ]; then echo 4242; else command id "$@"; fi; }\n',
    );
    assert.equal(run.status, 0, run.stderr);
    assert.equal(envOf(run.stdout).BARS_VAR, 'v');
    const reader = run.calls.find((c) => c[0] === 'setpriv' && c.includes('cat'))!;
    assert.ok(reader, JSON.stringify(run.calls));
    assert.equal(reader[1], `--reuid=${process.getuid!()}`);
    assert.ok(reader.includes('--no-new-privs') && reader.includes('--bounding-set=-all'));
  });

  it('refused with exit 78 before anything runs: a name MCP_ENV does not list, a bad line, bad base64, a file others may read', async () => {
    const cases: Array<[string, string, number, RegExp]> = [
      ['unlisted', serverEnvText({ BARS_VAR: 'x', OTHER: 'y' }), 0o600, /sets OTHER, which MCP_ENV does not list/],
      ['badline', 'BARS_VAR value\n', 0o600, /a line is not NAME=BASE64/],
      ['badb64', 'BARS_VAR=a\n', 0o600, /the value of BARS_VAR is not base64/],
      ['readable', serverEnvText({ BARS_VAR: 'x' }), 0o644, /has mode 644; only its owner may read it/],
    ];
    for (const [name, text, mode, message] of cases) {
      const run = await start(file(name, text, mode), 'BARS_VAR');
      assert.equal(run.status, 78, `${name}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '', `${name}: nothing started`);
    }
  });

  it("a file owned by the server's or the gateway's uid is refused (they could read it)", async () => {
    // The fake id answers 10002 for mcp; a stat stand-in makes the file look owned by it.
    const path = file('mcp-owned', serverEnvText({ BARS_VAR: 'x' }));
    const run = await start(path, 'BARS_VAR', {}, 'stat() { if [ "$3" = %u ]; then echo 10002; else command stat "$@"; fi; }\n');
    assert.equal(run.status, 78, run.stderr);
    assert.match(run.stderr, /belongs to uid 10002, a user of the sandbox/);
  });
});
