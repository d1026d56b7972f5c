/**
 * Issue 28's attacks on the auth gateway, in-process on the real handler, each
 * beside its positive control: parallel consent guesses racing the limiter,
 * strangers locking out the owner, and redirects before the owner trusted a client.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  authorizeParams,
  type Gateway,
  getAuthorize,
  mcpPost,
  OWNER_TOKEN,
  parseConsentPage,
  PASSPHRASE,
  pkcePair,
  postConsent,
  type ProxyingGateway,
  REDIRECT,
  register,
  startAuthGateway,
  startProxyingGateway,
  startUpstream,
  tokensFor,
} from './http-fixture.js';
import { racedConsentPosts } from '../../oauth-race.js';

/** A consent page's form for a fresh client, with its cookie. */
async function consentForm(gw: Gateway) {
  const client = await register(gw);
  const res = await getAuthorize(gw, authorizeParams(client.client_id, pkcePair().challenge));
  assert.equal(res.status, 200);
  const { fields, cookie } = parseConsentPage(await res.text(), res.headers.get('set-cookie'));
  return { client, fields, cookie: cookie! };
}

describe('attack: parallel consent guesses race the wrong-secret limit', () => {
  let gw: ProxyingGateway;
  before(async () => (gw = await startProxyingGateway()));
  after(() => gw.close());

  it('60 posts that send their headers and part of the body, then the rest, get at most 5 comparisons (401s)', async (t) => {
    const { fields, cookie } = await consentForm(gw);
    const url = new URL(gw.base);
    let arrived = 0;
    gw.gateway.server.on('request', (req: { method: string }) => (arrived += req.method === 'POST' ? 1 : 0));
    const statuses = await racedConsentPosts({
      connect: () => net.connect(Number(url.port), url.hostname),
      host: url.host,
      origin: gw.issuer,
      cookie,
      fields,
      count: 60,
      secret: (i) => `wrong guess ${i}`,
      // Every request's headers have reached the handler before any body is complete.
      settle: async () => {
        while (arrived < 60) await new Promise((resolve) => setTimeout(resolve, 10));
      },
    });
    const compared = statuses.filter((s) => s === 401).length;
    t.diagnostic(`${compared} of 60 secrets compared; statuses ${JSON.stringify(statuses)}`);
    assert.ok(compared <= 5, `${compared} of 60 secrets were compared (statuses ${JSON.stringify(statuses)})`);
    assert.equal(statuses.filter((s) => s === 429).length, 60 - compared, 'the rest are refused by the lock');
    // Control: the owner's ACCESS_TOKEN still consents while the lock holds.
    const owner = await postConsent(gw, { ...fields, owner_secret: OWNER_TOKEN, decision: 'allow' }, { cookie });
    assert.equal(owner.status, 303);
    assert.ok(new URL(owner.headers.get('location')!).searchParams.get('code'));
  });
});

describe('attack: strangers lock out the owner or push out a connector (tunnel mode: one source for all)', () => {
  let gw: ProxyingGateway;
  before(async () => (gw = await startProxyingGateway()));
  after(() => gw.close());

  it('60 registrations by a stranger close registration for nobody; a connector registers and consents after them', async () => {
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${gw.base}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_name: `flood ${i}`, redirect_uris: ['https://evil.example/cb'] }),
      });
      assert.equal(res.status, 201, `registration ${i}`);
    }
    const { client, fields, cookie } = await consentForm(gw);
    const res = await postConsent(gw, { ...fields, owner_secret: PASSPHRASE, decision: 'allow' }, { cookie });
    assert.equal(res.status, 303);
    assert.ok(gw.gateway.store.getClient(client.client_id).used_at);
  });

  it('a consented client survives a flood of 300 registrations; one still waiting for consent expires after 10 minutes', async () => {
    const { client, fields, cookie } = await consentForm(gw);
    assert.equal((await postConsent(gw, { ...fields, owner_secret: PASSPHRASE, decision: 'allow' }, { cookie })).status, 303);
    const waiting = await register(gw);
    for (let i = 0; i < 300; i++) gw.gateway.store.registerClient({ client_name: `flood ${i}`, redirect_uris: ['https://evil.example/cb'] });
    const again = await getAuthorize(gw, authorizeParams(client.client_id, pkcePair().challenge));
    assert.equal(again.status, 200, 'the consented client is still known');
    const fresh = await register(gw);
    assert.equal((await getAuthorize(gw, authorizeParams(fresh.client_id, pkcePair().challenge))).status, 200, 'control: a new one is known');
    gw.advance(10 * 60_000);
    assert.equal((await getAuthorize(gw, authorizeParams(fresh.client_id, pkcePair().challenge))).status, 400, 'expired while waiting');
    assert.equal((await getAuthorize(gw, authorizeParams(waiting.client_id, pkcePair().challenge))).status, 400);
  });

  it('20 wrong secrets lock the passphrase for everyone; the owner still consents with ACCESS_TOKEN', async () => {
    const { fields, cookie } = await consentForm(gw);
    for (let i = 0; i < 20; i++) await postConsent(gw, { ...fields, owner_secret: `guess ${i}`, decision: 'allow' }, { cookie });
    const locked = await postConsent(gw, { ...fields, owner_secret: PASSPHRASE, decision: 'allow' }, { cookie });
    assert.equal(locked.status, 429, 'a short passphrase waits for the window');
    assert.match(await locked.text(), /only ACCESS_TOKEN/);
    const owner = await postConsent(gw, { ...fields, owner_secret: OWNER_TOKEN, decision: 'allow' }, { cookie });
    assert.equal(owner.status, 303);
    gw.advance(15 * 60_000);
  });
});

