/**
 * The escape battery (docs/SECURITY.md): the probe server runs as the sandboxed
 * MCP server and tries each escape through the real gateway. Every network
 * target is a container this test starts on a network it created.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  callJson,
  certificateOf,
  cli,
  connectClient,
  createInstance,
  docker,
  newToken,
  probeServerDir,
  removeInstance,
  trustingFetch,
  type Instance,
} from './harness.js';

const TARGET_IMAGE = 'node:22-bookworm-slim';
// A client that resets the connection must not crash the listener.
const LISTENER = "require('net').createServer((s) => { s.on('error', () => {}); s.end('hello'); }).listen(7000)";
const CONNECT = (host: string, port: number) =>
  `const s=require('net').connect(${port},'${host}');s.setTimeout(3000,()=>{console.log('TIMEOUT');process.exit()});s.on('connect',()=>{console.log('CONNECTED');process.exit()});s.on('error',(e)=>{console.log(e.code);process.exit()})`;

async function startTarget(name: string, network: string) {
  await docker(['rm', '-f', name]);
  const started = await docker(['run', '-d', '--name', name, '--network', network, '--network-alias', name, TARGET_IMAGE, 'node', '-e', LISTENER]);
  assert.equal(started.exitCode, 0, started.stderr);
}

async function addressOf(container: string, network: string): Promise<string> {
  const inspected = await docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container]);
  assert.match(inspected.stdout.trim(), /^\d+\.\d+\.\d+\.\d+$/, `${container} on ${network}: ${inspected.stderr}`);
  return inspected.stdout.trim();
}

/** A control container on the same network: proves a target is reachable when the sandbox says it is not. */
async function connectFromNeighbour(network: string, host: string, port: number): Promise<string> {
  const result = await docker(['run', '--rm', '--network', network, TARGET_IMAGE, 'node', '-e', CONNECT(host, port)]);
  return result.stdout.trim();
}

