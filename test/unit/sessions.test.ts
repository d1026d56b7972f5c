/**
 * Sessions and readiness, the pure parts: the default session limit, the
 * session gateway's policy (docker/common/session-gateway/src, plain ES
 * modules loaded as the image runs them), its word splitting of NPM_MCP_ARGS,
 * and how the CLI reads the container's probe and health output.
 */
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { attachedExitCode, describeProbe, parseProbeOutput, serverFailure } from '../../package_scripts/instance/readiness.js';
import { durationSeconds } from '../../package_scripts/settings/schema.js';
import { defaultMaxSessions } from '../../package_scripts/settings/sessions.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const gatewayModule = async (file: string) =>
  (await import(pathToFileURL(join(repoRoot, 'docker', 'common', 'session-gateway', 'src', file)).href)) as Record<string, any>;

describe('default MCP_MAX_SESSIONS', () => {
  it('follows the smaller of memory and process room: 18 with 1g and 256', () => {
    assert.equal(defaultMaxSessions('1g', 256), 18);
    // Memory bound: (512 - 128) / 48 = 8.
    assert.equal(defaultMaxSessions('512m', 256), 8);
    // Process bound: (100 - 40) / 12 = 5.
    assert.equal(defaultMaxSessions('4g', 100), 5);
    // Never below 1, never above 64.
    assert.equal(defaultMaxSessions('64m', 32), 1);
    assert.equal(defaultMaxSessions('64g', 100_000), 64);
  });

  it('MCP_SESSION_IDLE durations are seconds', () => {
    assert.deepEqual(['300', '300s', '5m', '1h'].map(durationSeconds), [300, 300, 300, 3600]);
  });
});

describe('session gateway policy (pool.mjs)', () => {
  const s = (name: string, open: number, lastActive: number) => ({ name, open, lastActive });

  it('below the limit there is room; at it the longest-idle session is the victim; with none idle it is full', async () => {
    const { makeRoom } = await gatewayModule('pool.mjs');
    assert.deepEqual(makeRoom([s('a', 0, 10)], 2), {});
    const sessions = [s('busy-old', 1, 1), s('idle-new', 0, 30), s('idle-old', 0, 20)];
    assert.equal(makeRoom(sessions, 3).victim.name, 'idle-old');
    assert.deepEqual(makeRoom([s('a', 1, 1), s('b', 2, 2)], 2), { full: true });
  });

  it('expires only sessions without an open request, quiet for at least the idle time, oldest first', async () => {
    const { expiredSessions } = await gatewayModule('pool.mjs');
    const sessions = [s('streaming', 1, 0), s('quiet-2', 0, 50), s('quiet-1', 0, 10), s('recent', 0, 95)];
    assert.deepEqual(
      expiredSessions(sessions, 100, 40).map((x: { name: string }) => x.name),
      ['quiet-1', 'quiet-2'],
    );
  });

  it('health is ok only after the self-check, with a working server and a free or reclaimable session', async () => {
    const { healthOf } = await gatewayModule('pool.mjs');
    const ok = { ok: true, at: 1 };
    assert.equal(healthOf({ sessions: [], max: 2, selfCheckDone: false, lastStart: undefined }).state, 'starting');
    const failed = healthOf({ sessions: [], max: 2, selfCheckDone: true, lastStart: { ok: false, error: 'exited (code 1)', stderr: ['Error: no'] } });
    assert.deepEqual([failed.ok, failed.state, failed.lines], [false, 'server-failed', ['Error: no']]);
    assert.equal(healthOf({ sessions: [s('a', 1, 0), s('b', 1, 0)], max: 2, selfCheckDone: true, lastStart: ok }).state, 'full');
    // Positive controls: one idle session (reclaimable) or one free slot is enough.
    assert.equal(healthOf({ sessions: [s('a', 1, 0), s('b', 0, 0)], max: 2, selfCheckDone: true, lastStart: ok }).ok, true);
    assert.equal(healthOf({ sessions: [s('a', 1, 0)], max: 2, selfCheckDone: true, lastStart: ok }).ok, true);
  });
});