describe('attack: the authorization endpoint as an open redirector', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startAuthGateway();
  });
  after(() => gw.close());

  const evil = 'https://evil.example/cb?next=<b>"x"</b>';

  it('a fresh registration with a stranger’s redirect URI gets a page naming it, escaped, never a 302', async () => {
    const client = await register(gw, { client_name: 'phish', redirect_uris: [evil] });
    for (const extra of [{ response_type: 'token' }, { code_challenge_method: 'plain' }, { scope: 'admin' }] as Record<string, string>[]) {
      const res = await getAuthorize(gw, authorizeParams(client.client_id, pkcePair().challenge, { redirect_uri: evil, ...extra }));
      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.equal(res.headers.get('location'), null);
      const html = await res.text();
      assert.ok(html.includes('https://evil.example/cb?next=&lt;b&gt;&quot;x&quot;&lt;/b&gt;'), 'the target written out, escaped');
      assert.ok(!html.includes('<b>"x"</b>') && !html.includes('href='), 'not as markup, not as a link');
    }
  });

  it('control: once the owner consented to the client, an error goes back by redirect as the spec wants', async () => {
    const client = await register(gw);
    const res = await getAuthorize(gw, authorizeParams(client.client_id, pkcePair().challenge));
    const { fields, cookie } = parseConsentPage(await res.text(), res.headers.get('set-cookie'));
    assert.equal((await postConsent(gw, { ...fields, owner_secret: OWNER_TOKEN, decision: 'allow' }, { cookie })).status, 303);
    const error = await getAuthorize(gw, authorizeParams(client.client_id, pkcePair().challenge, { response_type: 'token' }));
    assert.equal(error.status, 302);
    const location = new URL(error.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
    assert.equal(location.searchParams.get('error'), 'unsupported_response_type');
  });
});

describe('attack: slow requests and connection floods on the tunnel-facing server', () => {
  let gw: ProxyingGateway;
  before(async () => (gw = await startProxyingGateway({ options: { deadlines: { headersMs: 400, requestMs: 800, checkMs: 100 }, maxConnections: 4 } })));
  after(() => gw.close());

  /** A raw connection: resolves with what it received once the server closed it, or 'open' after `waitMs`. */
  const hold = (write: string, waitMs: number) =>
    new Promise<string>((resolve) => {
      const url = new URL(gw.base);
      const socket = net.connect(Number(url.port), url.hostname, () => socket.write(write));
      let got = '';
      socket.on('data', (chunk) => (got += chunk.toString('latin1')));
      socket.on('close', () => resolve(got || 'closed'));
      socket.on('error', () => {});
      setTimeout(() => {
        socket.destroy();
        resolve('open');
      }, waitMs).unref();
    });

  it('a request whose headers or body never finish is cut at the deadline (408); a whole one is answered (control)', async () => {
    const host = new URL(gw.base).host;
    const [headers, body] = await Promise.all([
      hold(`GET /mcp HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `, 4_000),
      hold(`POST /register HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"redirect_uris":`, 4_000),
    ]);
    assert.match(headers, /^HTTP\/1\.1 408 /, `slow headers: ${headers}`);
    assert.match(body, /^HTTP\/1\.1 408 /, `slow body: ${body}`);
    assert.equal((await mcpPost(gw, `Bearer ${OWNER_TOKEN}`)).status, 200);
  });

  it('connections beyond the cap are closed at once; below it requests are served (control)', async () => {
    const url = new URL(gw.base);
    const idle = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const socket = net.connect(Number(url.port), url.hostname, () => resolve(socket));
            socket.on('error', () => {});
          }),
      ),
    );
    const extra = await hold(`GET /.sandbox/auth-health HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`, 2_000);
    assert.equal(extra, 'closed', 'the fifth connection got no answer');
    for (const socket of idle) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await fetch(`${gw.base}/.sandbox/auth-health`)).status, 200);
  });
});

describe('changing OAUTH_OWNER_PASSPHRASE revokes the OAuth tokens, as changing ACCESS_TOKEN does', () => {
  it('the same passphrase keeps them (control); another drops them at the next start', async () => {
    const upstream = await startUpstream();
    const state = mkdtempSync(join(tmpdir(), 'auth-passphrase-'));
    const start = (passphrase: string) =>
      startAuthGateway({ upstream: upstream.url, env: { AUTH_STATE_DIR: join(state, 'auth'), OAUTH_OWNER_PASSPHRASE: passphrase } });
    try {
      let gw = await start(PASSPHRASE);
      const { tokens } = await tokensFor(gw);
      await gw.close();
      gw = await start(PASSPHRASE);
      // Each start has its own port, so its own resource: the row must still be there, bound to the first one.
      assert.ok(gw.gateway.store.findAccess(tokens.access_token), 'control: the same passphrase keeps the token');
      await gw.close();
      gw = await start(`${PASSPHRASE} changed`);
      assert.equal(gw.gateway.store.findAccess(tokens.access_token), undefined);
      assert.ok(gw.logs.some((line) => /OAUTH_OWNER_PASSPHRASE changed/.test(line)));
      await gw.close();
    } finally {
      await upstream.close();
      rmSync(state, { recursive: true, force: true });
    }
  });
});

describe('the consent cookie stays at the gateway (tunnel mode)', () => {
  it('a request with the CSRF cookie reaches the MCP server without any cookie; the request itself passes (control)', async () => {
    const gw = await startProxyingGateway();
    try {
      const res = await fetch(`${gw.base}/mcp`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${OWNER_TOKEN}`,
          Cookie: '__Host-mcps-csrf=abc; other=1',
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
        }),
      });
      assert.equal(res.status, 200);
      assert.equal(gw.upstream.seen.at(-1)!.cookie, undefined);
    } finally {
      await gw.close();
    }
  });
});
