// @ts-check
// The server stage's installer, the parts: which server the build arguments
// ask for, the commands that install it (planned by plan.cjs, which the CLI
// validates with), carrying them out without a shell, and finding the
// executable that becomes /opt/mcp-server/mcp-server. install.mjs runs them in
// order; the fast tests (test/unit/installer.test.ts) run them on a temporary
// folder with a recording spawn.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * @typedef {{ ecosystem: 'npm' | 'python', local: boolean, spec: string }} ServerSpec
 * @typedef {{ argv: string[], env: Record<string, string>, glob?: boolean } | { concat: string[], to: string }} InstallStep
 * @typedef {{
 *   parseServerSpec: (value: string) => ServerSpec,
 *   distributionName: (server: ServerSpec) => string,
 *   installSteps: (server: ServerSpec, prefix: string, options: Record<string, unknown>) => InstallStep[],
 *   chooseExecutable: (packageName: string, executables: Record<string, string>, wanted: string, setting?: string) => string,
 * }} Plan
 */
/** @type {Plan} */
const plan = createRequire(import.meta.url)('./plan.cjs');

export const PREFIX = '/opt/mcp-server';

/** A reason to stop, with the exit code install.mjs ends with (2: a bad build argument, 1: anything else). */
export class InstallError extends Error {
  /** @param {string} message @param {number} [exitCode] */
  constructor(message, exitCode = 1) {
    super(message);
    this.name = 'InstallError';
    this.exitCode = exitCode;
  }
}

/** @param {unknown} error */
const messageOf = (error) => (error instanceof Error ? error.message : String(error));

/**
 * The server the build arguments name (NPM_MCP, the guide's name, means npm:)
 * and whether its install scripts may run.
 * @param {NodeJS.ProcessEnv} env
 * @returns {{ value: string, server: ServerSpec, scripts: boolean }}
 */
export function requestedServer(env) {
  const value = env.NPM_MCP ? `npm:${env.NPM_MCP.replace(/^npm:/, '')}` : (env.MCP_SERVER ?? '');
  let server;
  try {
    server = plan.parseServerSpec(value);
  } catch (error) {
    throw new InstallError(messageOf(error), 2);
  }
  const scripts = env.MCP_INSTALL_SCRIPTS ?? 'true';
  if (!['true', 'false'].includes(scripts)) throw new InstallError(`MCP_INSTALL_SCRIPTS must be true or false, not '${env.MCP_INSTALL_SCRIPTS}'`, 2);
  return { value, server, scripts: scripts === 'true' };
}

/**
 * The commands that install `server` into `prefix`: plan.cjs's, with the
 * build's CA bundle when one was given (a non-empty `caFile`) and pip's indexes.
 * @param {{ server: ServerSpec, scripts: boolean }} request
 * @param {{ env: NodeJS.ProcessEnv, prefix?: string, caFile?: string }} options
 * @returns {InstallStep[]}
 */
export function stepsFor({ server, scripts }, { env, prefix = PREFIX, caFile = '/build/ca/extra-ca.crt' }) {
  try {
    return plan.installSteps(server, prefix, {
      scripts,
      caFile: existsSync(caFile) && readFileSync(caFile).length > 0 ? caFile : '',
      pipIndexUrl: env.PIP_INDEX_URL ?? '',
      pipExtraIndexUrl: env.PIP_EXTRA_INDEX_URL ?? '',
    });
  } catch (error) {
    throw new InstallError(messageOf(error));
  }
}

/**
 * node-gyp builds against the base image's own Node headers, with no download
 * (scripts/make-base-image.sh ships them; the official images have them too):
 * npm hands npm_config_nodedir to node-gyp. Without them node-gyp downloads as before.
 * @param {string} [root] stands for / in the fast tests
 * @returns {Record<string, string>}
 */
export function nodeHeadersEnv(root = '') {
  return existsSync(join(root, '/usr/local/include/node/common.gypi')) ? { npm_config_nodedir: '/usr/local' } : {};
}

/**
 * The one file a `DIR/*SUFFIX` pattern names (the wheel a source build made).
 * @param {string} pattern
 */
