import { copyFileSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { UsageError } from '../errors.js';
import type { Settings } from '../settings/load.js';

/**
 * A throw-away build context with the repository's layout but only what the
 * image needs: the Dockerfile, docker/, build-extra/ with the optional CA bundle and the
 * optional local MCP server packed as a .tgz. .env never gets in.
 */
export interface StagedContext {
  dir: string;
  /** NPM_MCP as the Dockerfile sees it. */
  serverSpec: string;
  dispose(): void;
}

export async function stageBuildContext(settings: Settings, projectDir: string): Promise<StagedContext> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-sandbox-build-'));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    copyFileSync(join(projectDir, 'Dockerfile'), join(dir, 'Dockerfile'));
    // A node_modules left by a local `npm install` in docker/ must not replace the lockfile's packages.
    cpSync(join(projectDir, 'docker'), join(dir, 'docker'), { recursive: true, filter: (source) => basename(source) !== 'node_modules' });
    cpSync(join(projectDir, 'build-extra'), join(dir, 'build-extra'), { recursive: true });
    if (settings.extraCaCert) copyFileSync(settings.extraCaCert, join(dir, 'build-extra', 'ca', 'extra-ca.crt'));

    let serverSpec = settings.NPM_MCP;
    const serverDir = join(dir, 'build-extra', 'server');
    if (settings.localServer?.kind === 'tarball') {
      copyFileSync(settings.localServer.path, join(serverDir, basename(settings.localServer.path)));
      serverSpec = `./${basename(settings.localServer.path)}`;
    } else if (settings.localServer?.kind === 'directory') {
      // --ignore-scripts: a local package's prepack/prepare scripts are as untrusted as its
      // install scripts, and here they would run on this machine, as you.
      const packed = await execa('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', serverDir, settings.localServer.path], {
        reject: false,
      });
      const tarball = readdirSync(serverDir).find((f) => f.endsWith('.tgz'));
      if (packed.exitCode !== 0 || !tarball) {
        throw new UsageError(`NPM_MCP: \`npm pack ${settings.localServer.path}\` failed: ${packed.stderr || packed.stdout}`);
      }
      serverSpec = `./${tarball}`;
    }
    return { dir, serverSpec, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}
