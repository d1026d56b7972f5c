/**
 * The tool policy end to end (issue 25): the probe server built by the real CLI
 * behind nginx, the MCP SDK client with AUTH=bearer and then with AUTH=oauth
 * (the SDK's own OAuth flow). Withheld tools are not listed and a call of one is
 * refused by the session gateway with an error naming the setting, beside the
 * allowed tools, which are listed and answer; an entry matching no tool is
 * warned about in the log; a bad list stops `start` (exit 2) before any container.
 * The same policy through a tunnel: the pinggy template dialling the SSH stand-in.
 * The JSON-RPC details (every page, list_changed, the call never reaching the
 * server) are shown in process: test/unit/session-gateway/tool-policy.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  certificateOf,
  cli,
  connectClient,
  createInstance,
  docker,
  buildAndStart,
  newToken,
  probeServerDir,
  publishedUrl,
  removeInstance,
  trustingFetch,
  type Instance,
} from './harness.js';
import { consentingProvider, type Fetch } from './oauth-client.js';
import { addressOf } from './battery.js';
import { standInPinggy } from './ssh-stand-in.js';

const PASSPHRASE = `owner passphrase ${newToken().slice(0, 8)}`;

describe('tool policy (MCP_TOOLS, MCP_TOOLS_DENY) through nginx, both AUTH modes', { timeout: 900_000 }, () => {
  let instance: Instance;

  const restartWith = async (changes: Record<string, string>) => {
    let text = readFileSync(instance.envFile, 'utf8');
    for (const [name, value] of Object.entries(changes)) {
      text = new RegExp(`^${name}=`, 'm').test(text) ? text.replace(new RegExp(`^${name}=.*$`, 'm'), `${name}=${value}`) : `${text}${name}=${value}\n`;
    }
    writeFileSync(instance.envFile, text, { mode: 0o600 });
    return cli(['start', '-d', '--env-file', instance.envFile]);
  };
  const toolNames = async (client: Client) => (await client.listTools()).tools.map((t) => t.name).sort();
  const logs = async () => {
    const result = await docker(['logs', instance.name]);
    return result.stdout + result.stderr;
  };

  before(async () => {
    instance = await createInstance('mcps-e2e-tools', {
      MCP_SERVER: probeServerDir,
      MCP_SERVER_ARGS: '',
      MCP_TOOLS_DENY: 'signal_parent,write_*,delete_repository',
      OAUTH_OWNER_PASSPHRASE: PASSPHRASE,
    });
    await docker(['volume', 'rm', '-f', `${instance.name}-auth`]);
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    // start repeats the gateway's warning: a typo in a deny list must not pass silently.
    assert.match(started.all, /MCP_TOOLS_DENY 'delete_repository' matches no tool of this server/);
    assert.ok(!/'write_\*' match/.test(started.all), 'an entry that matches a tool is not warned about');
  });

  after(async () => {
    if (!instance) return;
    await removeInstance(instance);
    await docker(['volume', 'rm', '-f', `${instance.name}-auth`]);
  });

  test('AUTH=bearer, a deny list: denied tools are not listed and their calls are refused naming MCP_TOOLS_DENY; the rest answer', async () => {
    const client = await connectClient(instance);
    try {
      const names = await toolNames(client);
      assert.ok(!names.includes('signal_parent') && !names.includes('write_file'), names.join(','));
      assert.ok(
        ['echo', 'read_file', 'parent_memory', 'list_dir'].every((n) => names.includes(n)),
        `control: the others are listed: ${names.join(',')}`,
      );
      await assert.rejects(
        client.callTool({ name: 'write_file', arguments: { path: '/tmp/x', content: 'y' } }),
        /-32602.*Tool 'write_file' is withheld by this sandbox's tool policy: MCP_TOOLS_DENY matches it \('write_\*'\)/,
      );
      await assert.rejects(client.callTool({ name: 'signal_parent', arguments: {} }), /MCP_TOOLS_DENY matches it \('signal_parent'\)/);
      const echoed = await client.callTool({ name: 'echo', arguments: { text: 'allowed' } });
      assert.match(JSON.stringify(echoed.content), /allowed/, 'control: an allowed tool answers');
    } finally {
      await client.close();
    }
    const log = await logs();
    assert.match(log, /\[gateway\] session [0-9a-f]{8}: refused a call of 'write_file' \(tool policy: MCP_TOOLS_DENY matches it/);
    assert.match(log, /\[gateway\] warning: MCP_TOOLS_DENY 'delete_repository' matches no tool of this server \(its tools: echo, /);
    assert.ok(!/MCP_TOOLS_DENY 'write_\*' match/.test(log), 'an entry that matches a tool is not warned about (control)');
  });

  test('a bad entry stops start with exit 2 naming the setting, and the running instance is left alone', async () => {
    const started = await restartWith({ MCP_TOOLS: 'echo;rm -rf /' });
    assert.equal(started.exitCode, 2, started.all);
    assert.match(started.all, /MCP_TOOLS has 'echo;rm -rf \/', which is not a tool name or pattern/);
    const client = await connectClient(instance);
    try {
      assert.ok((await toolNames(client)).includes('echo'), 'the instance still serves as before');
    } finally {
      await client.close();
    }
  });

  test("AUTH=oauth, an allow list with a glob: only its tools are listed through the SDK's OAuth flow; another is refused naming MCP_TOOLS", async () => {
    const started = await restartWith({ AUTH: 'oauth', MCP_TOOLS: 'echo,parent_*', MCP_TOOLS_DENY: '' });
    assert.equal(started.exitCode, 0, started.all);
    const fetchTrusted = trustingFetch(certificateOf(instance));
    const issuer = `https://127.0.0.1:${instance.port}`;
    const provider = consentingProvider(fetchTrusted, issuer, PASSPHRASE);
    const first = new Client({ name: 'tools-oauth-e2e', version: '1.0.0' });
    const authTransport = new StreamableHTTPClientTransport(new URL(`${issuer}/mcp`), { fetch: fetchTrusted, authProvider: provider });
    await assert.rejects(first.connect(authTransport), UnauthorizedError);
    await authTransport.finishAuth(provider.code!);
    const client = new Client({ name: 'tools-oauth-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${issuer}/mcp`), { fetch: fetchTrusted, authProvider: provider }));
    try {
      assert.deepEqual(await toolNames(client), ['echo', 'parent_memory']);
      await assert.rejects(
        client.callTool({ name: 'read_file', arguments: { path: '/etc/hostname' } }),
        /Tool 'read_file' is withheld by this sandbox's tool policy: MCP_TOOLS does not list it/,
      );
      const echoed = await client.callTool({ name: 'echo', arguments: { text: 'oauth allowed' } });
      assert.match(JSON.stringify(echoed.content), /oauth allowed/);
    } finally {
      await client.close();
    }
    // The static token too is held to the same policy: it is the session gateway's, not nginx's.
    const staticClient = await connectClient(instance);
    try {
      assert.deepEqual(await toolNames(staticClient), ['echo', 'parent_memory']);
    } finally {
      await staticClient.close();
    }
    assert.ok(!/MCP_TOOLS 'parent_\*' match/.test(await logs()), 'an allow entry that matches a tool is not warned about');
  });
});

describe('tool policy through a tunnel (pinggy, the SSH stand-in)', { timeout: 900_000 }, () => {
  const name = 'mcps-e2e-tools-pinggy';
  const network = `${name}-net`;
  const sshd = 'mcps-e2e-tools-sshd';
  let instance: Instance;
  let client: Client;

  before(async () => {
    const pinggy = await standInPinggy(sshd, name, network);
    instance = await createInstance(name, {
      ...pinggy,
      MCP_SERVER: probeServerDir,
      MCP_SERVER_ARGS: '',
      MCP_TOOLS: 'echo,read_*',
      MCP_TOOLS_DENY: 'read_secret*',
    });
    await buildAndStart(instance);
    const url = `${await publishedUrl(name)}/mcp`;
    const address = await addressOf(sshd, network);
    // The host cannot resolve the stand-in's name: requests go to its address, URLs unchanged.
    const fetchVia = ((input: string | URL, init?: RequestInit) => fetch(String(input).replace(`//${sshd}:`, `//${address}:`), init)) as Fetch;
    client = new Client({ name: 'tools-tunnel-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url), { fetch: fetchVia, requestInit: { headers: { Authorization: `Bearer ${instance.token}` } } }),
    );
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    if (instance) await removeInstance(instance);
    await docker(['rm', '-f', sshd]);
    await docker(['network', 'rm', network]);
  });

  test('only the allowed tools are listed and answer; another is refused naming MCP_TOOLS', async () => {
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['echo', 'read_file']);
    await assert.rejects(
      client.callTool({ name: 'list_dir', arguments: { path: '/' } }),
      /Tool 'list_dir' is withheld by this sandbox's tool policy: MCP_TOOLS does not list it/,
    );
    assert.match(JSON.stringify((await client.callTool({ name: 'echo', arguments: { text: 'through the tunnel' } })).content), /through the tunnel/);
    const logs = await docker(['logs', name]);
    assert.match(logs.stdout + logs.stderr, /warning: MCP_TOOLS_DENY 'read_secret\*' matches no tool of this server/);
  });
});
