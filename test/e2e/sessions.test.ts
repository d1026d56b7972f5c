/**
 * Readiness and sessions, end to end (issue 12): `start -d` is ready only
 * when an MCP client is served, and fails with the server's own words when it
 * is not; abandoned sessions never lock the instance; a full instance says so
 * (HTTP 503, a JSON-RPC error, unhealthy) instead of failing a spawn; idle
 * sessions are reclaimed while connected clients keep theirs; the Origin and
 * Host policy; attached mode ends with the container's status.
 * Default settings unless a test says otherwise; the SDK client throughout.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  certificateOf,
  cli,
  cliBackground,
  connectClient,
  createInstance,
  docker,
  projectDir,
  removeInstance,
  trustingFetch,
  waitFor,
  type Instance,
} from './harness.js';

/** What MCP_MAX_SESSIONS defaults to with MCP_MEMORY=1g and MCP_PIDS=256 (package_scripts/settings/sessions.ts). */
const DEFAULT_MAX_SESSIONS = 18;

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'walk-away', version: '1' } },
};

function rewriteEnv(instance: Instance, extra: Record<string, string>): void {
  const lines = [
    `NAME=${instance.name}`,
    `HOST_PORT=${instance.port}`,
    `ACCESS_TOKEN=${instance.token}`,
    ...(process.env.NODE_EXTRA_CA_CERTS ? [`EXTRA_CA_CERT=${process.env.NODE_EXTRA_CA_CERTS}`] : ['EXTRA_CA_CERT=/etc/ssl/certs/ca-certificates.crt']),
    ...Object.entries(extra).map(([k, v]) => `${k}=${v}`),
  ];
  writeFileSync(instance.envFile, `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** POST to the instance's endpoint as a client that initializes and never comes back (no DELETE, no GET stream). */
async function rawPost(instance: Instance, body: unknown, headers: Record<string, string> = {}) {
  const fetchTrusted = trustingFetch(certificateOf(instance));
  const response = await fetchTrusted(`https://127.0.0.1:${instance.port}/mcp`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      Authorization: `Bearer ${instance.token}`,
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, sessionId: response.headers.get('mcp-session-id'), text: await response.text() };
}

/** fetch always sends the URL's host; a rebinding page's request carries another Host, sent here with node:https. */
function statusWithHost(instance: Instance, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port: instance.port,
        path: '/mcp',
        method: 'POST',
        ca: certificateOf(instance),
        servername: 'localhost',
        headers: {
          Host: host,
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          Authorization: `Bearer ${instance.token}`,
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(INITIALIZE));
  });
}

async function healthcheck(instance: Instance) {
  const run = await docker(['exec', instance.name, '/opt/sandbox/bin/healthcheck']);
  return { exitCode: run.exitCode, output: `${run.stdout}${run.stderr}` };
}

