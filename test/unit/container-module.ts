/**
 * Loads the container's plain ES modules (the session gateway's src, the
 * runtime's js/, the build steps) as the image runs them, for the unit tests
 * beside this file, and the tiny stdio MCP server they start.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const commonDir = join(repoRoot, 'docker', 'common');

/** A module of docker/common, by its path there ('session-gateway/src/config.mjs'). */
export const containerModule = async (path: string) => (await import(pathToFileURL(join(commonDir, path)).href)) as Record<string, any>;

export const gatewayModule = (file: string) => containerModule(`session-gateway/src/${file}`);

/** A stdio MCP server with one tool (echo): initialize, tools/list, tools/call. */
export const BENIGN_SERVER = join(repoRoot, 'test', 'fixtures', 'benign-server', 'index.js');

/** A log that keeps its lines, for assertions. */
export function recordingLog() {
  const lines: string[] = [];
  const keep = (prefix: string) => (line: string) => void lines.push(`${prefix}${line}`);
  return {
    lines,
    info: keep('info: '),
    debug: keep('debug: '),
    error: keep('error: '),
    serverLine: (session: string, line: string) => lines.push(`server ${session}: ${line}`),
  };
}

/** Waits until `check` returns true, polling every 20 ms, or throws after `ms`. */
export async function eventually(check: () => boolean, ms = 5000, what = 'the condition') {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
