import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { DEFAULT_MCP_SERVER } from './schema.js';

/** Which MCP server to install, from MCP_SERVER (or NPM_MCP, which means npm:). */
export interface ServerSource {
  ecosystem: 'npm' | 'python';
  /** What the user wrote, normalized (npm:..., pypi:..., or an absolute path): for messages. */
  display: string;
  /** A registry spec or pip requirement; absent for a local package. */
  spec?: string;
  /** A local package: a folder, or an archive (.tgz for npm; .whl, .tar.gz or .zip for Python). */
  local?: { kind: 'directory' | 'archive'; path: string };
}

interface Plan {
  unsafeProblem(value: string, setting?: string): string | undefined;
  serverSpecProblem(value: string): string | undefined;
}

/**
 * The image's own rules (docker/common/build/server/plan.cjs), applied here before
 * anything runs. Found beside this module (dist/package_scripts/settings/):
 * it is part of this CLI, whichever project folder the settings name.
 */
const rules = createRequire(import.meta.url)('../../../docker/common/build/server/plan.cjs') as Plan;

const LOCAL_PATH = /^(\.{1,2}\/|\/|~\/)/;
const PYTHON_ARCHIVE = /\.(whl|tar\.gz|zip)$/;

/** MCP_SERVER split into its scheme (if written) and the rest; `local` when the rest names a path. */
function splitValue(value: string): { scheme?: 'npm' | 'pypi'; rest: string; local: boolean } {
  const scheme = /^(npm|pypi):/.exec(value)?.[1] as 'npm' | 'pypi' | undefined;
  const rest = scheme ? value.slice(scheme.length + 1) : value;
  return { scheme, rest, local: LOCAL_PATH.test(rest) || (!scheme && (rest.endsWith('.tgz') || PYTHON_ARCHIVE.test(rest))) };
}

/** A value for MCP_SERVER as `init` asks for it: the rules that do not depend on the file system. */
export function serverValueProblem(value: string): string | undefined {
  if (value === '') return 'MCP_SERVER cannot be empty';
  return rules.unsafeProblem(value) ?? (splitValue(value).local ? undefined : rules.serverSpecProblem(value));
}

/** A local package; `scheme` says which kind when the user wrote npm: or pypi: (NPM_MCP means npm:). */
function localSource(setting: string, value: string, baseDir: string, homeDir: string, scheme: 'npm' | 'pypi' | undefined): ServerSource {
  const npmOnly = scheme === 'npm';
  const path = value.startsWith('~/') ? join(homeDir, value.slice(2)) : resolve(baseDir, value);
  if (!existsSync(path)) {
    throw new UsageError(`${setting} names ${path}, which does not exist; fix the path (relative paths start from the .env folder, ~/ from your home)`);
  }
  if (statSync(path).isDirectory()) {
    const npm = existsSync(join(path, 'package.json'));
    const python = existsSync(join(path, 'pyproject.toml')) || existsSync(join(path, 'setup.py'));
    if (npm && python && !scheme) {
      throw new UsageError(`${setting} names the folder ${path}, which is both an npm package and a Python project; write npm:./path or pypi:./path`);
    }
    if (npm && (npmOnly || !python)) return { ecosystem: 'npm', display: path, local: { kind: 'directory', path } };
    if (python && !npmOnly) return { ecosystem: 'python', display: path, local: { kind: 'directory', path } };
    throw new UsageError(
      npmOnly
        ? `${setting} names the folder ${path}, which has no package.json; point it at an npm package folder (for a Python server use MCP_SERVER=pypi:${value})`
        : `${setting} names the folder ${path}, which has neither package.json (npm) nor pyproject.toml or setup.py (Python); point it at the server's package folder`,
    );
  }
  if (path.endsWith('.tgz')) return { ecosystem: 'npm', display: path, local: { kind: 'archive', path } };
  if (!npmOnly && PYTHON_ARCHIVE.test(path)) return { ecosystem: 'python', display: path, local: { kind: 'archive', path } };
  throw new UsageError(
    npmOnly
      ? `${setting} names the file ${path}; only a .tgz made by \`npm pack\` is accepted`
      : `${setting} names the file ${path}; accepted are an npm .tgz, a Python wheel (.whl) or sdist (.tar.gz, .zip)`,
  );
}

/**
 * MCP_SERVER (or NPM_MCP) into a ServerSource. Throws UsageError naming the
 * setting and the fix. `raw` holds the env file's values as written.
 */
export function resolveServer(raw: Readonly<Record<string, string | undefined>>, baseDir: string, homeDir: string): ServerSource {
  const server = raw.MCP_SERVER;
  const npm = raw.NPM_MCP;
  if (server !== undefined && server !== '' && npm !== undefined) {
    throw new UsageError('Both MCP_SERVER and NPM_MCP are set: keep MCP_SERVER (NPM_MCP=x is the older way to write MCP_SERVER=npm:x) and remove NPM_MCP');
  }
  if (npm !== undefined) {
    if (npm === '') throw new UsageError(`NPM_MCP is empty: name an npm package (e.g. ${DEFAULT_MCP_SERVER.slice(4)}), a local folder or a .tgz, or remove it`);
    return fromValue('NPM_MCP', npm.startsWith('npm:') ? npm : `npm:${npm}`, baseDir, homeDir);
  }
  return fromValue('MCP_SERVER', server || DEFAULT_MCP_SERVER, baseDir, homeDir);
}

function fromValue(setting: string, value: string, baseDir: string, homeDir: string): ServerSource {
  const { scheme, rest, local } = splitValue(value);
  const unsafe = rules.unsafeProblem(value, setting);
  if (unsafe) throw new UsageError(unsafe);
  if (local) {
    const source = localSource(setting, rest, baseDir, homeDir, scheme);
    if (scheme === 'pypi' && source.ecosystem !== 'python') {
      throw new UsageError(`${setting}=${value}: ${source.local!.path} is not a Python package (pyproject.toml, setup.py, .whl, .tar.gz or .zip)`);
    }
    return source;
  }
  const message = rules.serverSpecProblem(value);
  if (message) throw new UsageError(message.replace(/^MCP_SERVER/, setting));
  return { ecosystem: scheme === 'pypi' ? 'python' : 'npm', display: value, spec: rest };
}

/** The server's default arguments: the default filesystem server serves /workspace; any other gets none. */
export function defaultServerArgs(source: ServerSource): string {
  return source.ecosystem === 'npm' && source.spec?.startsWith('@modelcontextprotocol/server-filesystem') ? '/workspace' : '';
}
