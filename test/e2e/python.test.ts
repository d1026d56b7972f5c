/**
 * Python MCP servers (MCP_SERVER): a local Python folder and a wheel, built
 * offline in the unprivileged server stage, served through TLS and the token,
 * and the shared escape battery against the Python probe server. PyPI is out
 * of reach here: the pypi: path is the same pip invocation with the index,
 * unit-tested in test/unit/server.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { sandboxBattery, startNginxBattery, stopBattery, type BatteryContext } from './battery.js';
import { callJson, cli, connectClient, createInstance, docker, projectDir, removeInstance } from './harness.js';

const pythonProbeDir = join(projectDir, 'test', 'fixtures', 'python-probe');
const imageRuns = (image: string, script: string) => docker(['run', '--rm', '--network', 'none', '--entrypoint', 'sh', image, '-c', script]);

describe('a Python MCP server from a local folder, behind nginx (steps in order, on shared instances)', { timeout: 900_000 }, () => {
  let context: BatteryContext;
  const name = 'mcps-e2e-python';
  const target = 'mcps-e2e-python-target';

  before(async () => {
    context = await startNginxBattery(name, target, {}, pythonProbeDir);
  });

  after(() => stopBattery(context, target));

  test('an SDK client lists and calls the Python server tools through TLS and the token', async () => {
    const { tools } = await context.client.listTools();
    assert.ok(tools.some((t) => t.name === 'echo') && tools.some((t) => t.name === 'syscalls'), tools.map((t) => t.name).join(', '));
    assert.deepEqual(await callJson(context.client, 'echo', { text: 'from python' }), { text: 'from python' });
  });

  test('the image has Python and the compiled server, but no pip, and the venv is read-only', async () => {
    const image = `${name}:latest`;
    const check = await imageRuns(
      image,
      'python3 --version; readlink /opt/mcp-server/mcp-server; ls /opt/mcp-server/venv/bin; find /opt/mcp-server/venv -name "__init__*.pyc" -path "*mcp_sandbox_python_probe*"; stat -c "%U %a" /opt/mcp-server/venv/lib',
    );
    assert.equal(check.exitCode, 0, check.stderr);
    assert.match(check.stdout, /^Python 3\.11\./);
    assert.match(check.stdout, /^venv\/bin\/mcp-sandbox-python-probe$/m, 'the console script is the server executable');
    assert.match(check.stdout, /mcp-sandbox-python-probe/);
    assert.doesNotMatch(check.stdout, /\bpip3?\b/, 'no pip left in the venv');
    assert.match(check.stdout, /mcp_sandbox_python_probe\/__pycache__\/__init__\.cpython-311\.pyc/);
    assert.match(check.stdout, /^root 755$/m);
  });

  sandboxBattery(() => context, { installReports: false });
});

describe('Python servers: a wheel, the executable choice, and npm images without Python', { timeout: 600_000 }, () => {
  const images: string[] = [];
  after(async () => {
    if (images.length) await docker(['rmi', '-f', ...images]);
  });

  test('a wheel installs without a build and serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-sandbox-wheel-'));
    const made = await execa('python3', [join(pythonProbeDir, 'make_wheel.py'), dir]);
    const instance = await createInstance('mcps-e2e-wheel', { MCP_SERVER: made.stdout.trim(), MCP_INSTALL_SCRIPTS: 'false' });
    images.push('mcps-e2e-wheel:latest');
    try {
      const built = await cli(['build', '--env-file', instance.envFile]);
      assert.equal(built.exitCode, 0, built.all);
      const started = await cli(['start', '-d', '--env-file', instance.envFile]);
      assert.equal(started.exitCode, 0, started.all);
      const client = await connectClient(instance);
      assert.deepEqual(await callJson(client, 'echo', { text: 'wheel' }), { text: 'wheel' });
      assert.equal((await callJson(client, 'identity')).uid, 10002);
      await client.close();
    } finally {
      await removeInstance(instance);
    }
  });

  test('MCP_SERVER_BIN naming a script the package lacks fails the build (exit 1), listing the scripts', async () => {
    const instance = await createInstance('mcps-e2e-wheel-bin', { MCP_SERVER: pythonProbeDir, MCP_SERVER_BIN: 'no-such-script' });
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 1, built.all);
    assert.match(built.all, /MCP_SERVER_BIN=no-such-script, but mcp-sandbox-python-probe has mcp-sandbox-python-probe; set MCP_SERVER_BIN to one of them/);
    assert.equal((await docker(['image', 'inspect', 'mcps-e2e-wheel-bin:latest'])).exitCode, 1, 'no image was tagged');
  });

  test('control: an npm image carries no Python at all', async () => {
    const instance = await createInstance('mcps-e2e-npm-nopython', { MCP_SERVER: join(projectDir, 'test', 'fixtures', 'benign-server') });
    images.push('mcps-e2e-npm-nopython:latest');
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    const check = await imageRuns('mcps-e2e-npm-nopython:latest', 'command -v python3 || echo none; ls /usr/lib | grep -c "^python3" || true');
    assert.deepEqual(check.stdout.trim().split('\n'), ['none', '0']);
    const python = await imageRuns('mcps-e2e-python:latest', 'command -v python3');
    assert.equal(python.stdout.trim(), '/usr/bin/python3', 'the same check finds Python in a Python image');
  });
});
