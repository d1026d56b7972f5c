// @ts-check
// The session gateway's sessions: one MCP server process per session, a limit
// on live sessions (at the limit the oldest idle one is reclaimed), an idle
// timeout, every process a server started ended with its session
// (process-tree.mjs), and what health reports. The HTTP side of a session is
// the MCP SDK's StreamableHTTPServerTransport; http-server.mjs routes to it.
import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { expiredSessions, healthOf, makeRoom } from './pool.mjs';
import { killNoted, readProcessTable, strays, treeOf } from './process-tree.mjs';
import { startServer } from './server-process.mjs';
import { toolFilter, toolPolicy } from './tool-policy.mjs';

/** A server that has not answered initialize after this long is reported as failing. */
export const INITIALIZE_DEADLINE_MS = 60_000;
const SWEEP_MS = 2000;

/**
 * @typedef {import('@modelcontextprotocol/sdk/types.js').JSONRPCMessage} JSONRPCMessage
 * @typedef {string | number} RequestId
 * @typedef {{ ok: boolean, at: number, error?: string, stderr?: string[] }} StartOutcome
 * @typedef {{
 *   id: string,
 *   open: number,
 *   lastActive: number,
 *   closed: boolean,
 *   pending: Map<RequestId, true>,
 *   progress: Map<string | number, RequestId>,
 *   noted: Set<string>,
 *   initializeId: RequestId | undefined,
 *   answeredInitialize: boolean,
 *   initializeTimer?: NodeJS.Timeout,
 *   transport: StreamableHTTPServerTransport,
 *   server: import('./server-process.mjs').ServerProcess,
 *   tools: ReturnType<typeof toolFilter>,
 * }} Session
 * @typedef {{ command: string, args: string[], env: NodeJS.ProcessEnv, uid?: number, gid?: number }} Launch
 */

/** @param {string} id */
const short = (id) => id.slice(0, 8);

/**
 * The live sessions and the state health is made of.
 * @param {{ maxSessions: number, idleMs: number, launch: Launch, log: import('./log.mjs').GatewayLog,
 *   initializeDeadlineMs?: number, serverUid?: number, tools?: import('./tool-policy.mjs').ToolLists,
 *   pins?: import('./pins.mjs').Pins,
 *   audit?: Pick<import('./audit.mjs').Audit, 'fromClient' | 'fromServer' | 'refused' | 'sessionEnded'> }} options
 */
