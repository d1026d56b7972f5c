/**
 * Native modules: a local package (test/fixtures/native-addon) whose install
 * compiles a tiny addon with node-gyp. With MCP_BUILD_PACKAGES=python3,make,g++
 * and a base image that carries Node's headers (scripts/add-node-headers.sh,
 * what scripts/make-base-image.sh does to the local base), it builds without
 * downloading anything but its Debian packages, a tool call returns the
 * addon's answer, and the compiler stayed in the install stage. Without the
 * build packages the build fails, and the CLI's last lines name the cause and
 * the setting to add.
 */
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, connectClient, createInstance, docker, onEngine, projectDir, removeInstance, type Instance } from './harness.js';

const HEADERS_BASE = 'mcps-e2e-node-headers:22';
const fixture = join(projectDir, 'test', 'fixtures', 'native-addon');
const BUILD_PACKAGES = 'python3,make,g++';

describe(onEngine("native modules: MCP_BUILD_PACKAGES and the base image's Node headers"), { timeout: 1_200_000 }, () => {
  const instances: Instance[] = [];

  before(async () => {
    const made = await execa(join(projectDir, 'scripts', 'add-node-headers.sh'), ['node:22-bookworm-slim', HEADERS_BASE], { reject: false, all: true });
    assert.equal(made.exitCode, 0, made.all);
  });

  after(async () => {
    for (const instance of instances) await removeInstance(instance);
    await docker(['image', 'rm', 'mcps-e2e-native-fail:latest']);
  });

  test('with python3,make,g++: the addon is compiled, a tool call returns its answer, and no compiler is in the image', async () => {
    const instance = await createInstance('mcps-e2e-native', {
      MCP_SERVER: fixture,
      MCP_SERVER_ARGS: '',
      BASE_IMAGE: HEADERS_BASE,
      MCP_BUILD_PACKAGES: BUILD_PACKAGES,
    });
    instances.push(instance);
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    const client = await connectClient(instance);
    try {
      const result = await client.callTool({ name: 'answer', arguments: {} });
      assert.deepEqual(result.content, [{ type: 'text', text: 'compiled by node-gyp: 42' }]);
    } finally {
      await client.close();
    }
    const addon = await docker(['exec', instance.name, 'test', '-f', '/opt/mcp-server/node_modules/mcp-sandbox-native-addon/build/Release/addon.node']);
    assert.equal(addon.exitCode, 0, 'control: the compiled addon is in the image');
    for (const tool of ['g++', 'make', 'python3', 'cc']) {
      const found = await docker(['exec', instance.name, 'sh', '-c', `command -v ${tool}`]);
      assert.notEqual(found.exitCode, 0, `${tool} stayed in the install stage, yet the image has ${found.stdout}`);
    }
  });

  test('without them: the build fails, and its last lines name node-gyp, the missing Python and the setting to add', async () => {
    const instance = await createInstance('mcps-e2e-native-fail', { MCP_SERVER: fixture, MCP_SERVER_ARGS: '', BASE_IMAGE: HEADERS_BASE });
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 1, built.all);
    const last = (built.all ?? '').trim().split('\n').slice(-4).join('\n');
    assert.match(last, /error: docker build failed with exit code 1: node-gyp found no Python/);
    assert.match(last.split('\n').at(-1)!, /^Fix: add MCP_BUILD_PACKAGES=python3,make,g\+\+ to the env file/);
  });
});
