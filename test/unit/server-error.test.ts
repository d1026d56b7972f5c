/**
 * When start fails, the excerpt shows the server's error line itself, not only
 * its stack's tail: on a captured Node failure (test/fixtures/server-failures),
 * and through start's wait with a recording engine whose log holds the line.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DockerEngine } from '../../package_scripts/docker/engine.js';
import { errorLine, explainServerFailure, serverLinesOfLog, withErrorLine } from '../../package_scripts/instance/server-error.js';
import { repoRoot } from './project-fixture.js';

const moduleNotFound = readFileSync(join(repoRoot, 'test', 'fixtures', 'server-failures', 'node-module-not-found.txt'), 'utf8')
  .trimEnd()
  .split('\n');
/** What the session gateway reports: the last ten of the server's stderr lines. */
const gatewayTail = moduleNotFound.slice(-10);
const LINE = "Error: Cannot find module 'left-pad-missing'";

describe("the server's error line", () => {
  it('the captured failure holds it, its last ten lines do not (the case this fixes)', () => {
    assert.equal(errorLine(moduleNotFound), LINE);
    assert.equal(errorLine(gatewayTail), undefined);
    assert.ok(gatewayTail.some((line) => line.includes("code: 'MODULE_NOT_FOUND'")));
  });

  it("Python's last line, a typed Node error and an uncaught one are error lines; a stack frame and a plain log line are not", () => {
    assert.equal(
      errorLine(['Traceback (most recent call last):', '  File "x.py", line 1', "ModuleNotFoundError: No module named 'mcp'"]),
      "ModuleNotFoundError: No module named 'mcp'",
    );
    assert.equal(
      errorLine(['TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string']),
      'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string',
    );
    assert.equal(errorLine(['Uncaught Error: boom']), 'Uncaught Error: boom');
    assert.equal(errorLine(['    at Object.<anonymous> (/opt/x.js:1:1)', 'listening on stdio', 'no errors: fine']), undefined);
  });

  it("the log lines of the server, without the gateway prefix; the gateway's own lines are left out", () => {
    const log = [
      'session 1a2b opened: server pid 7',
      ...moduleNotFound.map((line) => `[mcp-server 1a2b] ${line}`),
      'session 1a2b: the MCP server exited (code 1)',
    ].join('\n');
    assert.deepEqual(serverLinesOfLog(log), moduleNotFound);
  });

  it('the excerpt gets the error line first when its tail lacks it', () => {
    assert.deepEqual(withErrorLine(gatewayTail, moduleNotFound), [LINE, '...', ...gatewayTail]);
  });

  it('an excerpt that has one already, or a log without one, is left as it is (controls)', () => {
    const hasOne = moduleNotFound.slice(4, 14);
    assert.deepEqual(withErrorLine(hasOne, moduleNotFound), hasOne);
    assert.deepEqual(withErrorLine(['a', 'b'], ['c']), ['a', 'b']);
  });

  it('explainServerFailure reads the container log only when the tail lacks the line', async () => {
    const calls: string[][] = [];
    const engine: DockerEngine = {
      async run(args) {
        calls.push(args);
        return { stdout: '', stderr: moduleNotFound.map((line) => `[mcp-server 1a2b] ${line}`).join('\n'), exitCode: 0 };
      },
    };
    assert.deepEqual(await explainServerFailure(engine, 'inst', gatewayTail), [LINE, '...', ...gatewayTail]);
    assert.deepEqual(calls, [['logs', '--tail', '300', 'inst']]);
    calls.length = 0;
    assert.deepEqual(await explainServerFailure(engine, 'inst', [LINE]), [LINE]);
    assert.deepEqual(calls, [], 'no docker call when the line is there');
  });
});