describe('NPM_MCP_ARGS word splitting (words.mjs): like a shell, nothing expanded', () => {
  it('splits at blanks and honours quotes and backslashes', async () => {
    const { splitWords } = await gatewayModule('words.mjs');
    assert.deepEqual(splitWords('/workspace'), ['/workspace']);
    assert.deepEqual(splitWords('  --root  "/my folder"  \'a b\' c\\ d '), ['--root', '/my folder', 'a b', 'c d']);
    assert.deepEqual(splitWords('"" x'), ['', 'x']);
    assert.deepEqual(splitWords(''), []);
  });

  it('keeps shell syntax as text: no variables, globs or commands', async () => {
    const { splitWords } = await gatewayModule('words.mjs');
    assert.deepEqual(splitWords('$HOME *.txt ;rm -rf / $(id)'), ['$HOME', '*.txt', ';rm', '-rf', '/', '$(id)']);
  });

  it('refuses an unmatched quote', async () => {
    const { splitWords } = await gatewayModule('words.mjs');
    assert.throws(() => splitWords('"/workspace'), /NPM_MCP_ARGS has an unmatched " quote/);
  });
});

describe('readiness output', () => {
  it('parses the container probe: success, server failure with its lines, garbage', () => {
    const ok = parseProbeOutput('{"ok":true,"protocolVersion":"2025-06-18","tools":["a","b"],"toolsListed":true,"ms":5,"summary":"2 tools (a, b)"}');
    assert.equal(ok.ok, true);
    assert.deepEqual(ok.result?.tools, ['a', 'b']);
    const failed = parseProbeOutput('{"ok":false,"error":"initialize: MCP server process failed","serverLines":["Error: None"],"retryable":false}');
    assert.deepEqual([failed.ok, failed.error, failed.serverLines, failed.retryable], [false, 'initialize: MCP server process failed', ['Error: None'], false]);
    const garbage = parseProbeOutput('', 'OCI runtime exec failed');
    assert.deepEqual([garbage.ok, garbage.error, garbage.retryable], [false, 'OCI runtime exec failed', true]);
  });

  it("finds the server's failure in the health check output, and nothing in other failures", () => {
    const text =
      'session gateway: MCP server failed: the MCP server exited (code 1) before it answered initialize\nserver: Warning: x\nserver: Error: None of the specified directories are accessible\n';
    assert.deepEqual(serverFailure(text), {
      reason: 'the MCP server exited (code 1) before it answered initialize',
      serverLines: ['Warning: x', 'Error: None of the specified directories are accessible'],
    });
    assert.equal(serverFailure('session gateway: starting: the first MCP round trip has not finished'), undefined);
    assert.equal(serverFailure('session gateway: no session capacity: all 18 sessions (MCP_MAX_SESSIONS) are in use'), undefined);
  });

  it('describes the tools on one line', () => {
    const tools = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    assert.equal(describeProbe({ protocolVersion: 'x', tools, toolsListed: true, ms: 1 }), '7 tools (a, b, c, d, e, f, ...)');
    assert.equal(describeProbe({ protocolVersion: 'x', tools: ['one'], toolsListed: true, ms: 1 }), '1 tool (one)');
    assert.equal(describeProbe({ protocolVersion: 'x', tools: [], toolsListed: false, ms: 1 }), 'no tools (the server declares no tools capability)');
  });

  it("attached mode: the container's status, 0 after a clean Ctrl-C, 130 after an unclean one", () => {
    assert.equal(attachedExitCode(0, true), 0);
    assert.equal(attachedExitCode(0, false), 0);
    assert.equal(attachedExitCode(137, false), 137);
    assert.equal(attachedExitCode(1, false), 1);
    assert.equal(attachedExitCode(143, true), 130);
  });
});
