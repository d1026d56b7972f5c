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
// The HTTP side (sessions, SSE streams, DELETE, 404, MCP-Protocol-Version) is
// the MCP SDK's own StreamableHTTPServerTransport, pinned by package-lock.json.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { describeTools, probe } from '../../runtime/js/mcp-probe.mjs';
import { expiredSessions, healthOf, makeRoom } from './pool.mjs';
import { serverLauncher } from './drop-privileges.mjs';
import { killNoted, readProcessTable, strays, treeOf } from './process-tree.mjs';
import { startServer } from './server-process.mjs';
import { splitWords } from './words.mjs';

const env = process.env;
const fail = (message) => {
  console.error(`[gateway] error: ${message}`);
  process.exit(78);
};
const wholeNumber = (name, fallback, min) => {
  const raw = env[name] || String(fallback);
  if (!/^\d+$/.test(raw) || Number(raw) < min) fail(`${name} must be a whole number of at least ${min} (got '${raw}')`);
  return Number(raw);
};

const PORT = wholeNumber('GATEWAY_PORT', 8000, 1);
const MAX_SESSIONS = wholeNumber('MCP_MAX_SESSIONS', 16, 1);
const IDLE_MS = wholeNumber('MCP_SESSION_IDLE', 300, 1) * 1000;
const LEVEL = env.LOG_LEVEL || 'info';
if (!['info', 'debug', 'none'].includes(LEVEL)) fail(`LOG_LEVEL '${LEVEL}' is not info, debug or none`);
const COMMAND = env.MCP_SERVER_COMMAND || '/usr/local/bin/mcp-server';
let ARGS;
try {
  ARGS = splitWords(env.NPM_MCP_ARGS ?? '');
} catch (error) {
  fail(error.message);
}
// Each server starts with no inheritable capability (drop-privileges.mjs says why this process holds two).
const [LAUNCH_COMMAND, ...LAUNCH_ARGS] = [...serverLauncher(), COMMAND, ...ARGS];
const MAX_BODY = 16 * 2 ** 20;
// A server that has not answered initialize after this long is reported as failing.
const INITIALIZE_DEADLINE_MS = 60_000;

// The server sees only what the entrypoint let through (PATH, HOME, MCP_ENV),
// minus the gateway's own settings.
const serverEnv = { ...env };
for (const name of ['GATEWAY_PORT', 'MCP_MAX_SESSIONS', 'MCP_SESSION_IDLE', 'LOG_LEVEL', 'MCP_SERVER_COMMAND', 'NPM_MCP_ARGS']) delete serverEnv[name];

const info = LEVEL === 'none' ? () => {} : (line) => process.stdout.write(`[gateway] ${line}\n`);
const debug = LEVEL === 'debug' ? info : () => {};
const error = LEVEL === 'none' ? () => {} : (line) => process.stderr.write(`[gateway] ${line}\n`);

/** @type {Map<string, any>} */
const sessions = new Map();
let selfCheckDone = false;
/** The last server start: did it answer initialize? */
let lastStart;
let closing = false;

const short = (id) => id.slice(0, 8);

// --- a session's processes, by pid (process-tree.mjs says why not by group) ---
const SWEEP_MS = 2000;
const OWN_UID = process.getuid?.() ?? -1;

/** Note every process now in the trees of these sessions' servers ("pid:start"), and forget the ones gone. */
function noteTrees(table, list) {
  for (const session of list) {
    for (const key of session.noted) {
      const [pid, start] = key.split(':');
      if (table.get(Number(pid))?.start !== start) session.noted.delete(key);
    }
    if (session.server.pid !== undefined) for (const key of treeOf(table, session.server.pid)) session.noted.add(key);
  }
}

/** End what no live session owns: processes of this user reparented to PID 1 that no session noted. */
function sweepStrays() {
  let table;
  try {
    table = readProcessTable();
  } catch (e) {
    debug(`process sweep: ${e.message}`);
    return;
  }
  noteTrees(table, sessions.values());
  const noted = new Set([...sessions.values()].flatMap((s) => [...s.noted]));
  const killed = killNoted(strays(table, { uid: OWN_UID, self: process.pid, noted }));
  if (killed > 0) info(`ended ${killed} process(es) that no live session owns`);
}

function jsonError(res, status, code, message, id = null, headers = {}) {
  if (res.headersSent) return res.end();
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id }));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** An HTTP request of this session's client is open until its response closes. */
function track(session, res) {
  session.open++;
  session.lastActive = Date.now();
  res.once('close', () => {
    session.open--;
    session.lastActive = Date.now();
  });
}

function endSession(session, reason) {
  if (session.closed) return;
  session.closed = true;
  clearTimeout(session.initializeTimer);
  sessions.delete(session.id);
  // Everything in its server's tree now, setsid() or not, ends with it.
  try {
    noteTrees(readProcessTable(), [session]);
  } catch (e) {
    debug(`session ${short(session.id)}: process table: ${e.message}`);
  }
  void session.server.stop().then(() => {
    const killed = killNoted(session.noted);
    if (killed > 0) info(`session ${short(session.id)}: ended ${killed} process(es) its server left running`);
  });
  void session.transport.close().catch(() => undefined);
  info(`session ${short(session.id)} ended: ${reason} (${sessions.size} of ${MAX_SESSIONS} sessions live)`);
}

