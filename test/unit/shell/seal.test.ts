/**
 * docker/common/build/server/seal, run for real on a temporary folder that stands
 * for the image's root: the server's tree ends with the wanted modes, and only
 * what was off is changed (a chmod in the image's last stage copies each file
 * it touches into one more layer: the tree would be in the image twice).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectDir, runWithFakes } from './fakes.js';

const SEAL = join(projectDir, 'docker', 'common', 'build', 'server', 'seal');
const mode = (path: string) => statSync(path).mode & 0o7777;
const changed = (path: string) => statSync(path).ctimeMs;

test('seal: wanted modes everywhere; entries already right are not touched; links are neither followed nor changed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcps-seal-'));
  try {
    const root = join(dir, 'root');
    const tree = join(root, 'opt', 'mcp-server');
    mkdirSync(join(tree, 'lib'), { recursive: true });
    mkdirSync(join(root, 'usr', 'local', 'bin'), { recursive: true });
    const outside = join(dir, 'outside.txt');
    writeFileSync(outside, 'not the tree');
    chmodSync(outside, 0o600);
    const files: Record<string, [number, number]> = {
      // path: [mode before, mode wanted]
      'lib/setuid': [0o4755, 0o755],
      'lib/world-writable': [0o666, 0o644],
      'lib/private': [0o600, 0o644],
      'lib/group-exec': [0o710, 0o755],
      'lib/right.js': [0o644, 0o644],
      'bin.js': [0o755, 0o755],
    };
    for (const [name, [before]] of Object.entries(files)) {
      writeFileSync(join(tree, name), name);
      chmodSync(join(tree, name), before);
    }
    chmodSync(join(tree, 'lib'), 0o777);
    symlinkSync(outside, join(tree, 'lib', 'planted-link'));
    symlinkSync('bin.js', join(tree, 'mcp-server'));
    chmodSync(tree, 0o755);
    // Let ctime move on, so that a chmod of an entry that was right would show.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const untouched = { right: changed(join(tree, 'lib', 'right.js')), bin: changed(join(tree, 'bin.js')), tree: changed(tree) };

    const run = await runWithFakes('sh', [SEAL], { SANDBOX_TEST_ROOT: root }, dir);
    assert.equal(run.status, 0, run.stderr);
    for (const [name, [, wanted]] of Object.entries(files)) assert.equal(mode(join(tree, name)).toString(8), wanted.toString(8), name);
    assert.equal(mode(join(tree, 'lib')).toString(8), '755');
    assert.equal(mode(outside).toString(8), '600', 'the planted link was not followed');
    assert.deepEqual(
      { right: changed(join(tree, 'lib', 'right.js')), bin: changed(join(tree, 'bin.js')), tree: changed(tree) },
      untouched,
      'entries already right keep their ctime: no chmod reached them',
    );
    assert.equal(readlinkSync(join(root, 'usr', 'local', 'bin', 'mcp-server')), '/opt/mcp-server/mcp-server');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('seal: a tree without its mcp-server link stops the build (positive control: the test above passes with one)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcps-seal-'));
  try {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'opt', 'mcp-server'), { recursive: true });
    mkdirSync(join(root, 'usr', 'local', 'bin'), { recursive: true });
    const run = await runWithFakes('sh', [SEAL], { SANDBOX_TEST_ROOT: root }, dir);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /mcp-server is missing: the server stage did not link an executable/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
