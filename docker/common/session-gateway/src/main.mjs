// @ts-check
// mcp-sandbox's session gateway: a stdio MCP server behind Streamable HTTP on
// 127.0.0.1:8000, one server process per session, as Supergateway's stateful
// mode did, plus what it lacked (see docs/GUIDE.md, "Sessions"):
//   - a limit on live sessions (MCP_MAX_SESSIONS); at the limit the oldest idle
//     session is reclaimed, and when none is idle the client gets 503 with a
//     JSON-RPC error instead of a failed spawn;
//   - an idle timeout (MCP_SESSION_IDLE, seconds) for sessions whose client
//     has no request open: no POST in flight and no GET stream;
//   - servers started without a shell, in their own process group; every
//     process a server started ends with its session, setsid() or not
//     (process-tree.mjs);
//   - health that means "a new client would be served" (/healthz);
//   - one log line per session event, never per message (LOG_LEVEL=debug adds them).
// This file only starts it (the bundle's entry, loaded by entry.mjs after it
// checked that it runs as "warden"): config.mjs reads the settings, sessions.mjs holds the
// sessions, http-server.mjs answers HTTP, self-check.mjs makes the first round trip.
import { createAudit } from './audit.mjs';
import { ConfigError, readConfig } from './config.mjs';
import { serverLaunch } from './privileges.mjs';
import { createHttpServer } from './http-server.mjs';
import { createLog } from './log.mjs';
import { createPins } from './pins.mjs';
import { SELF_CHECK_DELAY_MS, selfCheck } from './self-check.mjs';
import { INITIALIZE_DEADLINE_MS, createSessions } from './sessions.mjs';

let config;
try {
  config = readConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`[gateway] error: ${error.message}`);
  process.exit(78);
}
const { port, maxSessions, idleMs, level, command, args, serverEnv, tools } = config;
const log = createLog(level);
const audit = createAudit(config.audit, { log });
// Each server starts as "mcp" with no capability (privileges.mjs says why this process holds two).
const { prefix, uid, gid } = serverLaunch();
const [launchCommand = command, ...launchArgs] = [...prefix, command, ...args];
// Tool definitions pinned in the warden's folder (pins.mjs), out of the servers' reach.
const pins = createPins({ log });
const sessions = createSessions({
  maxSessions,
  idleMs,
  launch: { command: launchCommand, args: launchArgs, env: serverEnv, uid, gid },
  tools,
  pins,
  log,
  audit,
});
const server = createHttpServer({ sessions, log });
sessions.startHousekeeping();

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  sessions.closeAll();
  server.close();
  setTimeout(() => process.exit(0), 3500).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.listen(port, '127.0.0.1', () => {
  log.info(`Listening on port ${port} (127.0.0.1): ${command} with ${args.length} argument(s), at most ${maxSessions} sessions, idle after ${idleMs / 1000} s`);
  setTimeout(() => void selfCheck({ sessions, url: `http://127.0.0.1:${port}/mcp`, log, timeoutMs: INITIALIZE_DEADLINE_MS }), SELF_CHECK_DELAY_MS);
});