/** Server to client: responses by their id; everything else beside the request it most likely belongs to. */
function toClient(session, message) {
  debug(`server -> client ${short(session.id)}: ${JSON.stringify(message)}`);
  const isResponse = 'id' in message && !('method' in message);
  if (isResponse) {
    if (message.id === session.initializeId && !session.answeredInitialize) {
      session.answeredInitialize = true;
      clearTimeout(session.initializeTimer);
      lastStart = { ok: true, at: Date.now() };
      selfCheckDone = true;
    }
    session.pending.delete(message.id);
    for (const [token, id] of session.progress) if (id === message.id) session.progress.delete(token);
    session.transport.send(message).catch((e) => debug(`undeliverable response (${e.message})`));
    return;
  }
  // Progress names its request through the token; anything else a server
  // sends while requests are open rides the oldest one's stream (a client
  // without a GET stream would otherwise never see it), else the GET stream.
  let related = message.method === 'notifications/progress' ? session.progress.get(message.params?.progressToken) : undefined;
  if (related === undefined && session.pending.size > 0) related = session.pending.keys().next().value;
  session.transport
    .send(message, related === undefined ? undefined : { relatedRequestId: related })
    .catch((e) => debug(`undeliverable message (${e.message})`));
}

function serverExited(session, code, signal, spawnError) {
  if (session.closed) return;
  const stderr = session.server.stderrTail();
  const how = spawnError ? `could not start (${spawnError.message})` : `exited (${signal ? `signal ${signal}` : `code ${code}`})`;
  const reason = `the MCP server ${how}${session.answeredInitialize ? '' : ' before it answered initialize'}`;
  error(`session ${short(session.id)}: ${reason}`);
  if (!session.answeredInitialize) {
    lastStart = { ok: false, at: Date.now(), error: reason, stderr: stderr.slice(-10) };
    selfCheckDone = true;
  }
  const lastLine = stderr.at(-1);
  const replies = [...session.pending.keys()].map((id) =>
    session.transport
      .send({
        jsonrpc: '2.0',
        id,
        error: { code: -32603, message: `MCP server process failed: ${reason}${lastLine ? `: ${lastLine}` : ''}`, data: { stderr: stderr.slice(-10) } },
      })
      .catch(() => undefined),
  );
  session.pending.clear();
  void Promise.all(replies).finally(() => endSession(session, reason));
}

async function openSession(req, res, body) {
  const room = makeRoom(sessions.values(), MAX_SESSIONS);
  if (room.full) {
    error(`refused a new session: all ${MAX_SESSIONS} sessions (MCP_MAX_SESSIONS) are in use`);
    return jsonError(
      res,
      503,
      -32000,
      `Session limit reached: all ${MAX_SESSIONS} sessions (MCP_MAX_SESSIONS) of this server are in use. Retry later, or end unused sessions (HTTP DELETE)`,
      body.id ?? null,
      { 'Retry-After': '5' },
    );
  }
  if (room.victim)
    endSession(
      room.victim,
      `reclaimed: idle for ${Math.round((Date.now() - room.victim.lastActive) / 1000)} s and the session limit (${MAX_SESSIONS}) was reached`,
    );

  const id = randomUUID();
  const session = {
    id,
    open: 0,
    lastActive: Date.now(),
    closed: false,
    pending: new Map(),
    progress: new Map(),
    /** @type {Set<string>} every process seen in its server's tree, "pid:start" */
    noted: new Set(),
    initializeId: body.id,
    answeredInitialize: false,
  };
  session.transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => id,
    onsessionclosed: () => endSession(session, 'the client ended it (DELETE)'),
  });
  session.transport.onmessage = (message) => {
    debug(`client ${short(id)} -> server: ${JSON.stringify(message)}`);
    if ('method' in message && 'id' in message) {
      session.pending.set(message.id, true);
      const token = message.params?._meta?.progressToken;
      if (token !== undefined) session.progress.set(token, message.id);
    }
    session.server.send(message);
  };
  session.transport.onclose = () => endSession(session, 'its transport closed');
  session.transport.onerror = (e) => debug(`session ${short(id)}: ${e.message}`);
  session.server = startServer({
    command: LAUNCH_COMMAND,
    args: LAUNCH_ARGS,
    env: serverEnv,
    onMessage: (message) => toClient(session, message),
    onNonJson: (line) => error(`session ${short(id)}: the server wrote a line that is not JSON-RPC to stdout (${line.length} characters, dropped)`),
    onStderrLine: LEVEL === 'none' ? () => {} : (line) => process.stderr.write(`[mcp-server ${short(id)}] ${line}\n`),
    onExit: (code, signal, spawnError) => serverExited(session, code, signal, spawnError),
  });
  session.initializeTimer = setTimeout(() => {
    if (!session.answeredInitialize && !session.closed) {
      lastStart = {
        ok: false,
        at: Date.now(),
        error: `the MCP server did not answer initialize within ${INITIALIZE_DEADLINE_MS / 1000} s`,
        stderr: session.server.stderrTail().slice(-10),
      };
      selfCheckDone = true;
    }
  }, INITIALIZE_DEADLINE_MS);
  session.initializeTimer.unref();
  sessions.set(id, session);
  info(`session ${short(id)} opened: server pid ${session.server.pid} (${sessions.size} of ${MAX_SESSIONS} sessions live)`);
  track(session, res);
  await session.transport.handleRequest(req, res, body);
}

