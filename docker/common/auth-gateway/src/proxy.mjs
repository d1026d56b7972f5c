// @ts-check
// Tunnel mode: an authorized request goes on to the session gateway as a
// streaming reverse proxy. Bodies flow both ways as they come (SSE and
// long-lived GET streams included), a client that goes away aborts the
// upstream request, the Authorization header stays here (the MCP server never
// sees a token), and hop-by-hop headers are dropped (RFC 9110 §7.6.1).
import http from 'node:http';

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/**
 * Headers without the hop-by-hop ones, those named in Connection, and `drop`.
 * @param {import('node:http').IncomingHttpHeaders} headers @param {string[]} [drop]
 * @returns {import('node:http').OutgoingHttpHeaders}
 */
export function endToEndHeaders(headers, drop = []) {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const remove = new Set([...HOP_BY_HOP, ...named, ...drop]);
  /** @type {import('node:http').OutgoingHttpHeaders} */
  const kept = {};
  for (const [name, value] of Object.entries(headers)) if (!remove.has(name.toLowerCase()) && value !== undefined) kept[name] = value;
  return kept;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {any} upstream the session gateway's origin (ctx.upstream, set in tunnel mode)
 * @param {{ onError?: (error: NodeJS.ErrnoException) => void }} [options]
 */
export function proxyRequest(req, res, upstream, { onError = () => {} } = {}) {
  const target = new URL(upstream);
  const outgoing = http.request({
    agent,
    host: target.hostname,
    port: target.port || 80,
    method: req.method,
    path: req.url,
    headers: endToEndHeaders(req.headers, ['authorization', 'x-sandbox-client', 'cookie']),
  });
  let answered = false;
  outgoing.on('response', (upstreamRes) => {
    answered = true;
    res.writeHead(upstreamRes.statusCode ?? 502, endToEndHeaders(upstreamRes.headers));
    // Server-sent events must reach the client as soon as each is written.
    res.flushHeaders();
    upstreamRes.pipe(res);
    upstreamRes.on('error', () => res.destroy());
  });
  outgoing.on('error', (error) => {
    if (res.destroyed) return;
    onError(error);
    if (!answered && !res.headersSent) {
      res.writeHead(502, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'The MCP session gateway is not reachable' }, id: null }));
    } else res.destroy();
  });
  // The client went away (closed tab, aborted fetch): so does the upstream request.
  res.on('close', () => {
    if (!res.writableFinished) outgoing.destroy();
  });
  req.pipe(outgoing);
}
