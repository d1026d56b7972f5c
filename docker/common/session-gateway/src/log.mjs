// @ts-check
// The session gateway's log: one line per session event, never per message
// (LOG_LEVEL=debug adds them); LOG_LEVEL=none writes nothing, the servers'
// stderr included.

/**
 * @typedef {(line: string) => void} LineWriter
 * @typedef {{ info: LineWriter, debug: LineWriter, error: LineWriter, serverLine: (session: string, line: string) => void }} GatewayLog
 */

/**
 * @param {import('./config.mjs').LogLevel} level
 * @param {{ stdout: { write: (text: string) => unknown }, stderr: { write: (text: string) => unknown } }} [streams]
 * @returns {GatewayLog}
 */
export function createLog(level, streams = process) {
  const quiet = () => {};
  /** @type {LineWriter} */
  const info = level === 'none' ? quiet : (line) => void streams.stdout.write(`[gateway] ${line}\n`);
  return {
    info,
    debug: level === 'debug' ? info : quiet,
    error: level === 'none' ? quiet : (line) => void streams.stderr.write(`[gateway] ${line}\n`),
    serverLine: level === 'none' ? quiet : (session, line) => void streams.stderr.write(`[mcp-server ${session}] ${line}\n`),
  };
}