function health(res) {
  const state = healthOf({ sessions: sessions.values(), max: MAX_SESSIONS, selfCheckDone, lastStart });
  res.writeHead(state.ok ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end([state.text, ...(state.lines ?? []).map((l) => `server: ${l}`)].join('\n') + '\n');
}

async function handle(req, res) {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz' && req.method === 'GET') return health(res);
  if (path !== '/mcp') return jsonError(res, 404, -32000, 'Not found: the MCP endpoint is /mcp');
  if (closing) return jsonError(res, 503, -32000, 'The gateway is shutting down');

  const sessionId = req.headers['mcp-session-id'];
  let body;
  if (req.method === 'POST') {
    let text;
    try {
      text = await readBody(req);
    } catch (e) {
      return jsonError(res, e.status ?? 400, -32000, e.status === 413 ? 'Request body too large' : 'Could not read the request body');
    }
    try {
      body = JSON.parse(text);
    } catch {
      return jsonError(res, 400, -32700, 'Parse error: the body is not JSON');
    }
    if (!sessionId) {
      if (body && !Array.isArray(body) && body.method === 'initialize') return openSession(req, res, body);
      return jsonError(res, 400, -32000, 'Bad Request: No valid session ID provided', body?.id ?? null);
    }
  } else if (!sessionId) {
    if (req.method === 'GET' || req.method === 'DELETE') return jsonError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    return jsonError(res, 405, -32000, 'Method not allowed', null, { Allow: 'GET, POST, DELETE' });
  }
  const session = sessions.get(String(sessionId));
  // A session that ended (DELETE, idle, reclaimed, server exit) or never was:
  // 404 is what tells a client to start a new one.
  if (!session) return jsonError(res, 404, -32001, 'Session not found', body?.id ?? null);
  track(session, res);
  await session.transport.handleRequest(req, res, body);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    error(`request failed: ${e.message}`);
    jsonError(res, 500, -32603, 'Internal gateway error');
  });
});
// nginx keeps upstream connections open for reuse; closing them first would race its next request.
server.keepAliveTimeout = 75_000;
server.headersTimeout = 76_000;
server.requestTimeout = 0;

setInterval(
  () => {
    for (const session of expiredSessions(sessions.values(), Date.now(), IDLE_MS)) {
      endSession(session, `idle: no request for ${Math.round(IDLE_MS / 1000)} s (MCP_SESSION_IDLE)`);
    }
  },
  Math.min(Math.max(IDLE_MS / 4, 250), 15_000),
).unref();
// Never as root: every process of root's reparented to PID 1 would look like a stray.
if (OWN_UID !== 0) setInterval(sweepStrays, SWEEP_MS).unref();

function shutdown() {
  if (closing) return;
  closing = true;
  for (const session of [...sessions.values()]) endSession(session, 'the gateway is stopping');
  server.close();
  setTimeout(() => process.exit(0), 3500).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

// One self-check after start, so that health reflects the server before any
// client comes: the same round trip as `npm run start -d`. It waits a moment
// and is skipped when a client's session already showed whether the server
// starts (a first client then never shares the CPU with a second server
// start). Never repeated on a timer: later health comes from real sessions.
const SELF_CHECK_DELAY_MS = 1000;
async function selfCheck() {
  if (lastStart) {
    selfCheckDone = true;
    return;
  }
  // A client's server is starting: its outcome will tell.
  if (sessions.size > 0) {
    setTimeout(() => void selfCheck(), 500).unref();
    return;
  }
  try {
    const result = await probe({ url: `http://127.0.0.1:${PORT}/mcp`, timeoutMs: INITIALIZE_DEADLINE_MS });
    info(
      `self-check: the MCP server answered (${result.serverName ?? 'unnamed'}, protocol ${result.protocolVersion}, ${describeTools(result)}) in ${result.ms} ms`,
    );
  } catch (e) {
    error(`self-check failed: ${e.message}`);
    if (!lastStart || lastStart.ok) lastStart = { ok: false, at: Date.now(), error: e.message, stderr: e.serverLines ?? [] };
  }
  selfCheckDone = true;
}

server.listen(PORT, '127.0.0.1', () => {
  info(`Listening on port ${PORT} (127.0.0.1): ${COMMAND} with ${ARGS.length} argument(s), at most ${MAX_SESSIONS} sessions, idle after ${IDLE_MS / 1000} s`);
  setTimeout(() => void selfCheck(), SELF_CHECK_DELAY_MS);
});
