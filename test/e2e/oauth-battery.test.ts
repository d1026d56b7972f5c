/**
 * The escape battery (docs/SECURITY.md) against an nginx instance with
 * AUTH=oauth: the shared items (battery.ts) unchanged, plus what OAuth adds to
 * defend: the authorization state and the auth gateway's port, out of the MCP
 * server's reach, each beside a positive control.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sandboxBattery, startNginxBattery, stopBattery, type BatteryContext } from './battery.js';
import { callJson, certificateOf, docker, newToken, trustingFetch } from './harness.js';
import { rawOAuth } from './oauth-client.js';

const STATE_DIR = '/var/lib/mcp-sandbox/auth';

describe('escape battery against the nginx template with AUTH=oauth (steps in order, on shared instances)', { timeout: 900_000 }, () => {
  let context: BatteryContext;
  const target = 'mcps-e2e-oauth-battery-target';
  const passphrase = `battery passphrase ${newToken().slice(0, 8)}`;
  let accessToken = '';

  before(async () => {
    await docker(['volume', 'rm', '-f', 'mcps-e2e-oauth-battery-auth']);
    // On an IPv6 network: the front door items (F1, F2) try ::1 and [::] as well.
    context = await startNginxBattery('mcps-e2e-oauth-battery', target, { AUTH: 'oauth', OAUTH_OWNER_PASSPHRASE: passphrase }, undefined, {
      ipv6Subnet: 'fd00:6d63:7073:2::/64',
    });
    // One OAuth flow, so that there is state to defend.
    const { instance } = context;
    const issuer = `https://127.0.0.1:${instance.port}`;
    accessToken = (await rawOAuth(trustingFetch(certificateOf(instance)), issuer, `${issuer}/mcp`).tokens(passphrase)).access_token;
  });

  after(async () => {
    await stopBattery(context, target);
    await docker(['volume', 'rm', '-f', 'mcps-e2e-oauth-battery-auth']);
  });

  sandboxBattery(() => context);

  test('OAuth 1. the authorization state cannot be listed or read by the server; the gateway user can (control)', async () => {
    const listed = await docker(['exec', '--user', 'gateway', context.instance.name, 'ls', '-A', STATE_DIR]);
    assert.equal(listed.exitCode, 0, listed.stderr);
    const files = listed.stdout.split('\n').filter(Boolean);
    assert.ok(files.length > 0, 'the state was written');
    const asGateway = await docker(['exec', '--user', 'gateway', context.instance.name, 'cat', `${STATE_DIR}/${files[0]}`]);
    assert.equal(asGateway.exitCode, 0, 'control: the gateway user reads it');
    assert.ok(!asGateway.stdout.includes(accessToken), 'tokens are kept as hashes only');

    const { client } = context;
    const list = await callJson(client, 'list_dir', { path: STATE_DIR });
    assert.equal(list.ok, false);
    assert.equal(list.code, 'EACCES');
    for (const file of files) {
      const read = await callJson(client, 'read_file', { path: `${STATE_DIR}/${file}` });
      assert.equal(read.ok, false, file);
    }
  });

  test("OAuth 2. the auth gateway's port refuses the server's user; the session gateway's answers it (control)", async () => {
    const { client } = context;
    assert.deepEqual(await callJson(client, 'connect', { host: '127.0.0.1', port: 8000 }), { connected: true });
    const auth = await callJson(client, 'connect', { host: '127.0.0.1', port: 8001 });
    assert.equal(auth.connected, false);
    // Control: the gateway user reaches it (nginx does, on every request without the static token).
    const probe = await docker(['exec', '--user', 'gateway', context.instance.name, 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/8001 && echo CONNECTED']);
    assert.equal(probe.stdout.trim(), 'CONNECTED', probe.stderr);
  });

  test('OAuth 3. the owner passphrase and the OAuth token are nowhere the server can read', async () => {
    const harvest = await callJson<{ procs: Record<string, { cmdline: string | null; environ: string | null }>; contents: Record<string, string> }>(
      context.client,
      'harvest',
    );
    const seen = JSON.stringify(harvest);
    assert.ok(!seen.includes(passphrase), 'the passphrase');
    assert.ok(!seen.includes(accessToken), 'the access token');
    // Control: the harvest does read what the server may see (its own environment).
    assert.ok(seen.includes('visible-to-the-server'), 'the harvest reads its own environment');
  });
});
