// @ts-check
// One self-check after start, so that health reflects the server before any
// client comes: the same round trip as `npm run start -d`
// (docker/common/runtime/js/mcp-probe.mjs). It waits a moment and is skipped
// when a client's session already showed whether the server starts (a first
// client then never shares the CPU with a second server start). Never repeated
// on a timer: later health comes from real sessions.
import { describeTools, probe } from '../../runtime/js/mcp-probe.mjs';

export const SELF_CHECK_DELAY_MS = 1000;
const BUSY_RETRY_MS = 500;

/**
 * @param {{ sessions: import('./sessions.mjs').Sessions, url: string, log: import('./log.mjs').GatewayLog, timeoutMs: number,
 *   probeOnce?: typeof probe }} options
 */
export async function selfCheck({ sessions, url, log, timeoutMs, probeOnce = probe }) {
  if (sessions.lastStart) {
    sessions.selfChecked();
    return;
  }
  // A client's server is starting: its outcome will tell.
  if (sessions.size > 0) {
    setTimeout(() => void selfCheck({ sessions, url, log, timeoutMs, probeOnce }), BUSY_RETRY_MS).unref();
    return;
  }
  try {
    const result = await probeOnce({ url, timeoutMs });
    log.info(
      `self-check: the MCP server answered (${result.serverName ?? 'unnamed'}, protocol ${result.protocolVersion}, ${describeTools(result)}) in ${result.ms} ms`,
    );
    sessions.selfChecked();
  } catch (e) {
    const error = /** @type {{ message: string, serverLines?: string[] }} */ (e);
    log.error(`self-check failed: ${error.message}`);
    sessions.selfChecked({ ok: false, at: Date.now(), error: error.message, stderr: error.serverLines ?? [] });
  }
}
