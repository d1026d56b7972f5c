/**
 * AUTH=oauth through a tunnel: a pinggy instance reached through the stand-in
 * SSH server (test/fixtures/ssh-stand-in, as in tunnels.test.ts). The edge
 * checks no token in this mode; the auth gateway in the container answers
 * discovery and registration and judges every request before proxying it to
 * the session gateway. The MCP SDK client runs its whole flow against the URL
 * the tunnel published, as a web connector would.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { STAND_IN_USER, standInPinggy } from './ssh-stand-in.js';
import { addressOf, frontDoorItems } from './battery.js';
import { buildAndStart, cli, createInstance, docker, newToken, probeServerDir, publishedUrl, removeInstance, type Instance } from './harness.js';
import { consentingProvider, initializeStatus, openConsent, pkcePair, rawOAuth, redirectParams, submitConsent, type Fetch } from './oauth-client.js';
import { racedConsentPosts } from '../oauth-race.js';

describe('AUTH=oauth through the Pinggy stand-in (steps in order, on one instance)', { timeout: 900_000 }, () => {
  const name = 'mcps-e2e-oauth-pinggy';
  const network = `${name}-net`; // the instance's own network: start reuses it
  const sshd = 'mcps-e2e-oauth-sshd';
  const passphrase = `tunnel passphrase ${newToken().slice(0, 8)}`;
  let instance: Instance;
  let startOutput = '';
  /** The URL the tunnel published (http://SSHD:PORT/mcp), which the resource names. */
  let url = '';
  /** The host cannot resolve the stand-in's name: requests for it go to its address on the test network, URLs unchanged. */
  let fetchVia: Fetch;
  /** The stand-in's address on the test network. */
  let address = '';
  /** A client with the static token through the tunnel, for the front door items. */
  let client: Client | undefined;

  before(async () => {
    const pinggy = await standInPinggy(sshd, name, network);
    await docker(['volume', 'rm', '-f', `${name}-auth`]); // the container that held it is gone now
    instance = await createInstance(name, { ...pinggy, AUTH: 'oauth', OAUTH_OWNER_PASSPHRASE: passphrase, MCP_SERVER: probeServerDir, MCP_SERVER_ARGS: '' });
    startOutput = await buildAndStart(instance);
    url = `${await publishedUrl(name)}/mcp`;
    address = await addressOf(sshd, network);
    fetchVia = ((input: string | URL, init?: RequestInit) => fetch(String(input).replace(`//${sshd}:`, `//${address}:`), init)) as Fetch;
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    if (instance) await removeInstance(instance);
    await docker(['rm', '-f', sshd]);
    await docker(['network', 'rm', network]);
    await docker(['volume', 'rm', '-f', `${name}-auth`]);
  });

  test('start says the edge checks no token now; the stand-in received no bearer option', async () => {
    assert.match(startOutput, /AUTH=oauth: the tunnel's edge no longer checks a token/);
    assert.match(url, new RegExp(`^http://${sshd}:\\d+/mcp$`));
    const sent = (await docker(['exec', sshd, 'cat', `/home/${STAND_IN_USER}/remote-command`])).stdout.trim();
    assert.equal(sent, 'x:https');
  });

  test('without a token: 401 naming the metadata of the URL the tunnel published; the static token passes (control)', async () => {
    const origin = new URL(url).origin;
    const { status, challenge } = await initializeStatus(fetchVia, url);
    assert.equal(status, 401);
    assert.equal(challenge, `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp", scope="mcp"`);
    const metadata = (await (await fetchVia(`${origin}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
    assert.equal(metadata.resource, url);
    assert.equal((await initializeStatus(fetchVia, url, `Bearer ${newToken()}`)).status, 401, 'a wrong static token');
    assert.equal((await initializeStatus(fetchVia, url, `Bearer ${instance.token}`)).status, 200);
  });

  test("the MCP SDK client's own OAuth flow through the tunnel: consent once, then tools/list and a tool call", async () => {
    const origin = new URL(url).origin;
    const provider = consentingProvider(fetchVia, origin, passphrase);
    const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: fetchVia, authProvider: provider });
    await assert.rejects(new Client({ name: 'oauth-tunnel-e2e', version: '1.0.0' }).connect(transport), UnauthorizedError);
    await transport.finishAuth(provider.code!);
    const client = new Client({ name: 'oauth-tunnel-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: fetchVia, authProvider: provider }));
    assert.ok((await client.listTools()).tools.some((t) => t.name === 'echo'));
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'through the tunnel' } });
    assert.match(JSON.stringify(echoed.content), /through the tunnel/);
    await client.close();
  });

  test('refusals at the container: a token in the query string, a revoked token; control: a fresh one passes', async () => {
    const origin = new URL(url).origin;
    const oauth = rawOAuth(fetchVia, origin, url);
    const tokens = await oauth.tokens(passphrase);
    assert.equal((await initializeStatus(fetchVia, url, `Bearer ${tokens.access_token}`)).status, 200);
    assert.equal((await initializeStatus(fetchVia, `${url}?access_token=${tokens.access_token}`)).status, 400);
    const revoked = await cli(['revoke', '--env-file', instance.envFile]);
    assert.equal(revoked.exitCode, 0, revoked.all);
    assert.equal((await initializeStatus(fetchVia, url, `Bearer ${tokens.access_token}`)).status, 401);
  });

  test('the static token opens the instance through the tunnel too (the client of the front door items below)', async () => {
    client = new Client({ name: 'oauth-tunnel-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url), { fetch: fetchVia, requestInit: { headers: { Authorization: `Bearer ${instance.token}` } } }),
    );
    assert.ok((await client.listTools()).tools.some((t) => t.name === 'listen'));
  });

  frontDoorItems(() => ({ client: client!, instance }));

  // Last: it locks the passphrase for every stranger (the tunnel gives all one source) for 15 minutes.
  test('attack: 60 raced consent posts through the tunnel (headers and half a body, then the rest) get at most 5 comparisons; ACCESS_TOKEN still consents', async (t) => {
    const origin = new URL(url).origin;
    const oauth = rawOAuth(fetchVia, origin, url);
    const clientId = await oauth.register();
    const page = await openConsent(fetchVia, oauth.authorizeUrl(clientId, pkcePair().challenge));
    const port = Number(new URL(url).port);
    const statuses = await racedConsentPosts({
      connect: () => net.connect(port, address),
      host: new URL(url).host,
      origin,
      cookie: page.cookie,
      fields: page.fields,
      count: 60,
      secret: (i) => `raced guess ${i}`,
      settle: () => new Promise((resolve) => setTimeout(resolve, 1_500)),
    });
    const compared = statuses.filter((s) => s === 401).length;
    t.diagnostic(`${compared} of 60 secrets compared; statuses ${JSON.stringify(statuses)}`);
    assert.ok(compared <= 5, `${compared} of 60 secrets were compared (${JSON.stringify(statuses)})`);
    assert.equal(statuses.filter((s) => s === 429).length, 60 - compared, JSON.stringify(statuses));
    const locked = await submitConsent(fetchVia, origin, page, passphrase);
    assert.equal(locked.status, 429, 'the passphrase (shorter than 40 characters) waits for the window');
    await locked.body?.cancel();
    const owner = await submitConsent(fetchVia, origin, page, instance.token);
    assert.equal(owner.status, 303, 'the owner is not locked out: ACCESS_TOKEN is compared while the lock holds');
    assert.ok(redirectParams(owner).get('code'));
  });
});
