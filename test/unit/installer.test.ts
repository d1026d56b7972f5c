/**
 * The server stage's installer (docker/common/build/server/installer.mjs, run
 * by install.mjs as "builder"): which server the build arguments ask for, the
 * commands it runs (argv and environment, never a shell), how it stops at the
 * first failure, and the executable it links as mcp-server. On a temporary
 * folder with a recording spawn: no network, no npm, no pip.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { containerModule } from './container-module.js';

const installer = await containerModule('build/server/installer.mjs');
const { InstallError, carryOut, expandOne, linkServer, npmExecutables, requestedServer, stepsFor } = installer;

const root = mkdtempSync(join(tmpdir(), 'mcp-installer-'));
after(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const folder = () => {
  const dir = join(root, String(folders++));
  mkdirSync(dir, { recursive: true });
  return dir;
};
const installError = (exitCode: number, message: RegExp) => (e: any) => e instanceof InstallError && e.exitCode === exitCode && message.test(e.message);

describe('the server the build asks for (requestedServer)', () => {
  it('MCP_SERVER as given; NPM_MCP, the guide name, wins and means npm: (with or without the prefix)', () => {
    assert.deepEqual(requestedServer({ MCP_SERVER: 'pypi:mcp-server-fetch==2025.4.7' }), {
      value: 'pypi:mcp-server-fetch==2025.4.7',
      server: { ecosystem: 'python', local: false, spec: 'mcp-server-fetch==2025.4.7' },
      scripts: true,
    });
    for (const npm of ['@scope/server@1.2.3', 'npm:@scope/server@1.2.3']) {
      const asked = requestedServer({ NPM_MCP: npm, MCP_SERVER: 'pypi:other' });
      assert.equal(asked.value, 'npm:@scope/server@1.2.3');
      assert.deepEqual(asked.server, { ecosystem: 'npm', local: false, spec: '@scope/server@1.2.3' });
    }
    assert.equal(requestedServer({ MCP_SERVER: 'npm:x', MCP_INSTALL_SCRIPTS: 'false' }).scripts, false);
  });

  it('a bad server or MCP_INSTALL_SCRIPTS is a bad build argument: exit 2, the setting named', () => {
    assert.throws(() => requestedServer({ MCP_SERVER: 'npm:x; rm -rf /' }), installError(2, /^MCP_SERVER may hold only/));
    assert.throws(() => requestedServer({}), installError(2, /^MCP_SERVER is empty/));
    assert.throws(
      () => requestedServer({ MCP_SERVER: 'npm:x', MCP_INSTALL_SCRIPTS: 'yes' }),
      installError(2, /^MCP_INSTALL_SCRIPTS must be true or false, not 'yes'$/),
    );
  });
});

describe('the commands (stepsFor)', () => {
  const npm = { server: { ecosystem: 'npm', local: false, spec: 'server@1.0.0' }, scripts: true };

  it('npm: one npm install into the prefix, without audit or scripts when asked; the CA bundle only when it holds something', () => {
    const dir = folder();
    const ca = join(dir, 'extra-ca.crt');
    writeFileSync(ca, '');
    const [plain] = stepsFor(npm, { env: {}, prefix: '/opt/x', caFile: ca });
    assert.deepEqual(plain, {
      argv: [
        'npm',
        'install',
        '--prefix',
        '/opt/x',
        '--omit=dev',
        '--no-audit',
        '--no-fund',
        '--no-update-notifier',
        '--cache',
        '/tmp/npm-cache',
        'server@1.0.0',
      ],
      env: {},
    });
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    const [withCa] = stepsFor({ ...npm, scripts: false }, { env: {}, prefix: '/opt/x', caFile: ca });
    assert.deepEqual(withCa.env, { NODE_EXTRA_CA_CERTS: ca });
    assert.equal(withCa.argv.at(-2), '--ignore-scripts');
    assert.deepEqual(stepsFor(npm, { env: {}, caFile: join(dir, 'missing.crt') })[0].env, {}, 'no bundle file: nothing added');
    assert.equal(stepsFor(npm, { env: {}, caFile: join(dir, 'missing.crt') })[0].argv[3], '/opt/mcp-server', 'the default prefix');
  });

  it("pypi: a venv, pip install with the build's indexes, bytecode, pip removed", () => {
    const steps = stepsFor(
      { server: { ecosystem: 'python', local: false, spec: 'mcp-server-fetch' }, scripts: true },
      { env: { PIP_INDEX_URL: 'https://pypi.example/simple' }, prefix: '/opt/x', caFile: '/nonexistent' },
    );
    assert.deepEqual(
      steps.map((s: any) => s.argv.slice(0, 4).join(' ')),
      [
        'python3 -m venv /opt/x/venv',
        '/opt/x/venv/bin/python -m pip install',
        '/opt/x/venv/bin/python -m compileall -q',
        '/opt/x/venv/bin/python -m pip uninstall',
      ],
    );
    assert.equal(steps[1].env.PIP_INDEX_URL, 'https://pypi.example/simple');
    assert.equal(steps[1].env.PIP_EXTRA_INDEX_URL, undefined);
  });

  it('a source tree with install scripts off cannot be built: exit 1 with the fix (a wheel)', () => {
    assert.throws(
      () => stepsFor({ server: { ecosystem: 'python', local: true, spec: './src-dir' }, scripts: false }, { env: {}, caFile: '/nonexistent' }),
      installError(1, /with MCP_INSTALL_SCRIPTS=false give a wheel/),
    );
  });
});

describe('carrying the steps out (carryOut)', () => {
  const recorder = (statusOf: (command: string) => { status: number | null; error?: Error } = () => ({ status: 0 })) => {
    const calls: Array<{ command: string; args: string[]; env: Record<string, string | undefined>; stdio: string }> = [];
    const spawn = (command: string, args: string[], options: { env: Record<string, string | undefined>; stdio: string }) => {
      calls.push({ command, args, env: options.env, stdio: options.stdio });
      return statusOf(command);
    };
    return { calls, spawn };
  };

  it('each command as argv (no shell), with the build environment plus its own; a wheel pattern becomes the one wheel; concat writes the bundle', () => {
    const dir = folder();
    mkdirSync(join(dir, 'wheels'));
    writeFileSync(join(dir, 'wheels', 'srv-1.0-py3-none-any.whl'), '');
    writeFileSync(join(dir, 'system.pem'), 'SYSTEM');
    writeFileSync(join(dir, 'extra.pem'), 'EXTRA');
    const { calls, spawn } = recorder();
    carryOut(
      [
        { concat: [join(dir, 'system.pem'), join(dir, 'extra.pem')], to: join(dir, 'bundle.pem') },
        { argv: ['npm', 'install', 'a;b $(x)'], env: { NODE_EXTRA_CA_CERTS: '/ca', KEEP: 'step' } },
        { argv: ['pip', 'install', join(dir, 'wheels', '*.whl')], env: {}, glob: true },
      ],
      { env: { PATH: '/usr/bin', KEEP: 'build' }, spawn },
    );
    assert.equal(readFileSync(join(dir, 'bundle.pem'), 'utf8'), 'SYSTEM\nEXTRA');
    assert.deepEqual(calls[0], {
      command: 'npm',
      args: ['install', 'a;b $(x)'],
      env: { PATH: '/usr/bin', KEEP: 'step', NODE_EXTRA_CA_CERTS: '/ca' },
      stdio: 'inherit',
    });
    assert.deepEqual(calls[1]!.args, ['install', join(dir, 'wheels', 'srv-1.0-py3-none-any.whl')]);
  });

  it('stops at the first command that fails, naming it and its exit (or spawn error); later steps never run', () => {
    const failing = recorder((command) => (command === 'second' ? { status: 3 } : { status: 0 }));
    assert.throws(
      () =>
        carryOut(
          [
            { argv: ['first'], env: {} },
            { argv: ['second', '--x'], env: {} },
            { argv: ['third'], env: {} },
          ],
          { env: {}, spawn: failing.spawn },
        ),
      installError(1, /^second --x failed \(exit 3\)$/),
    );
    assert.deepEqual(
      failing.calls.map((c) => c.command),
      ['first', 'second'],
    );
    const missing = recorder(() => ({ status: null, error: Object.assign(new Error('spawn'), { code: 'ENOENT' }) }));
    assert.throws(
      () => carryOut([{ argv: ['python3', '-m', 'venv'], env: {} }], { env: {}, spawn: missing.spawn }),
      installError(1, /^python3 -m venv failed \(ENOENT\)$/),
    );
  });

  it('a wheel pattern that matches none or several is an error', () => {
    const dir = folder();
    assert.throws(() => expandOne(`${dir}/*.whl`), installError(1, /expected one .*\*\.whl, found 0/));
    writeFileSync(join(dir, 'a.whl'), '');
    writeFileSync(join(dir, 'b.whl'), '');
    assert.throws(() => expandOne(`${dir}/*.whl`), installError(1, /found 2/));
  });
});

describe('the executable (npmExecutables, linkServer)', () => {
  /** A prefix as npm install leaves it, with `name` declaring `bin`. */
  const installed = (name: string, bin: unknown, executables: string[]) => {
    const prefix = folder();
    writeFileSync(join(prefix, 'package.json'), JSON.stringify({ dependencies: { [name]: '^1.0.0' } }));
    mkdirSync(join(prefix, 'node_modules', name), { recursive: true });
    writeFileSync(join(prefix, 'node_modules', name, 'package.json'), JSON.stringify({ name, bin }));
    mkdirSync(join(prefix, 'node_modules', '.bin'), { recursive: true });
    for (const e of executables) writeFileSync(join(prefix, 'node_modules', '.bin', e), '');
    return prefix;
  };

  it('a scoped package with one bin string: the executable is named after the package; mcp-server links to it (relative)', () => {
    const prefix = installed('@scope/files', 'dist/index.js', ['files']);
    const found = npmExecutables(prefix);
    assert.deepEqual(found, { name: '@scope/files', bins: { files: 'dist/index.js' }, dir: join('node_modules', '.bin') });
    assert.equal(linkServer(prefix, found, {}), 'files');
    assert.equal(readlinkSync(join(prefix, 'mcp-server')), join('node_modules', '.bin', 'files'));
  });

  it('several executables: MCP_SERVER_BIN (or NPM_MCP_BIN) chooses; a wrong name or a missing file is an error naming the fix', () => {
    const prefix = installed('tools', { 'tools-a': 'a.js', 'tools-b': 'b.js' }, ['tools-a', 'tools-b']);
    const found = npmExecutables(prefix);
    assert.throws(() => linkServer(prefix, found, {}), installError(1, /several executables \(tools-a, tools-b\); choose one with MCP_SERVER_BIN/));
    assert.equal(linkServer(prefix, found, { NPM_MCP_BIN: 'tools-b' }), 'tools-b');
    assert.equal(linkServer(prefix, found, { MCP_SERVER_BIN: 'tools-a', NPM_MCP_BIN: 'tools-b' }), 'tools-a');
    assert.equal(readlinkSync(join(prefix, 'mcp-server')), join('node_modules', '.bin', 'tools-a'), 'the link is replaced');
    assert.throws(() => linkServer(prefix, found, { MCP_SERVER_BIN: 'nope' }), installError(1, /MCP_SERVER_BIN=nope, but tools has tools-a, tools-b/));
    rmSync(join(prefix, 'node_modules', '.bin', 'tools-a'));
    assert.throws(() => linkServer(prefix, found, { MCP_SERVER_BIN: 'tools-a' }), installError(1, /tools-a is missing after install$/));
  });

  it('nothing installed: an error, not a link', () => {
    const prefix = folder();
    writeFileSync(join(prefix, 'package.json'), '{}');
    assert.throws(() => npmExecutables(prefix), installError(1, /^nothing was installed in /));
  });
});
