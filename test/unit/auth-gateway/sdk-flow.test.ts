/**
 * The MCP SDK client's own OAuth support against the auth gateway in tunnel
 * (proxy) mode, in-process: 401, discovery, registration, authorize (the
 * provider submits the consent form it fetched, as a person would), token,
 * tools/list through the streaming proxy to a real MCP server, then a refresh
 * forced by moving the gateway's clock past the access token's lifetime.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ConsentingProvider } from '../../oauth-client-kit.js';
import { consent, type Gateway, OWNER_TOKEN, PASSPHRASE, type ProxyingGateway, REDIRECT, startProxyingGateway } from './http-fixture.js';

/** The shared provider, consenting in-process and checking what the redirect carries. */
function consentingProvider(gw: Gateway, secret: string, method: string): ConsentingProvider {
  return new ConsentingProvider({
    metadata: { client_name: 'SDK test client', token_endpoint_auth_method: method },
    state: 'sdk-state',
    async consent(url) {
      const answer = await consent(gw, url.href, secret);
      assert.equal(answer.status, 303, 'See Other after the POST');
      const location = new URL(answer.headers.get('location')!);
      assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
      assert.equal(location.searchParams.get('state'), 'sdk-state');
      assert.equal(location.searchParams.get('iss'), gw.issuer);
      return location.searchParams.get('code') ?? '';
    },
  });
}

describe('the MCP SDK client through the auth gateway (tunnel mode)', () => {
  let gw: ProxyingGateway;
  before(async () => (gw = await startProxyingGateway()));
  after(() => gw.close());

  const connect = async (provider: ConsentingProvider) => {
    const transport = new StreamableHTTPClientTransport(new URL(gw.resource), { authProvider: provider });
    const client = new Client({ name: 'sdk-oauth-test', version: '1.0.0' });
    await client.connect(transport);
    return { client, transport };
  };

  // A public client (the default of mcp-remote and the Inspector), and the two kinds of confidential client.
  for (const [name, secret, method] of [
    ['ACCESS_TOKEN', OWNER_TOKEN, 'none'],
    ['OAUTH_OWNER_PASSPHRASE', PASSPHRASE, 'client_secret_post'],
    ['ACCESS_TOKEN', OWNER_TOKEN, 'client_secret_basic'],
  ] as const) {
    it(`runs the whole flow with ${name} as the owner secret, as a ${method} client, then refreshes`, async () => {
      const provider = consentingProvider(gw, secret, method);
      const firstTransport = new StreamableHTTPClientTransport(new URL(gw.resource), { authProvider: provider });
      await assert.rejects(new Client({ name: 'sdk-oauth-test', version: '1.0.0' }).connect(firstTransport), UnauthorizedError);
      assert.equal(provider.redirects.length, 1, 'sent to the consent page once');
      assert.equal(provider.redirects[0]!.searchParams.get('resource'), gw.resource);
      const information = provider.clientInformation() as { token_endpoint_auth_method?: string; client_secret?: string };
      assert.equal(information.token_endpoint_auth_method, method);
      assert.equal(typeof information.client_secret, method === 'none' ? 'undefined' : 'string');
      assert.ok(provider.code);
      await firstTransport.finishAuth(provider.code);
      assert.equal(provider.saved.length, 1);
      assert.equal(provider.saved[0]!.token_type, 'Bearer');

      const { client } = await connect(provider);
      const tools = await client.listTools();
      assert.deepEqual(
        tools.tools.map((t) => t.name),
        ['ping'],
      );
      // The MCP server never sees a token or the gateway's cookie.
      assert.ok(gw.upstream.seen.length > 0);
      assert.ok(gw.upstream.seen.every((headers) => headers.authorization === undefined && headers.cookie === undefined));

      // The access token expires; the SDK gets a 401 and uses its refresh token.
      gw.advance(901_000);
      const result = await client.callTool({ name: 'ping', arguments: {} });
      assert.deepEqual(result.content, [{ type: 'text', text: 'pong' }]);
      assert.equal(provider.saved.length, 2, 'refreshed once');
      assert.notEqual(provider.saved[1]!.access_token, provider.saved[0]!.access_token);
      assert.notEqual(provider.saved[1]!.refresh_token, provider.saved[0]!.refresh_token, 'rotated');
      assert.equal(provider.redirects.length, 1, 'no second consent');
      const again = await client.listTools();
      assert.equal(again.tools.length, 1);
      await client.close();

      assert.ok(gw.logs.some((line) => /^registered (confidential )?client \S+ "SDK test client"$/.test(line)));
      assert.ok(gw.logs.some((line) => /^consent granted to /.test(line)));
      const secrets = [
        OWNER_TOKEN,
        PASSPHRASE,
        information.client_secret ?? OWNER_TOKEN,
        provider.code,
        provider.verifier,
        ...provider.saved.flatMap((t) => [t.access_token, t.refresh_token ?? '']),
      ];
      for (const line of gw.logs) for (const s of secrets) assert.ok(!line.includes(s), `no secret in the log: ${line}`);
    });
  }
});
