/**
 * Foundation, end to end: build the default server (server-filesystem) with the
 * real CLI, start it detached and attached, and talk to it with the MCP SDK over
 * TLS with the token.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findContainerArgs } from '../../package_scripts/docker/argv.js';
import {
  certificateOf,
  cli,
  cliBackground,
  connectClient,
  createInstance,
  docker,
  onEngine,
  removeInstance,
  trustingFetch,
  waitFor,
  type Instance,
} from './harness.js';

describe(onEngine('nginx template with the default MCP server (steps in order, on shared instances)'), { timeout: 600_000 }, () => {
  let instance: Instance;
  const secretText = 'only-the-client-may-read-this-7f3a';

  before(async () => {
    instance = await createInstance('mcps-e2e-fs', { MCP_MOUNTS: './data:/workspace', NPM_MCP_ARGS: '/workspace' });
    mkdirSync(join(instance.dir, 'data'));
    writeFileSync(join(instance.dir, 'data', 'hello.txt'), secretText);
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
  });

  after(async () => {
    if (instance) await removeInstance(instance);
  });

  test('the token is in no image layer and no image setting', async () => {
    const history = await docker(['history', '--no-trunc', `${instance.name}:latest`]);
    const inspect = await docker(['image', 'inspect', `${instance.name}:latest`]);
    assert.equal(history.exitCode, 0);
    assert.equal(inspect.exitCode, 0);
    assert.ok(history.stdout.length > 1000, 'docker history printed the layers');
    assert.ok(!history.stdout.includes(instance.token));
    assert.ok(!inspect.stdout.includes(instance.token));
  });

  test('start -d waits until healthy and prints the URL and certificate fingerprint', async () => {
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    assert.match(started.stdout, new RegExp(`https://127\\.0\\.0\\.1:${instance.port}/mcp`));
    assert.match(started.stdout, /SHA-256: +([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    assert.ok(!started.all.includes(instance.token), 'the token is never printed');
    const state = await docker(['inspect', '--format', '{{.State.Status}} {{.HostConfig.RestartPolicy.Name}}', instance.name]);
    assert.equal(state.stdout, 'running unless-stopped');
  });

  test('an MCP client lists tools and reads a mounted file through TLS with the token', async () => {
    const client = await connectClient(instance);
    try {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      assert.ok(names.includes('list_directory'), `tools: ${names.join(', ')}`);
      const listing = await client.callTool({ name: 'list_directory', arguments: { path: '/workspace' } });
      assert.match(JSON.stringify(listing.content), /hello\.txt/);
      const read = await client.callTool({ name: 'read_text_file', arguments: { path: '/workspace/hello.txt' } });
      assert.match(JSON.stringify(read.content), new RegExp(secretText));
    } finally {
      await client.close();
    }
  });

  test('requests without the token or with a wrong one get 401 with WWW-Authenticate: Bearer', async () => {
    const fetchTrusted = trustingFetch(certificateOf(instance));
    const url = `https://127.0.0.1:${instance.port}/mcp`;
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    for (const authorization of [undefined, `Bearer ${'0'.repeat(64)}`, `Bearer ${instance.token}x`, instance.token]) {
      const response = await fetchTrusted(url, {
        method: 'POST',
        body,
        headers: authorization ? { ...headers, Authorization: authorization } : headers,
      });
      assert.equal(response.status, 401, `Authorization: ${authorization?.slice(0, 12)}...`);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer /);
      await response.text();
    }
    await assert.rejects(connectClient(instance, { token: '1'.repeat(64) }));
  });

  test('the certificate is verified: a client that does not trust it cannot connect', async () => {
    // The machine's public CA bundle: real roots, none of which signed the sandbox's certificate.
    const publicRoots = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
    await assert.rejects(connectClient(instance, { certificate: publicRoots }), /certificate|fetch failed/i);
  });

  test('only the TLS port is published, on 127.0.0.1; port 8000 is not', async () => {
    const ports = await docker(['port', instance.name]);
    assert.equal(ports.stdout.trim(), `8443/tcp -> 127.0.0.1:${instance.port}`);
    const bindings = await docker(['inspect', '--format', '{{json .HostConfig.PortBindings}}', instance.name]);
    assert.ok(!bindings.stdout.includes('8000'));
  });

  test('no secret on the container command line and no message body in the logs', async () => {
    const config = await docker(['inspect', '--format', '{{json .Path}} {{json .Args}} {{json .Config.Cmd}} {{json .Config.Entrypoint}}', instance.name]);
    assert.ok(!config.stdout.includes(instance.token));
    const logs = await docker(['logs', instance.name]);
    const all = logs.stdout + logs.stderr;
    assert.match(all, /Listening on port 8000/);
    assert.ok(!all.includes(instance.token), 'token in logs');
    assert.ok(!all.includes(secretText), 'file contents (a JSON-RPC body) in logs');
  });

  test('stop removes the container, then says there is nothing to stop', async () => {
    const stopped = await cli(['stop', '--env-file', instance.envFile]);
    assert.equal(stopped.exitCode, 0, stopped.all);
    const gone = await docker(findContainerArgs(instance.name));
    assert.equal(gone.stdout.trim(), '');
    const again = await cli(['stop', '--env-file', instance.envFile]);
    assert.equal(again.exitCode, 0);
    assert.match(again.stdout, /Nothing to stop/);
  });

  test('attached mode serves until Ctrl-C, then the container is gone', async () => {
    const attached = cliBackground(['start', '--env-file', instance.envFile]);
    try {
      await waitFor('the attached container to answer', async () => {
        const probe = await docker(['exec', instance.name, '/opt/sandbox/bin/healthcheck']);
        return probe.exitCode === 0 ? true : undefined;
      });
      const client = await connectClient(instance);
      const { tools } = await client.listTools();
      assert.ok(tools.length > 0);
      await client.close();
      attached.kill('SIGINT');
      const result = await attached;
      // Ctrl-C stops the container cleanly, and the command says so with 0.
      assert.equal(result.exitCode, 0, result.all);
      assert.match(result.all ?? '', /Listening on port 8000/, 'logs were streamed');
      const gone = await docker(findContainerArgs(instance.name));
      assert.equal(gone.stdout.trim(), '', 'attached runs leave no container behind');
    } finally {
      attached.kill('SIGKILL');
    }
  });
});
