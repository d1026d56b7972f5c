/**
 * A failed build ends with the cause found in its output and the fix: the
 * rules on captured install failures (test/fixtures/install-failures), and
 * buildImage with a recording engine that prints such an output and fails.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CommandContext } from '../../package_scripts/context.js';
import { diagnoseBuildFailure, outputTail } from '../../package_scripts/docker/build-failure.js';
import { DockerError } from '../../package_scripts/errors.js';
import { createDockerEngine, type DockerCallOptions, type DockerEngine } from '../../package_scripts/docker/engine.js';
import { loadSettings } from '../../package_scripts/settings/load.js';
import { buildImage } from '../../package_scripts/start/build-image.js';
import { repoRoot } from './project-fixture.js';
import { recordingOutput } from './recording-output.js';

const capture = (name: string) => readFileSync(join(repoRoot, 'test', 'fixtures', 'install-failures', name), 'utf8');
const FIX = 'add MCP_BUILD_PACKAGES=python3,make,g++ to the env file';

describe('the cause of a failed install, from its output', () => {
  it('node-gyp without Python (captured): no Python, and the build packages to add', () => {
    const found = diagnoseBuildFailure(capture('node-gyp-no-python.txt'));
    assert.match(found?.cause ?? '', /^node-gyp found no Python/);
    assert.ok(found?.fix.startsWith(FIX), found?.fix);
  });

  it('node-gyp with Python but no make (captured): no compiler, named, and the same fix', () => {
    const found = diagnoseBuildFailure(capture('node-gyp-no-make.txt'));
    assert.equal(found?.cause, 'node-gyp found no compiler (make): the server has a native module to compile, and the install stage has no build tools');
    assert.ok(found?.fix.startsWith(FIX));
  });

  it('prebuild-install refused its download, then node-gyp had no tools: the download is named first', () => {
    const found = diagnoseBuildFailure(capture('prebuild-install-refused.txt'));
    assert.match(found?.cause ?? '', /no prebuilt binary to download \(prebuild-install/);
    assert.ok(found?.fix.startsWith(FIX));
  });

  it("node-gyp's header download refused: the base image's headers are the fix", () => {
    const found = diagnoseBuildFailure(
      'npm error gyp http GET https://nodejs.org/download/release/v22.23.5/node-v22.23.5-headers.tar.gz\nnpm error gyp ERR! stack Error: getaddrinfo ENOTFOUND nodejs.org\n',
    );
    assert.match(found?.cause ?? '', /download Node's headers/);
    assert.match(found?.fix ?? '', /\/usr\/local\/include\/node.*BASE_IMAGE/);
  });

  it('another refused download (ENOTFOUND): the host, and what the build reaches', () => {
    const found = diagnoseBuildFailure('Error: getaddrinfo ENOTFOUND downloads.example.com\n    at GetAddrInfoReqWrap.onlookup');
    assert.equal(found?.cause, 'the install tried to download from downloads.example.com, which the build cannot reach');
    assert.match(found?.fix ?? '', /npm registry/);
  });

  it('an output without a known cause gets none (control: a plain npm 404)', () => {
    assert.equal(diagnoseBuildFailure('npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/nope'), undefined);
  });

  it('the tail keeps the end of a long output', () => {
    const tail = outputTail(10);
    tail.push('0123456789');
    tail.push('abc');
    assert.equal(tail.text(), '3456789abc');
  });
});

describe("the engine hands a streamed build's output to onOutput", () => {
  it('what the command printed on stdout and stderr, while it is streamed', async () => {
    // /bin/sh stands for docker: the engine runs BINARY ARGS.
    const seen: string[] = [];
    const ran = await createDockerEngine([], undefined, '/bin/sh').run(['-c', 'echo out; echo err >&2; exit 3'], {
      inherit: true,
      untrustedOutput: true,
      allowFailure: true,
      onOutput: (text) => seen.push(text),
    });
    assert.equal(ran.exitCode, 3);
    assert.deepEqual(seen.join('').split('\n').filter(Boolean).sort(), ['err', 'out']);
  });
});

describe('buildImage: a failed build ends with the cause and the fix (recording engine)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-build-failure-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const envFile = join(dir, '.env');
  writeFileSync(envFile, 'NAME=native\n');

  const run = async (printed: string) => {
    const engine: DockerEngine = {
      async run(args: string[], options: DockerCallOptions = {}) {
        if (args[0] !== 'build') return { stdout: '', stderr: '', exitCode: 0 };
        // The build's output reaches the terminal and the tail in chunks, cut anywhere.
        for (let at = 0; at < printed.length; at += 100) options.onOutput?.(printed.slice(at, at + 100));
        throw new DockerError('docker build failed with exit code 1', 'docker build ...');
      },
    };
    const ctx: CommandContext = { projectDir: repoRoot, hostEnv: { HOME: dir }, out: recordingOutput([]), docker: () => engine };
    const settings = loadSettings(envFile, { hostEnv: { HOME: dir }, projectDir: repoRoot, purpose: 'build' });
    return buildImage(ctx, settings, { tag: 'latest', cache: true, dryRun: false }).then(
      () => assert.fail('the build must fail'),
      (error: unknown) => error,
    );
  };

  it('node-gyp without Python: the message names it and the hint, printed last, is the setting to add', async () => {
    const error = await run(capture('node-gyp-no-python.txt'));
    assert.ok(error instanceof DockerError);
    assert.match(error.message, /^docker build failed with exit code 1: node-gyp found no Python/);
    assert.equal(error.hint?.startsWith(`Fix: ${FIX}`), true, error.hint);
    assert.equal(error.exitCode, 1);
  });

  it('a failure without a known cause is reported as before (control)', async () => {
    const error = await run('Step 5/20 : RUN false\nThe command returned a non-zero code: 1\n');
    assert.ok(error instanceof DockerError);
    assert.equal(error.message, 'docker build failed with exit code 1');
    assert.equal(error.hint, undefined);
  });
});
