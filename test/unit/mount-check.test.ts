/**
 * A writable mount is checked for real at start: a short-lived container of the
 * instance's image, as uid 10002, without network or capability, writes and
 * removes a file there. When it cannot, start stops (exit 1) before the
 * instance's container exists, and says how to fix it. Recording engine here;
 * test/e2e/data.test.ts runs the real check on a root-owned 0755 folder and a chowned one.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { start } from '../../package_scripts/commands/start.js';
import type { DockerResult } from '../../package_scripts/docker/engine.js';
import { DockerError, StateError } from '../../package_scripts/errors.js';
import { writeCheckArgs } from '../../package_scripts/start/mount-check.js';
import { commandContext, recordingEngine, writeEnvFile } from './project-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-mount-check-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
const TOKEN = 'cd'.repeat(32);

const isWriteCheck = (args: string[]) => args[0] === 'run' && args.includes('--user') && args.includes('/bin/sh');
const isInstanceRun = (args: string[]) => args[0] === 'run' && args.includes('--name');

let counter = 0;
function harness(mounts: string, writeCheck: DockerResult) {
  counter += 1;
  const dir = join(root, `case-${counter}`);
  mkdirSync(join(dir, 'rw'), { recursive: true });
  mkdirSync(join(dir, 'ro'));
  const envFile = writeEnvFile(join(dir, '.env'), `NAME=mounts\nACCESS_TOKEN=${TOKEN}\nMCP_MOUNTS=${mounts}\n`);
  const { engine, calls } = recordingEngine((args) => (isWriteCheck(args) ? writeCheck : undefined));
  const { ctx, messages } = commandContext(dir, engine);
  return { ctx, envFile, dir, calls, messages };
}

const refused: DockerResult = {
  stdout: '',
  stderr: 'sh: 1: cannot create /mcp-sandbox-write-check/.mcp-sandbox-write-check-7: Permission denied',
  exitCode: 3,
};
const allowed: DockerResult = { stdout: '', stderr: '', exitCode: 0 };

describe('MCP_MOUNTS: a writable mount is checked for real', () => {
  it('the check: the image, uid 10002, no network, no capability, read-only root, the folder bound writable', () => {
    const args = writeCheckArgs('mounts:latest', { hostPath: '/srv/notes', containerPath: '/notes', readOnly: false });
    const text = args.join(' ');
    for (const part of [
      'run --rm',
      '--network none',
      '--read-only',
      '--cap-drop ALL',
      '--security-opt no-new-privileges',
      '--user 10002:10002',
      '--entrypoint /bin/sh',
    ]) {
      assert.ok(text.includes(part), `${part} in ${text}`);
    }
    assert.ok(text.includes('--mount type=bind,source=/srv/notes,target=/mcp-sandbox-write-check mounts:latest -c'), text);
    assert.ok(!text.includes('readonly'));
  });

  it('uid 10002 cannot write: exit 1 with the owner, the mode and the chown line; the instance never starts', async () => {
    const h = harness('./rw:/workspace/rw:rw', refused);
    await assert.rejects(start(h.ctx, { envFile: h.envFile, detach: true }), (error: unknown) => {
      assert.ok(error instanceof StateError);
      assert.equal(error.exitCode, 1);
      assert.match(
        error.message,
        /^MCP_MOUNTS: \S+\/rw is mounted writable \(rw\) at \/workspace\/rw, but the MCP server's user \(uid 10002\) cannot write there \(owner uid \d+, group \d+, mode 755\)\./,
      );
      assert.match(error.message, /sudo chown -R 10002:10002 \S+\/rw/);
      assert.match(error.message, /or mount it read-only \(drop :rw\)/);
      assert.match(error.hint ?? '', /Permission denied/);
      return true;
    });
    assert.equal(h.calls.filter(isWriteCheck).length, 1);
    assert.deepEqual(h.calls.filter(isInstanceRun), [], 'the instance was not started');
    assert.ok(!h.calls.some((c) => c[0] === 'rm'), 'the running instance (if any) was not replaced');
  });

  it('uid 10002 can write: start goes on (the control)', async () => {
    const h = harness('./rw:/workspace/rw:rw', allowed);
    await start(h.ctx, { envFile: h.envFile, detach: true });
    assert.equal(h.calls.filter(isWriteCheck).length, 1);
    assert.equal(h.calls.filter(isInstanceRun).length, 1);
    assert.ok(h.messages.some((m) => /^warn: MCP_MOUNTS: \S+\/rw is mounted writable \(rw\): the MCP server may change or delete what is in it$/.test(m)));
    assert.ok(!h.messages.some((m) => m.includes('is writable by the MCP server')), 'no claim about the folder before it was checked');
  });

  it('read-only mounts are not checked', async () => {
    const h = harness('./ro:/workspace/ro', refused);
    await start(h.ctx, { envFile: h.envFile, detach: true });
    assert.equal(h.calls.filter(isWriteCheck).length, 0);
  });

  it('the check itself failing (not exit 3) is a docker failure, not a permission verdict', async () => {
    const h = harness('./rw:/workspace/rw:rw', { stdout: '', stderr: 'docker: invalid mount config', exitCode: 125 });
    await assert.rejects(
      start(h.ctx, { envFile: h.envFile, detach: true }),
      (error: unknown) => error instanceof DockerError && /Could not check whether uid 10002 may write/.test(error.message),
    );
  });

  it('--dry-run runs no check', async () => {
    const h = harness('./rw:/workspace/rw:rw', refused);
    await start(h.ctx, { envFile: h.envFile, detach: true, dryRun: true });
    assert.deepEqual(h.calls, []);
  });
});