describe('escape battery against the nginx template', { timeout: 900_000 }, () => {
  let instance: Instance;
  let client: Client;
  const network = 'mcps-e2e-probe-net';
  const secretVar = `not-for-the-server-${newToken().slice(0, 12)}`;
  const tunnelToken = newToken();

  before(async () => {
    instance = await createInstance('mcps-e2e-probe', {
      NPM_MCP: probeServerDir,
      NPM_MCP_ARGS: '',
      MCP_MOUNTS: './ro:/workspace/ro,./rw:/workspace/rw:rw',
      MCP_ENV: 'ALLOWED_VAR',
      ALLOWED_VAR: 'visible-to-the-server',
      SECRET_VAR: secretVar,
      NGROK_AUTHTOKEN: tunnelToken,
      PINGGY_ACCESS_TOKEN: tunnelToken,
      MCP_EGRESS: 'none',
      MCP_MEMORY: '256m',
      MCP_PIDS: '64',
      ALLOWED_ORIGINS: 'https://allowed.example',
    });
    mkdirSync(join(instance.dir, 'ro'));
    mkdirSync(join(instance.dir, 'rw'));
    chmodSync(join(instance.dir, 'rw'), 0o777); // the server writes as uid 10002
    writeFileSync(join(instance.dir, 'ro', 'readable.txt'), 'mounted read-only');
    writeFileSync(join(instance.dir, 'unmounted.txt'), 'never mounted');
    await docker(['network', 'rm', network]);
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    await startTarget('mcps-e2e-target', network);
    client = await connectClient(instance);
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await docker(['rm', '-f', 'mcps-e2e-target']);
    if (instance) await removeInstance(instance);
  });

  test('the legitimate paths work: tools, the read-only mount, the writable mount, /tmp', async () => {
    const read = await callJson(client, 'read_file', { path: '/workspace/ro/readable.txt' });
    assert.deepEqual(read, { ok: true, value: 'mounted read-only' });
    assert.equal((await callJson(client, 'write_file', { path: '/workspace/rw/out.txt', content: 'x' })).ok, true);
    assert.equal((await callJson(client, 'write_file', { path: '/tmp/scratch.txt', content: 'x' })).ok, true);
  });

  test('1. a host file that was not mounted cannot be read', async () => {
    for (const path of [join(instance.dir, 'unmounted.txt'), instance.envFile, '/etc/shadow', '/root/.bashrc']) {
      const result = await callJson(client, 'read_file', { path });
      assert.equal(result.ok, false, path);
    }
  });

  test('2. a read-only mount cannot be written', async () => {
    const result = await callJson(client, 'write_file', { path: '/workspace/ro/readable.txt', content: 'changed' });
    assert.equal(result.ok, false);
    assert.equal(result.code, 'EROFS');
  });

  test('3. the root filesystem cannot be written', async () => {
    for (const path of ['/etc/evil', '/usr/local/bin/mcp-server', '/opt/sandbox/bin/entrypoint', '/workspace/new.txt', '/evil']) {
      const result = await callJson(client, 'write_file', { path, content: 'x' });
      assert.equal(result.ok, false, path);
    }
  });

  test('4. the access token and tunnel tokens are nowhere the server can read', async () => {
    const harvest = await callJson<{ procs: Record<string, { cmdline: string | null; environ: string | null }>; contents: Record<string, string> }>(
      client,
      'harvest',
    );
    const readable = JSON.stringify(harvest);
    assert.ok(Object.keys(harvest.procs).length >= 5, 'the probe saw the other processes');
    assert.ok(Object.keys(harvest.contents).length > 10, 'the probe read files');
    assert.ok(!readable.includes(instance.token), 'access token readable by the server');
    assert.ok(!readable.includes(tunnelToken), 'tunnel token readable by the server');
    const nginxEnviron = Object.values(harvest.procs).filter((p) => p.cmdline?.startsWith('nginx'));
    assert.ok(nginxEnviron.length > 0 && nginxEnviron.every((p) => p.environ === null), "the gateway's environment is unreadable");
  });

  test('5. only the variables named in MCP_ENV reach the server', async () => {
    const { env } = await callJson<{ env: Record<string, string> }>(client, 'environment');
    assert.equal(env.ALLOWED_VAR, 'visible-to-the-server');
    for (const name of ['SECRET_VAR', 'ACCESS_TOKEN', 'NGROK_AUTHTOKEN', 'PINGGY_ACCESS_TOKEN', 'NPM_MCP_ARGS', 'MCP_EGRESS', 'LOG_LEVEL']) {
      assert.equal(env[name], undefined, name);
    }
    assert.ok(!JSON.stringify(env).includes(secretVar));
    const unexpected = Object.keys(env).filter((k) => !['ALLOWED_VAR', 'PATH', 'HOME', 'PWD', 'SHLVL', '_'].includes(k));
    assert.deepEqual(unexpected, []);
  });

  test('6. the server cannot become root', async () => {
    const result = await callJson(client, 'become_root');
    assert.equal(result.uid, 10002);
    assert.equal(result.euid, 10002);
    assert.equal(result.attempts.setuid.ok, false);
    assert.notEqual(result.attempts.sudo.status, 0);
    assert.notEqual(result.attempts.su.status, 0);
    assert.ok(result.setuidBinaries.length > 0, 'the image has setuid binaries to try');
    assert.deepEqual(result.escalated, []);
  });

  test('7. no capability at all: no raw socket (CAP_NET_RAW), no new privileges', async () => {
    const { status } = await callJson(client, 'identity');
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(status[set], '0000000000000000', set);
    assert.equal(status.NoNewPrivs, '1');
  });

  test('8. MCP_EGRESS=none: no connection out, while a neighbour reaches the same host', async () => {
    assert.equal(await connectFromNeighbour(network, 'mcps-e2e-target', 7000), 'CONNECTED');
    const result = await callJson(client, 'connect', { host: await addressOf('mcps-e2e-target', network), port: 7000 });
    assert.equal(result.connected, false);
  });

  test('9. MCP_EGRESS=none: names do not resolve', async () => {
    const result = await callJson(client, 'resolve', { name: 'mcps-e2e-target' });
    assert.equal(result.ok, false);
  });

  test('11. port 8000 is closed to a neighbouring container; the TLS port is open', async () => {
    assert.equal(await connectFromNeighbour(network, instance.name, 8443), 'CONNECTED');
    assert.notEqual(await connectFromNeighbour(network, instance.name, 8000), 'CONNECTED');
  });

  test('14. no Docker socket and no host process in view', async () => {
    const view = await callJson(client, 'host_view');
    assert.deepEqual(view.sockets, []);
    assert.ok(view.processCount < 40, `${view.processCount} processes visible`);
    assert.ok(!view.commands.includes('dockerd') && !view.commands.includes('containerd'));
  });

  test('Origin: an unexpected one gets 403, an allowed one and none pass', async () => {
    const fetchTrusted = trustingFetch(certificateOf(instance));
    const send = (origin?: string) =>
      fetchTrusted(`https://127.0.0.1:${instance.port}/mcp`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${instance.token}`,
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          ...(origin ? { Origin: origin } : {}),
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'o', version: '1' } } }),
      });
    const evil = await send('https://evil.example');
    assert.equal(evil.status, 403);
    await evil.text();
    for (const origin of ['https://allowed.example', undefined]) {
      const ok = await send(origin);
      assert.equal(ok.status, 200, String(origin));
      await ok.body?.cancel();
    }
  });

  test('brute force: repeated 401s are slowed and refused, a client with the token is not', async () => {
    const fetchTrusted = trustingFetch(certificateOf(instance));
    const url = `https://127.0.0.1:${instance.port}/mcp`;
    const statuses: number[] = [];
    const attempts = Array.from({ length: 40 }, () =>
      fetchTrusted(url, { method: 'POST', headers: { Authorization: `Bearer ${newToken()}` }, body: '{}' }).then(async (r) => {
        statuses.push(r.status);
        await r.text();
      }),
    );
    const timer = Date.now();
    const authorized = await callJson(client, 'echo', { text: 'still fast' });
    const authorizedMs = Date.now() - timer;
    await Promise.all(attempts);
    assert.deepEqual(authorized, { text: 'still fast' });
    assert.ok(statuses.includes(429), `statuses: ${statuses.join(',')}`);
    assert.ok(statuses.every((s) => s === 401 || s === 429));
    assert.ok(authorizedMs < 2000, `the token holder waited ${authorizedMs} ms`);
  });

  test('12. fork bomb: the pids limit holds and the gateway keeps answering', async () => {
    const result = await callJson(client, 'fork_bomb', { count: 500 }, 120_000);
    assert.ok(result.started < 64, `${result.started} processes started`);
    assert.equal(result.failure, 'EAGAIN');
    const fresh = await connectClient(instance);
    assert.deepEqual(await callJson(fresh, 'echo', { text: 'alive' }), { text: 'alive' });
    await fresh.close();
  });

  test('13. memory balloon: the limit holds and the instance recovers', async () => {
    const result = await callJson(client, 'balloon', { mb: 2048 }, 120_000);
    assert.equal(result.allocated, false);
    assert.equal(result.signal, 'SIGKILL');
    const fresh = await connectClient(instance);
    assert.deepEqual(await callJson(fresh, 'echo', { text: 'alive' }), { text: 'alive' });
    await fresh.close();
    const state = await docker(['inspect', '--format', '{{.State.Status}} {{.RestartCount}}', instance.name]);
    assert.equal(state.stdout, 'running 0');
  });
});

describe('escape battery: MCP_EGRESS allowlist', { timeout: 600_000 }, () => {
  let instance: Instance;
  let client: Client;
  let network: string;
  let allowedAddress: string;
  let forbiddenAddress: string;

  before(async () => {
    network = 'mcps-e2e-allow-net';
    // The instance network exists before start (start reuses it), so the
    // allowlisted host has an address to put in MCP_EGRESS.
    await docker(['network', 'rm', network]);
    assert.equal((await docker(['network', 'create', network])).exitCode, 0);
    await startTarget('mcps-e2e-allowed', network);
    await startTarget('mcps-e2e-forbidden', network);
    allowedAddress = await addressOf('mcps-e2e-allowed', network);
    forbiddenAddress = await addressOf('mcps-e2e-forbidden', network);
    instance = await createInstance('mcps-e2e-allow', {
      NPM_MCP: probeServerDir,
      NPM_MCP_ARGS: '',
      MCP_EGRESS: `${allowedAddress}:7000`,
    });
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    client = await connectClient(instance);
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await docker(['rm', '-f', 'mcps-e2e-allowed', 'mcps-e2e-forbidden']);
    if (instance) await removeInstance(instance);
  });

  test('10. the allowlisted host and port are reachable, another host or port is not', async () => {
    assert.equal(await connectFromNeighbour(network, 'mcps-e2e-forbidden', 7000), 'CONNECTED');
    assert.deepEqual(await callJson(client, 'connect', { host: allowedAddress, port: 7000 }), { connected: true });
    assert.equal((await callJson(client, 'connect', { host: forbiddenAddress, port: 7000 })).connected, false);
    assert.equal((await callJson(client, 'connect', { host: allowedAddress, port: 7001 })).connected, false);
  });

  test('9b. with an allowlist, DNS stays closed', async () => {
    assert.equal((await callJson(client, 'resolve', { name: 'mcps-e2e-forbidden' })).ok, false);
  });
});
