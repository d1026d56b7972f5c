// @ts-check
// The MCP server's install, as data: which server MCP_SERVER names, and the
// exact commands (argv and environment, no shell) that install it. Pure
// functions, used twice: by install.mjs in the image's "server" build stage,
// and by the CLI (package_scripts/settings/server.ts), which validates
// MCP_SERVER with the same parseServerSpec before any docker command runs.
'use strict';

const NPM_SPEC = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(@[A-Za-z0-9._~^<>=+-]+)?$/;
// pip's requirement syntax without spaces, environment markers or URLs:
// name[extra,...] followed by comma-separated version specifiers.
const PEP508_NAME = '[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?';
const SPECIFIER = '(===|==|!=|<=|>=|~=|<|>)[A-Za-z0-9.*+!_-]+';
const PYPI_REQUIREMENT = new RegExp(`^${PEP508_NAME}(\\[${PEP508_NAME}(,${PEP508_NAME})*\\])?(${SPECIFIER}(,${SPECIFIER})*)?$`);
// A staged local package, relative to the build context's build-extra/server/.
const LOCAL = /^\.\/[A-Za-z0-9._-]+$/;

// Never passed to a shell, but refused all the same: such a value is a mistake (arguments in the wrong place) or an attack.
const UNSAFE = /[\s'"`$;&|\\(){}#<>]/;
const unsafeProblem = (value, setting = 'MCP_SERVER') =>
  UNSAFE.test(value.replace(/^pypi:[^\s'"`$;&|\\(){}#]*$/, ''))
    ? `${setting} may hold only npm:NAME[@VERSION], pypi:REQUIREMENT or a path: no spaces, quotes, newlines or shell characters. Put server arguments in MCP_SERVER_ARGS`
    : undefined;

/** Why a value is not a server spec, or undefined when it is one. Messages name MCP_SERVER and the fix. */
function serverSpecProblem(value) {
  if (value === '') return 'MCP_SERVER is empty: write npm:NAME[@VERSION], pypi:REQUIREMENT or a local path';
  const unsafe = unsafeProblem(value);
  if (unsafe) return unsafe;
  const colon = value.indexOf(':');
  const scheme = colon === -1 ? '' : value.slice(0, colon);
  const rest = value.slice(colon + 1);
  if (scheme === 'npm') {
    if (LOCAL.test(rest) && rest.endsWith('.tgz')) return undefined;
    if (!NPM_SPEC.test(rest)) return `MCP_SERVER '${value}': '${rest}' is not an npm package name with an optional @version`;
    return undefined;
  }
  if (scheme === 'pypi') {
    if (LOCAL.test(rest)) return undefined;
    if (!PYPI_REQUIREMENT.test(rest)) {
      return `MCP_SERVER '${value}': '${rest}' is not a pip requirement such as mcp-server-fetch==2025.4.7 or name[extra]>=1.0 (no spaces, markers or URLs)`;
    }
    return undefined;
  }
  if (scheme === '') return `MCP_SERVER '${value}' has no scheme: write npm:${value} or pypi:${value}, or a path starting with ./ or /`;
  return `MCP_SERVER '${value}' has the unknown scheme '${scheme}:'; use npm:, pypi: or a local path`;
}

function parseServerSpec(value) {
  const problem = serverSpecProblem(value);
  if (problem) throw new Error(problem);
  const [scheme, ...rest] = value.split(':');
  const spec = rest.join(':');
  return { ecosystem: scheme === 'npm' ? 'npm' : 'python', local: LOCAL.test(spec), spec };
}

/** A distribution's name from a requirement or a wheel/sdist file name, normalized as pip does (PEP 503). */
function distributionName(server) {
  const base = server.local ? server.spec.slice(2) : server.spec;
  const name = server.local && /\.whl$/.test(base) ? base.split('-')[0] : base.match(new RegExp(`^${PEP508_NAME}`))[0];
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * The commands that install SERVER into PREFIX, in order. `options`:
 *   scripts     false: npm --ignore-scripts; pip refuses source builds (--only-binary=:all:)
 *   caFile      a PEM bundle to trust besides the system's (EXTRA_CA_CERT), or ''
 *   systemCa    the system bundle pip starts from
 *   pipIndexUrl, pipExtraIndexUrl   private indexes (no credentials: the CLI refuses them)
 *   packageDir  where the CLI staged local packages
 */
function installSteps(server, prefix, options) {
  const {
    scripts = true,
    caFile = '',
    systemCa = '/etc/ssl/certs/ca-certificates.crt',
    pipIndexUrl = '',
    pipExtraIndexUrl = '',
    packageDir = '/build/server-package',
  } = options;
  if (server.ecosystem === 'npm') {
    const target = server.local ? `${packageDir}/${server.spec.slice(2)}` : server.spec;
    return [
      {
        argv: [
          'npm',
          'install',
          '--prefix',
          prefix,
          '--omit=dev',
          '--no-audit',
          '--no-fund',
          '--no-update-notifier',
          '--cache',
          '/tmp/npm-cache',
          ...(scripts ? [] : ['--ignore-scripts']),
          target,
        ],
        env: caFile ? { NODE_EXTRA_CA_CERTS: caFile } : {},
      },
    ];
  }
  const venv = `${prefix}/venv`;
  const pipEnv = {
    PIP_NO_INPUT: '1',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_CACHE_DIR: '1',
    ...(caFile ? { PIP_CERT: '/tmp/pip-ca.pem' } : {}),
    ...(pipIndexUrl ? { PIP_INDEX_URL: pipIndexUrl } : {}),
    ...(pipExtraIndexUrl ? { PIP_EXTRA_INDEX_URL: pipExtraIndexUrl } : {}),
  };
  const steps = [];
  // pip replaces its CA bundle rather than adding to it: the system's plus the extra one.
  if (caFile) steps.push({ concat: [systemCa, caFile], to: '/tmp/pip-ca.pem' });
  steps.push({ argv: ['python3', '-m', 'venv', venv], env: {} });
  let target = server.local ? `${packageDir}/${server.spec.slice(2)}` : server.spec;
  if (server.local && !/\.whl$/.test(target)) {
    if (!scripts)
      throw new Error(
        `MCP_SERVER '${server.spec}' must be built (its build backend runs its code): with MCP_INSTALL_SCRIPTS=false give a wheel (.whl) instead`,
      );
    // A folder or an sdist is built into a wheel first, offline, with Debian's setuptools and wheel
    // (a build venv that sees them), so no build backend is fetched from an index.
    // The build writes next to the sources (build/, *.egg-info): a copy the build user owns.
    steps.push({ argv: ['cp', '-R', target, '/tmp/server-src'], env: {} });
    steps.push({ argv: ['python3', '-m', 'venv', '--system-site-packages', '/tmp/build-venv'], env: {} });
    steps.push({
      argv: ['/tmp/build-venv/bin/python', '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--wheel-dir', '/tmp/wheels', '/tmp/server-src'],
      env: pipEnv,
    });
    target = '/tmp/wheels/*.whl';
  }
  steps.push({
    argv: [`${venv}/bin/python`, '-m', 'pip', 'install', ...(scripts ? [] : ['--only-binary=:all:']), target],
    env: pipEnv,
    ...(target.includes('*') ? { glob: true } : {}),
  });
  // Bytecode now: at run time the root filesystem is read-only. Then no installer is left behind.
  steps.push({ argv: [`${venv}/bin/python`, '-m', 'compileall', '-q', `${venv}/lib`], env: {} });
  steps.push({ argv: [`${venv}/bin/python`, '-m', 'pip', 'uninstall', '--yes', 'pip'], env: pipEnv });
  return steps;
}

/** Which executable becomes the server: the one asked for, the only one, or the one named after the package. */
function chooseExecutable(packageName, executables, wanted, setting = 'MCP_SERVER_BIN') {
  const names = Object.keys(executables);
  if (names.length === 0) throw new Error(`${packageName} declares no executable (npm "bin" or a Python console script): it cannot run as a stdio MCP server`);
  if (wanted) {
    if (!names.includes(wanted)) throw new Error(`${setting}=${wanted}, but ${packageName} has ${names.join(', ')}; set ${setting} to one of them`);
    return wanted;
  }
  if (names.length === 1) return names[0];
  const unscoped = packageName.split('/').pop();
  const same = names.find((n) => n === unscoped);
  if (same) return same;
  throw new Error(`${packageName} has several executables (${names.join(', ')}); choose one with ${setting}`);
}

module.exports = { unsafeProblem, serverSpecProblem, parseServerSpec, distributionName, installSteps, chooseExecutable };
