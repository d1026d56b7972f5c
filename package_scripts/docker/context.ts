import { copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Settings } from '../settings/load.js';
import { packNpmFolder } from './pack-npm-folder.js';

/**
 * A throw-away build context with the repository's layout but only what the
 * image needs: the Dockerfile, docker/, build-extra/ with the optional CA bundle and the
 * optional local MCP server (an npm folder packed as a .tgz, a Python folder
 * copied without caches, virtual environments or .env files). .env never gets in.
 */
export interface StagedContext {
  dir: string;
  /** MCP_SERVER as the Dockerfile sees it: npm:SPEC, pypi:REQUIREMENT, or a scheme and ./NAME in build-extra/server/. */
  serverSpec: string;
  dispose(): void;
}

/** What a Python folder's copy leaves out: never secrets, never a local environment or build output. */
const PYTHON_FOLDER_SKIP =
  /^(\.git|\.hg|\.venv|venv|env|node_modules|__pycache__|\.tox|\.nox|\.mypy_cache|\.pytest_cache|\.ruff_cache|build|dist|.*\.egg-info|\.env.*)$/;

export async function stageBuildContext(settings: Settings, projectDir: string): Promise<StagedContext> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-sandbox-build-'));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    copyFileSync(join(projectDir, 'Dockerfile'), join(dir, 'Dockerfile'));
    // A node_modules left by a local `npm install` in docker/ must not replace the lockfile's packages.
    cpSync(join(projectDir, 'docker'), join(dir, 'docker'), { recursive: true, filter: (source) => basename(source) !== 'node_modules' });
    cpSync(join(projectDir, 'build-extra'), join(dir, 'build-extra'), { recursive: true });
    if (settings.extraCaCert) copyFileSync(settings.extraCaCert, join(dir, 'build-extra', 'ca', 'extra-ca.crt'));
    return { dir, serverSpec: await stageServer(settings, join(dir, 'build-extra', 'server')), dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

async function stageServer(settings: Settings, serverDir: string): Promise<string> {
  const { server } = settings;
  const scheme = server.ecosystem === 'npm' ? 'npm' : 'pypi';
  if (!server.local) return `${scheme}:${server.spec}`;
  const { kind, path } = server.local;
  if (kind === 'archive') {
    copyFileSync(path, join(serverDir, basename(path)));
    return `${scheme}:./${basename(path)}`;
  }
  if (server.ecosystem === 'python') {
    cpSync(path, join(serverDir, 'src'), { recursive: true, filter: (source) => source === path || !PYTHON_FOLDER_SKIP.test(basename(source)) });
    return 'pypi:./src';
  }
  return `npm:./${await packNpmFolder(path, serverDir)}`;
}
