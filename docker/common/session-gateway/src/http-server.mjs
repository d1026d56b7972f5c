// @ts-check
// The session gateway's HTTP side: /healthz, and /mcp routed to a session's
// transport (the MCP SDK's StreamableHTTPServerTransport handles SSE streams,
// DELETE, 404 and MCP-Protocol-Version); an initialize without a session id
// opens one. Errors are JSON-RPC errors a client can show.
import http from 'node:http';

export const MAX_BODY = 16 * 2 ** 20;

/**
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {number} code
 * @param {string} message
 * @param {unknown} [id]
 * @param {Record<string, string>} [headers]
 */
function jsonError(res, status, code, message, id = null, headers = {}) {
  if (res.headersSent) return res.end();
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id }));
}

/**
 * @param {http.IncomingMessage} req
 * @param {number} maxBody
 * @returns {Promise<string>}
 */
function readBody(req, maxBody) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    req.on('data', (/** @type {Buffer} */ chunk) => {
      size += chunk.length;
      if (size > maxBody) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * The gateway's HTTP server, not yet listening.
 * @param {{ sessions: import('./sessions.mjs').Sessions, log: import('./log.mjs').GatewayLog, maxBody?: number }} options
 */
export function createHttpServer({ sessions, log, maxBody = MAX_BODY }) {
  /** @param {http.ServerResponse} res */
  function health(res) {
    const state = sessions.health();
    res.writeHead(state.ok ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end([state.text, ...(state.lines ?? []).map((/** @type {string} */ l) => `server: ${l}`)].join('\n') + '\n');
  }

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {any} body */
  async function openSession(req, res, body) {
    const room = sessions.makeRoomForOne();
    if (room.refused) return jsonError(res, 503, -32000, room.refused, body.id ?? null, { 'Retry-After': '5' });
    const session = sessions.open(body.id);
    sessions.track(session, res);
    await session.transport.handleRequest(req, res, body);
  }

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
  async function handle(req, res) {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && req.method === 'GET') return health(res);
    if (path !== '/mcp') return jsonError(res, 404, -32000, 'Not found: the MCP endpoint is /mcp');
    if (sessions.closing) return jsonError(res, 503, -32000, 'The gateway is shutting down');

    const sessionId = req.headers['mcp-session-id'];
    /** @type {any} */
    let body;
    if (req.method === 'POST') {
      let text;
      try {
        text = await readBody(req, maxBody);
      } catch (e) {
        const status = /** @type {{ status?: number }} */ (e).status;
        return jsonError(res, status ?? 400, -32000, status === 413 ? 'Request body too large' : 'Could not read the request body');
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
    sessions.track(session, res);
    await session.transport.handleRequest(req, res, body);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      log.error(`request failed: ${e instanceof Error ? e.message : String(e)}`);
      jsonError(res, 500, -32603, 'Internal gateway error');
    });
  });
  // nginx keeps upstream connections open for reuse; closing them first would race its next request.
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 76_000;
  server.requestTimeout = 0;
  return server;
}