export function expandOne(pattern) {
  const dir = pattern.slice(0, pattern.lastIndexOf('/'));
  const suffix = pattern.slice(pattern.lastIndexOf('*') + 1);
  const found = readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f));
  if (found.length !== 1) throw new InstallError(`expected one ${pattern}, found ${found.length}`);
  return found;
}

/**
 * Carries the steps out in order, each command without a shell, with the
 * build's environment plus the step's own; stops at the first that fails.
 * @param {InstallStep[]} steps
 * @param {{ env: NodeJS.ProcessEnv, spawn?: (command: string, args: string[], options: { stdio: 'inherit', env: NodeJS.ProcessEnv }) => { status: number | null, error?: Error } }} options
 */
export function carryOut(steps, { env, spawn = spawnSync }) {
  for (const step of steps) {
    if ('concat' in step) {
      writeFileSync(step.to, step.concat.map((file) => readFileSync(file, 'utf8')).join('\n'));
      continue;
    }
    const argv = step.glob ? step.argv.flatMap((arg) => (arg.includes('*') ? expandOne(arg) : [arg])) : step.argv;
    const [command = '', ...args] = argv;
    const run = spawn(command, args, { stdio: 'inherit', env: { ...env, ...step.env } });
    if (run.status !== 0) {
      const code = /** @type {NodeJS.ErrnoException | undefined} */ (run.error)?.code;
      throw new InstallError(`${argv.join(' ')} failed (${code ?? `exit ${run.status}`})`);
    }
  }
}

/**
 * The installed npm package's name and executables (its "bin").
 * @param {string} prefix
 * @returns {{ name: string, bins: Record<string, string>, dir: string }}
 */
export function npmExecutables(prefix) {
  const [name] = Object.keys(JSON.parse(readFileSync(join(prefix, 'package.json'), 'utf8')).dependencies ?? {});
  if (!name) throw new InstallError(`nothing was installed in ${prefix}`);
  const manifest = JSON.parse(readFileSync(join(prefix, 'node_modules', name, 'package.json'), 'utf8'));
  const bins = typeof manifest.bin === 'string' ? { [name.split('/').pop() ?? name]: manifest.bin } : (manifest.bin ?? {});
  return { name, bins, dir: join('node_modules', '.bin') };
}

/**
 * The installed Python distribution's name and console scripts, asked of the venv's own Python.
 * @param {string} prefix
 * @param {ServerSpec} server
 * @param {string} [wheels] where a source build left its wheel
 * @returns {{ name: string, bins: Record<string, string>, dir: string }}
 */
export function pythonExecutables(prefix, server, wheels = '/tmp/wheels') {
  const built = existsSync(wheels) ? readdirSync(wheels).find((f) => f.endsWith('.whl')) : undefined;
  const name = built ? plan.distributionName({ ecosystem: 'python', local: true, spec: `./${built}` }) : plan.distributionName(server);
  const query = [
    'import json, sys',
    'from importlib.metadata import distribution',
    "print(json.dumps({e.name: e.value for e in distribution(sys.argv[1]).entry_points if e.group == 'console_scripts'}))",
  ].join('\n');
  const run = spawnSync(join(prefix, 'venv', 'bin', 'python'), ['-c', query, name], { encoding: 'utf8' });
  if (run.status !== 0) throw new InstallError(`cannot read the console scripts of ${name}: ${run.stderr}`);
  return { name, bins: JSON.parse(run.stdout), dir: join('venv', 'bin') };
}

/**
 * The executable that becomes the server (MCP_SERVER_BIN, NPM_MCP_BIN, or plan.cjs's choice), linked as PREFIX/mcp-server.
 * @param {string} prefix
 * @param {{ name: string, bins: Record<string, string>, dir: string }} installed
 * @param {NodeJS.ProcessEnv} env
 * @returns {string} the executable chosen
 */
export function linkServer(prefix, { name, bins, dir }, env) {
  let chosen;
  try {
    chosen = plan.chooseExecutable(name, bins, env.MCP_SERVER_BIN || env.NPM_MCP_BIN || '');
  } catch (error) {
    throw new InstallError(messageOf(error));
  }
  if (!existsSync(join(prefix, dir, chosen))) throw new InstallError(`${join(prefix, dir, chosen)} is missing after install`);
  const link = join(prefix, 'mcp-server');
  rmSync(link, { force: true });
  symlinkSync(join(dir, chosen), link);
  return chosen;
}