export function createSessions({
  maxSessions,
  idleMs,
  launch,
  log,
  initializeDeadlineMs = INITIALIZE_DEADLINE_MS,
  tools = { allow: [], deny: [] },
  pins,
  audit = NO_AUDIT,
  serverUid = launch.uid ?? process.getuid?.() ?? -1,
}) {
  /** @type {Map<string, Session>} */
  const sessions = new Map();
  let selfCheckDone = false;
  /** The last server start: did it answer initialize? @type {StartOutcome | undefined} */
  let lastStart;
  let closing = false;
  const policy = toolPolicy(tools);
  /** Policy entries already warned about as matching no tool. @type {Set<string>} */
  const warnedUnmatched = new Set();

  /** A complete listing came back: warn once about each entry that matches none of its tools. @param {string[]} names */
  function checkUnmatched(names) {
    const fresh = policy.unmatched(names).filter((entry) => !warnedUnmatched.has(entry));
    for (const entry of fresh) warnedUnmatched.add(entry);
    if (fresh.length > 0)
      log.error(`warning: ${fresh.join(', ')} match${fresh.length === 1 ? 'es' : ''} no tool of this server (its tools: ${names.join(', ') || 'none'})`);
  }

  /**
   * Note every process now in the trees of these sessions' servers ("pid:start"), and forget the ones gone.
   * @param {Map<number, import('./process-tree.mjs').ProcessEntry>} table
   * @param {Iterable<Session>} list
   */
  function noteTrees(table, list) {
    for (const session of list) {
      for (const key of session.noted) {
        const [pid, start] = key.split(':');
        if (table.get(Number(pid))?.start !== start) session.noted.delete(key);
      }
      if (session.server.pid !== undefined) for (const key of treeOf(table, session.server.pid)) session.noted.add(key);
    }
  }

  /** End what no live session owns: processes of the servers' user reparented to PID 1 that no session noted. */
  function sweepStrays() {
    let table;
    try {
      table = readProcessTable();
    } catch (e) {
      log.debug(`process sweep: ${messageOf(e)}`);
      return;
    }
    noteTrees(table, sessions.values());
    const noted = new Set([...sessions.values()].flatMap((s) => [...s.noted]));
    const killed = killNoted(strays(table, { uid: serverUid, self: process.pid, noted }));
    if (killed > 0) log.info(`ended ${killed} process(es) that no live session owns`);
  }

  /** An HTTP request of this session's client is open until its response closes.
   * @param {Session} session @param {import('node:http').ServerResponse} res */
  function track(session, res) {
    session.open++;
    session.lastActive = Date.now();
    res.once('close', () => {
      session.open--;
      session.lastActive = Date.now();
    });
  }

  /** @param {Session} session @param {string} reason */
  function endSession(session, reason) {
    if (session.closed) return;
    session.closed = true;
    clearTimeout(session.initializeTimer);
    sessions.delete(session.id);
    // Everything in its server's tree now, setsid() or not, ends with it.
    try {
      noteTrees(readProcessTable(), [session]);
    } catch (e) {
      log.debug(`session ${short(session.id)}: process table: ${messageOf(e)}`);
    }
    void session.server.stop().then(() => {
      const killed = killNoted(session.noted);
      if (killed > 0) log.info(`session ${short(session.id)}: ended ${killed} process(es) its server left running`);
    });
    void session.transport.close().catch(() => undefined);
    audit.sessionEnded(session.id, reason);
    log.info(`session ${short(session.id)} ended: ${reason} (${sessions.size} of ${maxSessions} sessions live)`);
  }

  /**
   * Server to client: responses by their id; everything else beside the request it most likely belongs to.
   * @param {Session} session
   * @param {any} raw a JSON-RPC message as the server wrote it
   */
  function toClient(session, raw) {
    log.debug(`server -> client ${short(session.id)}: ${JSON.stringify(raw)}`);
    const { message, listed } = session.tools.fromServer(raw);
    if (listed) checkUnmatched(listed);
    const isResponse = 'id' in message && !('method' in message);
    if (isResponse) {
      audit.fromServer(session.id, message);
      if (message.id === session.initializeId && !session.answeredInitialize) {
        session.answeredInitialize = true;
        clearTimeout(session.initializeTimer);
        lastStart = { ok: true, at: Date.now() };
        selfCheckDone = true;
      }
      session.pending.delete(message.id);
      for (const [token, id] of session.progress) if (id === message.id) session.progress.delete(token);
      session.transport.send(message).catch((e) => log.debug(`undeliverable response (${messageOf(e)})`));
      return;
    }
    // Progress names its request through the token; anything else a server
    // sends while requests are open rides the oldest one's stream (a client
    // without a GET stream would otherwise never see it), else the GET stream.
    let related = message.method === 'notifications/progress' ? session.progress.get(message.params?.progressToken) : undefined;
    if (related === undefined && session.pending.size > 0) related = session.pending.keys().next().value;
    session.transport
      .send(message, related === undefined ? undefined : { relatedRequestId: related })
      .catch((e) => log.debug(`undeliverable message (${messageOf(e)})`));
  }

  /**
   * A request the gateway answers itself (the tool policy's refusal, whatever
   * refuses next): the error goes to the client, the reason to the log and the
   * audit trail, nothing to the server.
   * @param {Session} session @param {any} message @param {object} answer the JSON-RPC error response @param {string} reason
   */
  function refuse(session, message, answer, reason) {
    log.info(`session ${short(session.id)}: refused a call of '${String(message.params?.name)}' (${reason})`);
    audit.refused(session.id, message, reason);
    session.transport.send(/** @type {JSONRPCMessage} */ (answer)).catch((e) => log.debug(`undeliverable refusal (${messageOf(e)})`));
  }

  /**
   * @param {Session} session
   * @param {number | null} code
   * @param {string | null} signal
   * @param {Error} [spawnError]
   */
  function serverExited(session, code, signal, spawnError) {
    if (session.closed) return;
    const stderr = session.server.stderrTail();
    const how = spawnError ? `could not start (${spawnError.message})` : `exited (${signal ? `signal ${signal}` : `code ${code}`})`;
    const reason = `the MCP server ${how}${session.answeredInitialize ? '' : ' before it answered initialize'}`;
    log.error(`session ${short(session.id)}: ${reason}`);
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

  /**
   * Room for one more session: `{ refused }` (a message) when every session is
   * in use; otherwise the longest-idle session is reclaimed when at the limit.
   * @returns {{ refused?: string }}
   */
  function makeRoomForOne() {
    const room = makeRoom(sessions.values(), maxSessions);
    if (room.full) {
      log.error(`refused a new session: all ${maxSessions} sessions (MCP_MAX_SESSIONS) are in use`);
      return {
        refused: `Session limit reached: all ${maxSessions} sessions (MCP_MAX_SESSIONS) of this server are in use. Retry later, or end unused sessions (HTTP DELETE)`,
      };
    }
    if (room.victim)
      endSession(
        room.victim,
        `reclaimed: idle for ${Math.round((Date.now() - room.victim.lastActive) / 1000)} s and the session limit (${maxSessions}) was reached`,
      );
    return {};
  }

  /**
   * A new session for an initialize request, its server started. The caller
   * made room first (makeRoomForOne) and hands the request to its transport.
   * @param {RequestId | undefined} initializeId
   * @returns {Session}
   */
  function open(initializeId) {
    const id = randomUUID();
    /** @type {Session} */
    const session = /** @type {any} */ ({
      id,
      open: 0,
      lastActive: Date.now(),
      closed: false,
      pending: new Map(),
      progress: new Map(),
      noted: new Set(),
      initializeId,
      answeredInitialize: false,
      tools: toolFilter(policy, pins),
    });
    session.transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessionclosed: () => endSession(session, 'the client ended it (DELETE)'),
    });
    session.transport.onmessage = (/** @type {any} */ message) => {
      log.debug(`client ${short(id)} -> server: ${JSON.stringify(message)}`);
      // A call the tool policy or the pins withhold is answered here and never reaches the server.
      const refusal = session.tools.fromClient(message);
      if (refusal) return refuse(session, message, refusal, `${refusal.error.data.by}: ${refusal.error.data.withheld}`);
      audit.fromClient(id, message);
      if ('method' in message && 'id' in message) {
        session.pending.set(message.id, true);
        const token = message.params?._meta?.progressToken;
        if (token !== undefined) session.progress.set(token, message.id);
      }
      session.server.send(message);
    };
    session.transport.onclose = () => endSession(session, 'its transport closed');
    session.transport.onerror = (e) => log.debug(`session ${short(id)}: ${e.message}`);
    session.server = startServer({
      command: launch.command,
      args: launch.args,
      env: launch.env,
      uid: launch.uid,
      gid: launch.gid,
      onMessage: (message) => toClient(session, message),
      onNonJson: (line) => log.error(`session ${short(id)}: the server wrote a line that is not JSON-RPC to stdout (${line.length} characters, dropped)`),
      onStderrLine: (line) => log.serverLine(short(id), line),
      onExit: (code, signal, spawnError) => serverExited(session, code, signal, spawnError),
    });
    session.initializeTimer = setTimeout(() => {
      if (!session.answeredInitialize && !session.closed) {
        lastStart = {
          ok: false,
          at: Date.now(),
          error: `the MCP server did not answer initialize within ${initializeDeadlineMs / 1000} s`,
          stderr: session.server.stderrTail().slice(-10),
        };
        selfCheckDone = true;
      }
    }, initializeDeadlineMs);
    session.initializeTimer.unref();
    sessions.set(id, session);
    log.info(`session ${short(id)} opened: server pid ${session.server.pid} (${sessions.size} of ${maxSessions} sessions live)`);
    return session;
  }

  /**
   * Idle sessions end, and (never as root: every process of root's reparented
   * to PID 1 would look like a stray) strays are swept. Returns a stop function.
   */
  function startHousekeeping() {
    const expiry = setInterval(
      () => {
        for (const session of expiredSessions(sessions.values(), Date.now(), idleMs)) {
          endSession(session, `idle: no request for ${Math.round(idleMs / 1000)} s (MCP_SESSION_IDLE)`);
        }
      },
      Math.min(Math.max(idleMs / 4, 250), 15_000),
    );
    expiry.unref();
    const sweep = serverUid !== 0 ? setInterval(sweepStrays, SWEEP_MS) : undefined;
    sweep?.unref();
    return () => {
      clearInterval(expiry);
      clearInterval(sweep);
    };
  }

  return {
    /** @param {string} id */
    get: (id) => sessions.get(id),
    get size() {
      return sessions.size;
    },
    get closing() {
      return closing;
    },
    /** Whether a server start (a session's or the self-check's) has shown whether the server works. */
    get lastStart() {
      return lastStart;
    },
    track,
    makeRoomForOne,
    open,
    startHousekeeping,
    /** What /healthz answers. */
    health: () => healthOf({ sessions: sessions.values(), max: maxSessions, selfCheckDone, lastStart }),
    /** The self-check finished: `failure` when its round trip failed and no session showed the server starting. @param {StartOutcome} [failure] */
    selfChecked(failure) {
      if (failure && (!lastStart || lastStart.ok)) lastStart = failure;
      selfCheckDone = true;
    },
    /** Every session ends; new requests are refused from now on. */
    closeAll() {
      closing = true;
      for (const session of [...sessions.values()]) endSession(session, 'the gateway is stopping');
    },
  };
}

/** @typedef {ReturnType<typeof createSessions>} Sessions */

/** No audit trail (unit tests that do not look at one). */
const NO_AUDIT = { fromClient() {}, fromServer() {}, refused() {}, sessionEnded() {} };

/** @param {unknown} e */
const messageOf = (e) => (e instanceof Error ? e.message : String(e));