describe('readiness and sessions (nginx, default server) (steps in order, on shared instances)', { timeout: 900_000 }, () => {
  let instance: Instance;

  before(async () => {
    instance = await createInstance('mcps-e2e-sessions');
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
  });

  after(async () => {
    if (instance) await removeInstance(instance);
  });

  test("a misconfigured server: start -d exits 1 with the server's own error and the logs command; never healthy", async () => {
    rewriteEnv(instance, { NPM_MCP_ARGS: '/nonexistent' });
    const started = await cli(['start', '-d', '--timeout', '60', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 1, started.all);
    assert.match(started.all, /None of the specified directories are accessible/);
    assert.match(started.all, /npm run logs/);
    assert.doesNotMatch(started.all, /Ready:/);
    const health = await healthcheck(instance);
    assert.equal(health.exitCode, 1, health.output);
    assert.match(health.output, /MCP server failed/);
  });

  test('the same image with a working server: start -d prints Ready: 14 tools, status --probe agrees', async () => {
    rewriteEnv(instance, {});
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    assert.match(started.stdout, /Ready: 14 tools \(read_file, /);
    const health = await healthcheck(instance);
    assert.equal(health.exitCode, 0, health.output);

    const status = await cli(['status', '--json', '--probe']);
    assert.equal(status.exitCode, 0, status.all);
    const row = (JSON.parse(status.stdout) as Array<{ name: string; probe?: { ok: boolean; tools?: string[] } }>).find((r) => r.name === instance.name);
    assert.equal(row?.probe?.ok, true, status.stdout);
    assert.ok(row.probe.tools!.includes('list_allowed_directories'));
    // The probes ended their sessions (DELETE): no server process is left behind by them.
    const logs = await docker(['logs', instance.name]);
    assert.match(logs.stdout, /ended: the client ended it \(DELETE\)/);
  });

  test('60 clients that initialize and walk away do not lock out the 61st', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await rawPost(instance, INITIALIZE)).status);
    // Every one of them was served: at the limit the oldest idle session made room.
    assert.deepEqual([...new Set(statuses)], [200]);
    const client = await connectClient(instance);
    try {
      assert.equal((await client.listTools()).tools.length, 14);
    } finally {
      await client.close();
    }
    const health = await healthcheck(instance);
    assert.equal(health.exitCode, 0, health.output);
    const logs = await docker(['logs', instance.name]);
    assert.match(logs.stdout, /reclaimed: idle for \d+ s and the session limit \(18\) was reached/);
    assert.doesNotMatch(`${logs.stdout}${logs.stderr}`, /jsonrpc/, 'no message body in the log');
  });

  test('a reclaimed session answers 404, which tells its client to start a new one', async () => {
    const first = await rawPost(instance, INITIALIZE);
    assert.equal(first.status, 200);
    assert.ok(first.sessionId);
    // Fill every slot with newer walk-away sessions: the first one is the oldest idle and goes.
    for (let i = 0; i < DEFAULT_MAX_SESSIONS; i++) assert.equal((await rawPost(instance, INITIALIZE)).status, 200);
    const stale = await rawPost(
      instance,
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { 'Mcp-Session-Id': first.sessionId, 'MCP-Protocol-Version': '2025-06-18' },
    );
    assert.equal(stale.status, 404, stale.text);
    assert.match(stale.text, /Session not found/);
    // Positive control: the newest session still answers.
    const fresh = await rawPost(instance, INITIALIZE);
    const listed = await rawPost(
      instance,
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { 'Mcp-Session-Id': fresh.sessionId!, 'MCP-Protocol-Version': '2025-06-18' },
    );
    assert.equal(listed.status, 200, listed.text);
    // MCP-Protocol-Version: a version the transport does not know gets 400 on a non-initialize request.
    const wrong = await rawPost(
      instance,
      { jsonrpc: '2.0', id: 3, method: 'tools/list' },
      { 'Mcp-Session-Id': fresh.sessionId!, 'MCP-Protocol-Version': '1999-01-01' },
    );
    assert.equal(wrong.status, 400, wrong.text);
    assert.match(wrong.text, /Unsupported protocol version/);
  });

  test('full of connected clients: the next gets 503 with a JSON-RPC error and health says so; one leaving lets it in', async () => {
    const clients: Array<{ client: Client; transport: StreamableHTTPClientTransport }> = [];
    try {
      // SDK clients hold their GET stream open: they are connected, never idle.
      for (let i = 0; i < DEFAULT_MAX_SESSIONS; i++) {
        const transport = new StreamableHTTPClientTransport(new URL(`https://127.0.0.1:${instance.port}/mcp`), {
          fetch: trustingFetch(certificateOf(instance)),
          requestInit: { headers: { Authorization: `Bearer ${instance.token}` } },
        });
        const client = new Client({ name: `held-${i}`, version: '1' });
        await client.connect(transport);
        clients.push({ client, transport });
      }
      // The GET streams are open once each client sent notifications/initialized and its GET was answered.
      await waitFor('every session to hold a GET stream', async () => ((await healthcheck(instance)).exitCode === 1 ? true : undefined), 20_000);
      const refused = await rawPost(instance, INITIALIZE);
      assert.equal(refused.status, 503, refused.text);
      const body = JSON.parse(refused.text) as { jsonrpc: string; id: number; error: { code: number; message: string } };
      assert.equal(body.jsonrpc, '2.0');
      assert.equal(body.id, 1);
      assert.match(body.error.message, /Session limit reached: all 18 sessions \(MCP_MAX_SESSIONS\)/);
      const health = await healthcheck(instance);
      assert.match(health.output, /no session capacity/);
      const logs = await docker(['logs', instance.name]);
      assert.match(logs.stderr, /refused a new session: all 18 sessions/);

      // One client ends its session (DELETE): the next client is served at once.
      const leaving = clients.pop()!;
      await leaving.transport.terminateSession();
      await leaving.client.close();
      const client = await connectClient(instance);
      assert.equal((await client.listTools()).tools.length, 14);
      await client.close();
    } finally {
      for (const { client } of clients) await client.close();
    }
  });

  test('Origin and Host: own and loopback origins pass, foreign ones 403; a foreign Host 421; OAuth discovery 404', async () => {
    const own = `https://127.0.0.1:${instance.port}`;
    for (const origin of [own, `https://localhost:${instance.port}`, 'http://localhost:6274', 'http://[::1]:3000']) {
      const ok = await rawPost(instance, INITIALIZE, { Origin: origin });
      assert.equal(ok.status, 200, `${origin}: ${ok.text}`);
    }
    for (const origin of ['https://evil.example', 'https://localhost.evil.example', `https://127.0.0.2:${instance.port}`]) {
      assert.equal((await rawPost(instance, INITIALIZE, { Origin: origin })).status, 403, origin);
    }
    assert.equal(await statusWithHost(instance, 'evil.example'), 421);
    assert.equal(await statusWithHost(instance, `evil.example:${instance.port}`), 421);
    // Controls: loopback names pass the Host check.
    assert.equal(await statusWithHost(instance, `localhost:${instance.port}`), 200);
    assert.equal(await statusWithHost(instance, `127.0.0.1:${instance.port}`), 200);

    const fetchTrusted = trustingFetch(certificateOf(instance));
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-authorization-server']) {
      const response = await fetchTrusted(`https://127.0.0.1:${instance.port}${path}`);
      assert.equal(response.status, 404, path);
      await response.text();
    }
    // Control: anything else without the token is still 401.
    const other = await fetchTrusted(`https://127.0.0.1:${instance.port}/.well-known/other`);
    assert.equal(other.status, 401);
    await other.text();
  });

  test('idle sessions are reclaimed after MCP_SESSION_IDLE; a client holding its GET stream keeps its session', async () => {
    rewriteEnv(instance, { MCP_SESSION_IDLE: '10s' });
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    const connected = await connectClient(instance);
    try {
      const abandoned = await rawPost(instance, INITIALIZE);
      assert.equal(abandoned.status, 200);
      const ask = () =>
        rawPost(instance, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'Mcp-Session-Id': abandoned.sessionId!, 'MCP-Protocol-Version': '2025-06-18' });
      assert.equal((await ask()).status, 200, 'alive before the timeout');
      // Watched in the log, not by asking: every request would make it active again.
      const ended = new RegExp(`session ${abandoned.sessionId!.slice(0, 8)} ended: idle: no request for 10 s \\(MCP_SESSION_IDLE\\)`);
      await waitFor(
        'the abandoned session to be reclaimed',
        async () => (ended.test((await docker(['logs', instance.name])).stdout) ? true : undefined),
        40_000,
      );
      assert.equal((await ask()).status, 404);
      // Idle means no request open: the SDK client's GET stream kept its session alive all along.
      assert.equal((await connected.listTools()).tools.length, 14);
    } finally {
      await connected.close();
    }
  });

  test('every session gone (a restart): mcp-remote starts a new one by itself; the SDK client reports 404', async () => {
    const printed = await cli(['connect', '--client', 'claude-desktop', '--env-file', instance.envFile]);
    assert.equal(printed.exitCode, 0, printed.all);
    const server = Object.values(
      (JSON.parse(printed.stdout) as { mcpServers: Record<string, { command: string; args: string[]; env: Record<string, string> }> }).mcpServers,
    )[0]!;
    // As Claude Desktop launches it; offline, so npx takes this project's pinned mcp-remote.
    const bridge = new StdioClientTransport({
      command: server.command,
      args: server.args,
      env: { ...server.env, npm_config_offline: 'true', MCP_REMOTE_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'mcps-e2e-mcp-remote-')) },
      cwd: projectDir,
      stderr: 'pipe',
    });
    let bridgeLog = '';
    bridge.stderr?.on('data', (chunk) => (bridgeLog += String(chunk)));
    const viaBridge = new Client({ name: 'claude-desktop-like', version: '1' });
    const direct = await connectClient(instance);
    try {
      await viaBridge.connect(bridge);
      assert.equal((await viaBridge.listTools()).tools.length, 14);
      assert.equal((await direct.listTools()).tools.length, 14);

      const restarted = await docker(['restart', instance.name]);
      assert.equal(restarted.exitCode, 0, restarted.stderr);
      await waitFor('the restarted instance to be healthy', async () => ((await healthcheck(instance)).exitCode === 0 ? true : undefined));

      // mcp-remote meets the 404 and re-initializes on its own: the client behind it notices nothing.
      const tools = await waitFor('mcp-remote to serve again', async () => (await viaBridge.listTools()).tools, 30_000);
      assert.equal(tools.length, 14, bridgeLog);
      // The SDK client does not: it reports the 404 and its application must connect again.
      await assert.rejects(direct.listTools(), /404|Session not found/);
      const again = await connectClient(instance);
      assert.equal((await again.listTools()).tools.length, 14);
      await again.close();
    } finally {
      await viaBridge.close();
      await direct.close().catch(() => undefined);
    }
  });

  test("attached mode exits with the container's status when the container dies", async () => {
    rewriteEnv(instance, {});
    await cli(['stop', '--env-file', instance.envFile]);
    const attached = cliBackground(['start', '--env-file', instance.envFile]);
    try {
      await waitFor('the attached container to be healthy', async () => ((await healthcheck(instance)).exitCode === 0 ? true : undefined));
      await docker(['kill', instance.name]);
      const result = await attached;
      assert.equal(result.exitCode, 137, result.all);
      assert.match(result.all ?? '', /exited with status 137/);
    } finally {
      attached.kill('SIGKILL');
    }
  });
});
