/**
 * The MCP round trip of `start -d`, `status --probe`, the container's
 * mcp-probe and the session gateway's self-check
 * (docker/common/runtime/js/mcp-probe.mjs), against scripted HTTP servers on
 * loopback: what it sends, how it reads JSON and SSE answers, pagination, the
 * session it ends, how it reports failures (retryable or not, the server's
 * own lines), and the certificate pin.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { containerModule, repoRoot } from './container-module.js';

const { PROBE_PROTOCOL_VERSION, ProbeError, describeTools, probe } = await containerModule('runtime/js/mcp-probe.mjs');

type Seen = { method: string; headers: http.IncomingHttpHeaders; body: any };
type Answer = { status?: number; headers?: Record<string, string>; body?: string };
const servers: Array<http.Server> = [];
after(() => servers.forEach((s) => s.close()));

/** A server that answers each request with `answer(request)` and records what it got. */
async function scripted(answer: (seen: Seen) => Answer, tls?: { key: string; cert: string }) {
  const seen: Seen[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const request = { method: req.method!, headers: req.headers, body: text ? JSON.parse(text) : undefined };
      seen.push(request);
      const a = answer(request);
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? '');
    });
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { seen, url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/mcp`, port };
}

const rpc = (id: unknown, result: unknown) => JSON.stringify({ jsonrpc: '2.0', id, result });
const sse = (...messages: unknown[]) => messages.map((m) => `event: message\ndata: ${JSON.stringify(m)}\n\n`).join('');
const initResult = (capabilities: object = { tools: {} }) => ({ protocolVersion: '2025-03-26', capabilities, serverInfo: { name: 'scripted' } });

/** A well-behaved server: JSON answers, a session id, tools in two pages. */
const wellBehaved = ({ method, body }: Seen): Answer => {
  if (method === 'DELETE') return { status: 200 };
  if (body.method === 'initialize') return { headers: { 'mcp-session-id': 'sess-1' }, body: rpc(body.id, initResult()) };
  if (body.method === 'notifications/initialized') return { status: 202 };
  if (body.method === 'tools/list' && !body.params.cursor) return { body: rpc(body.id, { tools: [{ name: 'a' }, { name: 'b' }], nextCursor: 'page2' }) };
  if (body.method === 'tools/list') return { body: rpc(body.id, { tools: [{ name: 'c' }] }) };
  return { status: 500 };
};

describe('the MCP probe (runtime/js/mcp-probe.mjs)', () => {
  it('initialize, initialized, every page of tools/list, then DELETE: the session id, protocol version and headers on each request', async () => {
    const server = await scripted(wellBehaved);
    const result = await probe({ url: server.url, headers: { Authorization: 'Bearer t0k' } });
    assert.equal(result.protocolVersion, '2025-03-26');
    assert.equal(result.serverName, 'scripted');
    assert.deepEqual(result.tools, ['a', 'b', 'c']);
    assert.equal(result.toolsListed, true);
    assert.equal(typeof result.ms, 'number');
    assert.deepEqual(
      server.seen.map((s) => s.body?.method ?? s.method),
      ['initialize', 'notifications/initialized', 'tools/list', 'tools/list', 'DELETE'],
    );
    assert.equal(server.seen[0]!.body.params.protocolVersion, PROBE_PROTOCOL_VERSION);
    assert.equal(server.seen[0]!.headers['mcp-session-id'], undefined);
    assert.deepEqual(server.seen[3]!.body.params, { cursor: 'page2' });
    for (const later of server.seen.slice(1)) {
      assert.equal(later.headers['mcp-session-id'], 'sess-1');
      assert.equal(later.headers['mcp-protocol-version'], '2025-03-26');
    }
    assert.ok(
      server.seen.every((s) => s.headers.authorization === 'Bearer t0k'),
      'the token on every request, DELETE included',
    );
  });

  it('reads SSE answers, and skips messages that are not the answer to its request', async () => {
    const server = await scripted(({ method, body }) => {
      if (method === 'DELETE') return {};
      const headers = { 'content-type': 'text/event-stream' };
      if (body.method === 'initialize')
        return { headers, body: sse({ jsonrpc: '2.0', method: 'notifications/message', params: {} }, { jsonrpc: '2.0', id: body.id, result: initResult() }) };
      if (body.method === 'tools/list') return { headers, body: sse({ jsonrpc: '2.0', id: body.id, result: { tools: [{ name: 'echo' }] } }) };
      return { status: 202 };
    });
    const result = await probe({ url: server.url });
    assert.deepEqual(result.tools, ['echo']);
    assert.equal(server.seen.at(-1)!.method, 'POST', 'no session id: no DELETE');
  });

  it('a server without the tools capability: no tools/list, and describeTools says so', async () => {
    const server = await scripted(({ body }) => (body?.method === 'initialize' ? { body: rpc(body.id, initResult({})) } : { status: 202 }));
    const result = await probe({ url: server.url });
    assert.deepEqual([result.tools, result.toolsListed], [[], false]);
    assert.ok(!server.seen.some((s) => s.body?.method === 'tools/list'));
    assert.equal(describeTools(result), 'no tools (the server declares no tools capability)');
  });

  it("a gateway's 503 with the server's last lines: retryable, with the lines (what start -d shows)", async () => {
    const error = { jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'MCP server process failed: exited', data: { stderr: ['Error: no token'] } } };
    const server = await scripted(() => ({ status: 503, body: JSON.stringify(error) }));
    await assert.rejects(probe({ url: server.url }), (e: any) => {
      assert.ok(e instanceof ProbeError);
      assert.equal(e.message, 'initialize: HTTP 503: MCP server process failed: exited');
      assert.deepEqual([e.status, e.retryable, e.serverLines], [503, true, ['Error: no token']]);
      return true;
    });
  });

  it('a 401 in plain text: not retryable, its first line in the message; an error answer to tools/list names the step', async () => {
    const refused = await scripted(() => ({ status: 401, headers: { 'content-type': 'text/plain' }, body: 'Unauthorized\nmore' }));
    await assert.rejects(probe({ url: refused.url }), (e: any) => e.message === 'initialize: HTTP 401: Unauthorized' && e.retryable === false);
    const failing = await scripted(({ method, body }) => {
      if (method === 'DELETE') return {};
      if (body.method === 'initialize') return { headers: { 'mcp-session-id': 's' }, body: rpc(body.id, initResult()) };
      if (body.method === 'tools/list') return { body: JSON.stringify({ jsonrpc: '2.0', id: body.id, error: { code: -1, message: 'broken' } }) };
      return { status: 202 };
    });
    await assert.rejects(probe({ url: failing.url }), /^ProbeError: tools\/list: broken$/);
    assert.equal(failing.seen.at(-1)!.method, 'DELETE', 'the session is ended even when the probe fails');
  });

  it('nothing listening: "cannot reach", retryable; no answer in time: "no answer in time"', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await assert.rejects(
      probe({ url: `http://127.0.0.1:${port}/mcp` }),
      (e: any) => /^cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/.test(e.message) && e.retryable === true,
    );
    const silent = http.createServer(() => undefined);
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/mcp`;
    await assert.rejects(probe({ url: silentUrl, timeoutMs: 200 }), /no answer in time/);
    silent.closeAllConnections();
  });

  it('TLS pinned to a certificate: the right pin connects whoever issued it; another pin is refused before the request (and its token) is sent', async () => {
    const cert = readFileSync(join(repoRoot, 'test', 'fixtures', 'tls', 'leaf.pem'), 'utf8');
    const key = readFileSync(join(repoRoot, 'test', 'fixtures', 'tls', 'leaf-key.pem'), 'utf8');
    const server = await scripted(wellBehaved, { key, cert });
    const pin = new X509Certificate(cert).fingerprint256;
    const result = await probe({ url: server.url, pin, headers: { Authorization: 'Bearer secret' } });
    assert.deepEqual(result.tools, ['a', 'b', 'c']);
    const before = server.seen.length;
    const wrong = `${pin.slice(0, -2)}${pin.endsWith('00') ? '11' : '00'}`;
    await assert.rejects(
      probe({ url: server.url, pin: wrong, headers: { Authorization: 'Bearer secret' } }),
      /presented another certificate \(SHA-256 .*\) than the one saved/,
    );
    assert.equal(server.seen.length, before, 'no request reached the server');
  });

  it('describeTools: count and the first names, one line', () => {
    assert.equal(describeTools({ toolsListed: true, tools: ['a'] }), '1 tool (a)');
    assert.equal(describeTools({ toolsListed: true, tools: [] }), '0 tools');
    assert.equal(describeTools({ toolsListed: true, tools: ['a', 'b', 'c'] }, 2), '3 tools (a, b, ...)');
  });
});
