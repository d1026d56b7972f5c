/**
 * The session gateway's HTTP side and sessions (http-server.mjs, sessions.mjs),
 * in this process on a free loopback port, with the MCP SDK's client and a
 * tiny stdio MCP server (test/fixtures/benign-server): initialize and
 * tools/list through a session, the refusals, the session limit and the
 * reclaim of an idle session, and health.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { BENIGN_SERVER, eventually, gatewayModule, recordingLog } from '../container-module.js';

const { createHttpServer } = await gatewayModule('http-server.mjs');
const { createSessions } = await gatewayModule('sessions.mjs');

const started: Array<() => Promise<void>> = [];
after(async () => {
  for (const stop of started) await stop();
});

async function startGateway({
  maxSessions = 4,
  idleMs = 300_000,
  args = [BENIGN_SERVER],
  maxBody,
}: { maxSessions?: number; idleMs?: number; args?: string[]; maxBody?: number } = {}) {
  const log = recordingLog();
  const sessions = createSessions({ maxSessions, idleMs, launch: { command: process.execPath, args, env: { PATH: process.env.PATH } }, log, serverUid: 0 });
  const server = createHttpServer({ sessions, log, ...(maxBody ? { maxBody } : {}) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  const stop = async () => {
    sessions.closeAll();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  started.push(stop);
  return { url, sessions, server, log, stop };
}

const initialize = (id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'unit', version: '1' } },
});
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('session gateway over HTTP (http-server.mjs, sessions.mjs)', () => {
  it('the MCP SDK client initializes, lists and calls tools through a session; DELETE ends it and its server', async () => {
    const gateway = await startGateway();
    const client = new Client({ name: 'unit', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(gateway.url));
    await client.connect(transport);
    assert.equal(client.getServerVersion()?.name, 'mcp-sandbox-benign');
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ['echo'],
    );
    const called = await client.callTool({ name: 'echo', arguments: { text: 'through the gateway' } });
    assert.deepEqual(called.content, [{ type: 'text', text: 'through the gateway' }]);
    assert.equal(gateway.sessions.size, 1);
    const session = gateway.sessions.get(transport.sessionId!);
    const pid = session.server.pid as number;
    assert.ok(alive(pid), 'the session has its own server process');
    await transport.terminateSession();
    await client.close();
    assert.equal(gateway.sessions.size, 0);
    await eventually(() => !alive(pid), 5000, 'the server process to end');
    assert.ok(
      gateway.log.lines.some((l) => /session [0-9a-f]{8} ended: the client ended it \(DELETE\)/.test(l)),
      gateway.log.lines.join('\n'),
    );
  });

  it('health: starting until a server start is known, then ok with the session count', async () => {
    const gateway = await startGateway({ maxSessions: 3 });
    const before = await fetch(gateway.url.replace('/mcp', '/healthz'));
    assert.equal(before.status, 503);
    assert.match(await before.text(), /^starting: /);
    const opened = await post(gateway.url, initialize());
    assert.equal(opened.status, 200);
    await opened.text();
    const after = await fetch(gateway.url.replace('/mcp', '/healthz'));
    assert.equal(after.status, 200);
    assert.equal(await after.text(), 'ok: 1 of 3 sessions (1 idle)\n');
  });

  it('a server that exits before initialize: the client gets a JSON-RPC error with its last stderr line, health says why', async () => {
    const gateway = await startGateway({ args: ['-e', 'console.error("no config file"); process.exit(3)'] });
    const res = await post(gateway.url, initialize(7));
    const text = await res.text();
    assert.match(text, /"id":7/);
    assert.match(text, /MCP server process failed: the MCP server exited \(code 3\) before it answered initialize: no config file/);
    const health = await fetch(gateway.url.replace('/mcp', '/healthz'));
    assert.equal(health.status, 503);
    assert.equal(await health.text(), 'MCP server failed: the MCP server exited (code 3) before it answered initialize\nserver: no config file\n');
  });

  it('refuses what is not a session request, each with its status and a JSON-RPC error', async () => {
    const gateway = await startGateway({ maxBody: 1024 });
    const refusals: Array<[string, () => Promise<Response>, number, RegExp]> = [
      ['another path', () => fetch(gateway.url.replace('/mcp', '/other')), 404, /Not found: the MCP endpoint is \/mcp/],
      ['a body that is not JSON', () => post(gateway.url, '{no'), 400, /"code":-32700.*Parse error/],
      [
        'a request without a session that is not initialize',
        () => post(gateway.url, { jsonrpc: '2.0', id: 3, method: 'tools/list' }),
        400,
        /No valid session ID provided","id":3|No valid session ID provided/,
      ],
      ['a batch without a session', () => post(gateway.url, [initialize()]), 400, /No valid session ID provided/],
      ['GET without a session', () => fetch(gateway.url, { headers: { accept: 'text/event-stream' } }), 400, /Mcp-Session-Id header is required/],
      ['PUT', () => fetch(gateway.url, { method: 'PUT' }), 405, /Method not allowed/],
      [
        'an unknown session',
        () => post(gateway.url, { jsonrpc: '2.0', id: 4, method: 'tools/list' }, { 'mcp-session-id': 'nope' }),
        404,
        /"code":-32001,"message":"Session not found"},"id":4/,
      ],
    ];
    for (const [name, send, status, message] of refusals) {
      const res = await send();
      assert.equal(res.status, status, name);
      assert.match(await res.text(), message, name);
    }
    // A body over the limit: the request is destroyed at once (its 413 does not
    // reach the client, whose connection is cut) and no server is started.
    await assert.rejects(post(gateway.url, { ...initialize(5), params: { ...initialize().params, pad: 'x'.repeat(2048) } }), /fetch failed/);
    const fits = await post(gateway.url, { jsonrpc: '2.0', id: 6, method: 'tools/list', params: { pad: 'x'.repeat(512) } });
    assert.equal(fits.status, 400, 'a body under the limit is read (control)');
    await fits.text();
    assert.equal(gateway.sessions.size, 0, 'no refusal opened a session');
    assert.equal((await fetch(gateway.url.replace('/mcp', '/other'))).headers.get('content-type'), 'application/json');
    assert.equal((await fetch(gateway.url, { method: 'PUT' })).headers.get('allow'), 'GET, POST, DELETE');
  });

  it('at the session limit the longest-idle session is reclaimed: its id answers 404 and its server ends; the new session works', async () => {
    const gateway = await startGateway({ maxSessions: 2 });
    const ids: string[] = [];
    for (const id of [1, 2]) {
      const res = await post(gateway.url, initialize(id));
      await res.text(); // the response closes: the session has no request open, it is idle
      ids.push(res.headers.get('mcp-session-id')!);
      await new Promise((r) => setTimeout(r, 15));
    }
    const [oldest, newer] = ids as [string, string];
    const oldestPid = gateway.sessions.get(oldest).server.pid as number;
    const third = await post(gateway.url, initialize(3));
    assert.equal(third.status, 200);
    assert.match(await third.text(), /mcp-sandbox-benign/);
    assert.equal(gateway.sessions.size, 2);
    assert.equal(gateway.sessions.get(oldest), undefined);
    assert.ok(gateway.sessions.get(newer), 'the newer idle session stays');
    const gone = await post(gateway.url, { jsonrpc: '2.0', id: 9, method: 'tools/list' }, { 'mcp-session-id': oldest, 'mcp-protocol-version': '2025-06-18' });
    assert.equal(gone.status, 404);
    await eventually(() => !alive(oldestPid), 5000, "the reclaimed session's server to end");
    assert.ok(
      gateway.log.lines.some((l) => /session [0-9a-f]{8} ended: reclaimed: idle for \d+ s and the session limit \(2\) was reached/.test(l)),
      gateway.log.lines.join('\n'),
    );
  });

  it('at the limit with every session in use (a GET stream open): 503 with Retry-After, and nothing is reclaimed (control of the above)', async () => {
    const gateway = await startGateway({ maxSessions: 1 });
    const client = new Client({ name: 'unit', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(gateway.url));
    await client.connect(transport);
    await client.listTools();
    // The SDK client holds a GET stream once initialized: its session is in use, never idle.
    await eventually(() => gateway.sessions.get(transport.sessionId!)?.open > 0, 5000, 'the GET stream');
    const refused = await post(gateway.url, initialize(2));
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.match(await refused.text(), /Session limit reached: all 1 sessions \(MCP_MAX_SESSIONS\) of this server are in use.*"id":2/);
    assert.deepEqual(
      (await client.listTools()).tools.map((t) => t.name),
      ['echo'],
      'the session in use still works',
    );
    const health = await fetch(gateway.url.replace('/mcp', '/healthz'));
    assert.equal(health.status, 503);
    assert.match(await health.text(), /no session capacity: all 1 sessions/);
    await client.close();
  });

  it('an idle session ends after MCP_SESSION_IDLE (housekeeping), and the stopping gateway refuses new requests', async () => {
    const gateway = await startGateway({ idleMs: 300 });
    const stopHousekeeping = gateway.sessions.startHousekeeping();
    try {
      const res = await post(gateway.url, initialize());
      await res.text();
      const id = res.headers.get('mcp-session-id')!;
      await eventually(() => gateway.sessions.get(id) === undefined, 5000, 'the idle session to end');
      assert.ok(
        gateway.log.lines.some((l) => /ended: idle: no request for 0 s \(MCP_SESSION_IDLE\)/.test(l)),
        gateway.log.lines.join('\n'),
      );
    } finally {
      stopHousekeeping();
    }
    gateway.sessions.closeAll();
    const closing = await post(gateway.url, initialize());
    assert.equal(closing.status, 503);
    assert.match(await closing.text(), /The gateway is shutting down/);
  });
});
