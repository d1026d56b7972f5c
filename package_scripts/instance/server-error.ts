import { showLogsArgs } from '../docker/argv.js';
import type { DockerEngine } from '../docker/engine.js';

/**
 * A server that fails at start prints its error line first and a stack after
 * it: Node's `Error: Cannot find module 'x'` comes a dozen lines before
 * `code: 'MODULE_NOT_FOUND'`, and the session gateway reports the last ten.
 * When those hold no error line, the one the server printed is found in the
 * container's log (the gateway writes the server's stderr there as
 * `[mcp-server SESSION] LINE`) and put first, so the excerpt says what failed.
 */

/** Node's `Error: ...`, `TypeError [ERR_X]: ...`, `Uncaught ...`, Python's last `ModuleNotFoundError: ...`. */
const ERROR_LINE = /^(?:Uncaught )?(?:[A-Za-z_][\w.]*)?(?:Error|Exception)(?: \[[A-Z0-9_]+\])?: \S/;
const SERVER_LINE = /^\[mcp-server [^\]]+\](?: (.*))?$/;

/** The last line that says what went wrong, if any. */
export function errorLine(lines: readonly string[]): string | undefined {
  return [...lines]
    .reverse()
    .find((line) => ERROR_LINE.test(line.trim()))
    ?.trim();
}

/** The server's own lines in the container's log, without the gateway's prefix. */
export function serverLinesOfLog(log: string): string[] {
  return log.split('\n').flatMap((line) => {
    const match = SERVER_LINE.exec(line.trimEnd());
    return match ? [match[1] ?? ''] : [];
  });
}

/** The excerpt with the error line first when its tail lacks one and the earlier lines hold it. */
export function withErrorLine(serverLines: readonly string[], earlier: readonly string[]): string[] {
  if (errorLine(serverLines)) return [...serverLines];
  const found = errorLine(earlier);
  return found ? [found, '...', ...serverLines] : [...serverLines];
}

/** withErrorLine, reading the container's recent log. */
export async function explainServerFailure(docker: DockerEngine, container: string, serverLines: readonly string[]): Promise<string[]> {
  if (serverLines.length === 0 || errorLine(serverLines)) return [...serverLines];
  const logs = await docker.run(showLogsArgs(container, { follow: false, tail: 300 }), { allowFailure: true });
  return withErrorLine(serverLines, serverLinesOfLog(`${logs.stdout}\n${logs.stderr}`));
}
