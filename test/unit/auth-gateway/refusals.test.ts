/**
 * Every refusal of the auth gateway, each beside its positive control, over
 * HTTP in-process: tunnel (proxy) mode for the token checks on /mcp, nginx
 * mode for introspection and the endpoints nginx forwards.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  authorizeParams,
  codeFor,
  type Gateway,
  getAuthorize,
  introspect,
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
  tokenRequest,
  tokensFor,
} from './http-fixture.js';
import { authModule, authSourceDir } from './module.js';

const run = promisify(execFile);
const bearer = (token: string) => `Bearer ${token}`;

describe('auth gateway refusals (tunnel mode)', () => {
  let gw: ProxyingGateway;
  before(async () => (gw = await startProxyingGateway()));
  after(() => gw.close());

  it('no token: 401 with resource_metadata; a wrong token adds invalid_token; the static token passes', async () => {
    const none = await mcpPost(gw);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), `Bearer resource_metadata="${gw.issuer}/.well-known/oauth-protected-resource/mcp", scope="mcp"`);
    const wrong = await mcpPost(gw, bearer(OWNER_TOKEN.replace('a', 'b')));
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate')!, /, error="invalid_token"$/);
    const right = await mcpPost(gw, bearer(OWNER_TOKEN));
    assert.equal(right.status, 200, 'positive control: the static token keeps working next to OAuth');
    assert.equal(gw.upstream.seen.at(-1)!.authorization, undefined, 'and it is not passed on');
  });

  it('a token in the query string is refused even with a valid header', async () => {
    const { tokens } = await tokensFor(gw);
    const refused = await mcpPost(gw, bearer(tokens.access_token), `/mcp?access_token=${tokens.access_token}`);
    assert.equal(refused.status, 400);
    assert.equal((await refused.json()).error, 'invalid_request');
    assert.equal((await mcpPost(gw, bearer(tokens.access_token))).status, 200, 'positive control: the header alone');
  });

  it('a wrong PKCE verifier gets invalid_grant; the right one gets tokens', async () => {
    const wrong = await codeFor(gw);
    const refused = await tokenRequest(gw, {
      grant_type: 'authorization_code',
      client_id: wrong.client.client_id,
      code: wrong.code,
      redirect_uri: REDIRECT,
      code_verifier: pkcePair().verifier,
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
    const right = await codeFor(gw);
    const granted = await tokenRequest(gw, {
      grant_type: 'authorization_code',
      client_id: right.client.client_id,
      code: right.code,
      redirect_uri: REDIRECT,
      code_verifier: right.verifier,
    });
    assert.equal(granted.status, 200);
    assert.deepEqual(Object.keys(granted.body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    assert.deepEqual([granted.body.token_type, granted.body.scope, granted.body.expires_in], ['Bearer', 'mcp', 900]);
    assert.equal(granted.headers.get('cache-control'), 'no-store');
  });

  it('an unregistered redirect URI gets an error page, never a redirect; a registered one the consent page', async () => {
    const client = await register(gw);
    const { challenge } = pkcePair();
    for (const redirect_uri of ['https://evil.example/cb', `${REDIRECT}/x`, 'http://127.0.0.1:9/callback?x=1']) {
      const res = await getAuthorize(gw, authorizeParams(client.client_id, challenge, { redirect_uri }));
      assert.equal(res.status, 400, redirect_uri);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /Unregistered redirect URI/);
    }
    const unknownClient = await getAuthorize(gw, authorizeParams('nobody', challenge));
    assert.equal(unknownClient.status, 400);
    assert.equal(unknownClient.headers.get('location'), null);
    const ok = await getAuthorize(gw, authorizeParams(client.client_id, challenge));
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /Test client/);
  });

  it('once the owner consented to a client, bad parameters go back to it by redirect with error, state and iss', async () => {
    const { client } = await codeFor(gw);
    const { challenge } = pkcePair();
    const cases: [Record<string, string>, string][] = [
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge_method: '' }, 'invalid_request'],
      [{ code_challenge: 'short' }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ scope: 'mcp admin' }, 'invalid_scope'],
      [{ resource: 'https://other.example/mcp' }, 'invalid_target'],
    ];
    for (const [extra, error] of cases) {
      const res = await getAuthorize(gw, authorizeParams(client.client_id, challenge, extra));
      assert.equal(res.status, 302, JSON.stringify(extra));
      const location = new URL(res.headers.get('location')!);
      assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
      assert.deepEqual(
        [location.searchParams.get('error'), location.searchParams.get('state'), location.searchParams.get('iss')],
        [error, 'state-123', gw.issuer],
      );
    }
  });

  it('a token for another resource is refused: at /token (invalid_target), and after the public URL changed', async () => {
    const flow = await codeFor(gw);
    const target = await tokenRequest(gw, {
      grant_type: 'authorization_code',
      client_id: flow.client.client_id,
      code: flow.code,
      redirect_uri: REDIRECT,
      code_verifier: flow.verifier,
      resource: 'https://other.example/mcp',
    });
    assert.equal(target.status, 400);
    assert.equal(target.body.error, 'invalid_target');

    const { tokens, client } = await tokensFor(gw);
    assert.equal((await mcpPost(gw, bearer(tokens.access_token))).status, 200, 'positive control under resource A');
    // The tunnel reconnects under another public URL: resource B.
    gw.setPublicUrl('http://localhost:1');
    try {
      const refused = await mcpPost(gw, bearer(tokens.access_token));
      assert.equal(refused.status, 401);
      assert.equal(
        refused.headers.get('www-authenticate'),
        'Bearer resource_metadata="http://localhost:1/.well-known/oauth-protected-resource/mcp", scope="mcp", error="invalid_token"',
      );
      const refresh = await tokenRequest(gw, { grant_type: 'refresh_token', client_id: client.client_id, refresh_token: tokens.refresh_token });
      assert.equal(refresh.body.error, 'invalid_grant');
      const metadata = await (await fetch(`${gw.base}/.well-known/oauth-protected-resource/mcp`)).json();
      assert.equal(metadata.resource, 'http://localhost:1/mcp');
      // While the tunnel is down the resource is unknown.
      gw.setPublicUrl('');
      assert.equal((await mcpPost(gw, bearer(OWNER_TOKEN))).status, 503);
    } finally {
      gw.setPublicUrl(gw.base);
    }
  });

  it('an expired access token is refused; a fresh one is not', async () => {
    const { tokens } = await tokensFor(gw);
    assert.equal((await mcpPost(gw, bearer(tokens.access_token))).status, 200);
    gw.advance(900_000);
    const expired = await mcpPost(gw, bearer(tokens.access_token));
    assert.equal(expired.status, 401);
    assert.match(expired.headers.get('www-authenticate')!, /error="invalid_token"/);
  });

  it('a refresh token is rotated; reusing the old one revokes the family', async () => {
    const { tokens, client } = await tokensFor(gw);
    const first = await tokenRequest(gw, {
      grant_type: 'refresh_token',
      client_id: client.client_id,
      refresh_token: tokens.refresh_token,
      resource: gw.resource,
    });
    assert.equal(first.status, 200);
    assert.notEqual(first.body.refresh_token, tokens.refresh_token);
    assert.equal((await mcpPost(gw, bearer(first.body.access_token))).status, 200);
    const reuse = await tokenRequest(gw, { grant_type: 'refresh_token', client_id: client.client_id, refresh_token: tokens.refresh_token });
    assert.equal(reuse.body.error, 'invalid_grant');
    assert.equal((await mcpPost(gw, bearer(first.body.access_token))).status, 401, 'the family is revoked');
    const next = await tokenRequest(gw, { grant_type: 'refresh_token', client_id: client.client_id, refresh_token: first.body.refresh_token });
    assert.equal(next.body.error, 'invalid_grant');
  });

  it('/revoke revokes a token and its family, answering 200 always', async () => {
    const a = await tokensFor(gw);
    const b = await tokensFor(gw);
    const revoke = (form: Record<string, string>) =>
      fetch(`${gw.base}/revoke`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
    assert.equal((await revoke({ token: 'unknown' })).status, 200);
    assert.equal((await revoke({ token: a.tokens.refresh_token, client_id: a.client.client_id })).status, 200);
    assert.equal((await mcpPost(gw, bearer(a.tokens.access_token))).status, 401);
    assert.equal((await mcpPost(gw, bearer(b.tokens.access_token))).status, 200, 'positive control: another consent');
  });

  it('revoke-all over the control socket (the real command) revokes every token', async () => {
    const a = await tokensFor(gw);
    assert.equal((await mcpPost(gw, bearer(a.tokens.access_token))).status, 200);
    const { stdout } = await run(process.execPath, [join(authSourceDir, 'main.mjs'), 'revoke-all'], {
      env: { ...process.env, AUTH_CONTROL_SOCKET: gw.controlSocket },
    });
    assert.match(stdout, /^revoked [1-9]\d* tokens\n$/);
    assert.equal((await mcpPost(gw, bearer(a.tokens.access_token))).status, 401);
    assert.equal((await mcpPost(gw, bearer(OWNER_TOKEN))).status, 200, 'the static token is not an OAuth token');
    const { sendControl } = await authModule('control.mjs');
    assert.equal(await sendControl(gw.controlSocket, 'revoke-all'), 'revoked 0 tokens');
    const down = await run(process.execPath, [join(authSourceDir, 'main.mjs'), 'revoke-all'], {
      env: { ...process.env, AUTH_CONTROL_SOCKET: `${gw.controlSocket}.absent` },
    }).catch((error: { code: number; stderr: string }) => error);
    assert.equal((down as { code: number }).code, 1);
    assert.match((down as { stderr: string }).stderr, /\[auth\] error: the auth gateway is not running/);
  });

  it('a code used twice: invalid_grant, and the tokens issued from it are revoked', async () => {
    const flow = await codeFor(gw);
    const form = { grant_type: 'authorization_code', client_id: flow.client.client_id, code: flow.code, redirect_uri: REDIRECT, code_verifier: flow.verifier };
    const first = await tokenRequest(gw, form);
    assert.equal(first.status, 200);
    assert.equal((await mcpPost(gw, bearer(first.body.access_token))).status, 200);
    const second = await tokenRequest(gw, form);
    assert.equal(second.body.error, 'invalid_grant');
    assert.equal((await mcpPost(gw, bearer(first.body.access_token))).status, 401);
    const refresh = await tokenRequest(gw, { grant_type: 'refresh_token', client_id: flow.client.client_id, refresh_token: first.body.refresh_token });
    assert.equal(refresh.body.error, 'invalid_grant');
  });
  it('in tunnel mode X-Sandbox-Client is not trusted: wrong secrets all count against the tunnel agent', async () => {
    const client = await register(gw);
    const { challenge } = pkcePair();
    const res = await fetch(`${gw.base}/authorize?${new URLSearchParams(authorizeParams(client.client_id, challenge))}`);
    const { fields, cookie } = parseConsentPage(await res.text(), res.headers.get('set-cookie'));
    for (let i = 0; i < 5; i++) {
      const wrong = await postConsent(gw, { ...fields, owner_secret: 'wrong', decision: 'allow' }, { cookie, source: `198.51.100.${i}` });
      assert.equal(wrong.status, 401);
    }
    const limited = await postConsent(gw, { ...fields, owner_secret: PASSPHRASE, decision: 'allow' }, { cookie, source: '203.0.113.9' });
    assert.equal(limited.status, 429, 'a header a client can set does not buy more guesses');
    gw.advance(15 * 60_000);
    // The client waited longer than 10 minutes: it is gone; a new registration's page takes the passphrase again.
    const next = await register(gw);
    const nextPage = await fetch(`${gw.base}/authorize?${new URLSearchParams(authorizeParams(next.client_id, challenge))}`);
    const form = parseConsentPage(await nextPage.text(), nextPage.headers.get('set-cookie'));
    const later = await postConsent(gw, { ...form.fields, owner_secret: PASSPHRASE, decision: 'allow' }, { cookie: form.cookie });
    assert.equal(later.status, 303, 'positive control: after the window');
  });
});

describe('consent refusals', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startAuthGateway();
  });
  after(() => gw.close());

  const page = async (source?: string) => {
    const client = await register(gw);
    const { challenge } = pkcePair();
    const res = await fetch(`${gw.base}/authorize?${new URLSearchParams(authorizeParams(client.client_id, challenge))}`, {
      headers: source ? { 'X-Sandbox-Client': source } : {},
    });
    assert.equal(res.status, 200);
    return { res, ...parseConsentPage(await res.text(), res.headers.get('set-cookie')) };
  };

  it('sends the headers that keep the page from being framed, cached or leaking its query', async () => {
    const { res, cookie } = await page();
    assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('referrer-policy'), 'same-origin');
    assert.match(res.headers.get('set-cookie')!, /^__Host-mcps-csrf=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict$/);
    assert.ok(cookie);
  });

  it('CSRF: a missing or mismatched cookie or field is refused (403); the matching pair passes', async () => {
    const { fields, cookie } = await page('10.0.0.1');
    const allow = { ...fields, owner_secret: OWNER_TOKEN, decision: 'allow' };
    assert.equal((await postConsent(gw, allow, {})).status, 403, 'no cookie');
    assert.equal((await postConsent(gw, allow, { cookie: '__Host-mcps-csrf=forged' })).status, 403, 'mismatched');
    assert.equal((await postConsent(gw, { ...allow, csrf: '' }, { cookie })).status, 403, 'no field');
    const ok = await postConsent(gw, allow, { cookie });
    assert.equal(ok.status, 303);
    assert.ok(new URL(ok.headers.get('location')!).searchParams.get('code'));
    assert.equal(ok.headers.get('referrer-policy'), 'no-referrer');
  });

  it('a foreign Origin is refused (403); no Origin or our own passes', async () => {
    const { fields, cookie } = await page('10.0.0.2');
    const allow = { ...fields, owner_secret: OWNER_TOKEN, decision: 'allow' };
    assert.equal((await postConsent(gw, allow, { cookie, origin: 'https://evil.example' })).status, 403);
    assert.equal((await postConsent(gw, allow, { cookie, origin: 'null' })).status, 403);
    assert.equal((await postConsent(gw, allow, { cookie, origin: null })).status, 303);
    assert.equal((await postConsent(gw, allow, { cookie, origin: gw.issuer })).status, 303);
  });

  it('Deny: a page naming the address for a client never consented to; access_denied by 303 to one consented to before', async () => {
    const { fields, cookie } = await page();
    const fresh = await postConsent(gw, { ...fields, decision: 'deny' }, { cookie });
    assert.equal(fresh.status, 403);
    assert.equal(fresh.headers.get('location'), null);
    assert.ok((await fresh.text()).includes(`<code style="overflow-wrap: anywhere">${REDIRECT}</code>`), 'the target written out');
    // The same client, once allowed, then denied: the spec's redirect.
    assert.equal((await postConsent(gw, { ...fields, owner_secret: OWNER_TOKEN, decision: 'allow' }, { cookie })).status, 303);
    const again = await fetch(`${gw.base}/authorize?${new URLSearchParams(authorizeParams(fields.client_id!, pkcePair().challenge))}`);
    const second = parseConsentPage(await again.text(), again.headers.get('set-cookie'));
    const res = await postConsent(gw, { ...second.fields, decision: 'deny' }, { cookie: second.cookie });
    assert.equal(res.status, 303);
    const location = new URL(res.headers.get('location')!);
    assert.deepEqual([location.searchParams.get('error'), location.searchParams.get('code')], ['access_denied', null]);
  });

  it('a wrong owner secret shows the page again (401); after 5 from one source even the right passphrase gets 429, ACCESS_TOKEN does not', async () => {
    const source = '192.0.2.7';
    const { fields, cookie } = await page(source);
    for (let i = 0; i < 5; i++) {
      const wrong = await postConsent(gw, { ...fields, owner_secret: `wrong-${i}`, decision: 'allow' }, { cookie, source });
      assert.equal(wrong.status, 401);
      assert.match(await wrong.text(), /not the owner secret/);
    }
    const limited = await postConsent(gw, { ...fields, owner_secret: PASSPHRASE, decision: 'allow' }, { cookie, source });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 800);
    const again = parseConsentPage(await limited.text(), limited.headers.get('set-cookie'));
    assert.ok(again.cookie && again.fields.client_id, 'the form is shown again, for ACCESS_TOKEN');
    const owner = await postConsent(gw, { ...again.fields, owner_secret: OWNER_TOKEN, decision: 'allow' }, { cookie: again.cookie, source });
    assert.equal(owner.status, 303, 'ACCESS_TOKEN is compared while the lock holds');
    const other = await postConsent(gw, { ...fields, owner_secret: PASSPHRASE, decision: 'allow' }, { cookie, source: '192.0.2.8' });
    assert.equal(other.status, 303, 'positive control: another source is still served');
    assert.ok(gw.logs.includes(`wrong owner secret from ${source}`));
    gw.advance(15 * 60_000);
    const later = await postConsent(gw, { ...fields, owner_secret: PASSPHRASE, decision: 'allow' }, { cookie, source });
    assert.equal(later.status, 303, 'the window passed');
  });

  it('20 wrong secrets in total from any sources close the consent for everyone', async () => {
    const { fields, cookie } = await page();
    for (let i = 0; i < 20; i++) {
      const res = await postConsent(gw, { ...fields, owner_secret: 'wrong', decision: 'allow' }, { cookie, source: `198.51.100.${i}` });
      assert.equal(res.status, 401);
    }
    const res = await postConsent(gw, { ...fields, owner_secret: PASSPHRASE, decision: 'allow' }, { cookie, source: '203.0.113.1' });
    assert.equal(res.status, 429);
    const owner = await postConsent(gw, { ...fields, owner_secret: OWNER_TOKEN, decision: 'allow' }, { cookie, source: '203.0.113.1' });
    assert.equal(owner.status, 303, 'the owner with ACCESS_TOKEN is not locked out');
    gw.advance(15 * 60_000);
  });
});

describe('nginx mode: introspection and the forwarded endpoints', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startAuthGateway({ resource: 'https://mcp.example.test:8443/mcp' });
  });
  after(() => gw.close());

  it('introspect: 204 for a live token of this resource or the static token, 401 otherwise, 400 for a query token', async () => {
    const { tokens } = await tokensFor(gw);
    assert.equal((await introspect(gw, bearer(tokens.access_token))).status, 204);
    assert.equal((await introspect(gw, bearer(OWNER_TOKEN))).status, 204);
    const none = await introspect(gw);
    assert.equal(none.status, 401);
    assert.equal(
      none.headers.get('www-authenticate'),
      'Bearer resource_metadata="https://mcp.example.test:8443/.well-known/oauth-protected-resource/mcp", scope="mcp"',
    );
    const wrong = await introspect(gw, bearer(tokens.refresh_token));
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate')!, /error="invalid_token"/);
    assert.equal((await introspect(gw, bearer(tokens.access_token), `/mcp?access_token=${tokens.access_token}`)).status, 400);
  });

  it('serves the discovery documents from the configured resource, never from Host', async () => {
    const prm = await fetch(`${gw.base}/.well-known/oauth-protected-resource`, { headers: { 'X-Forwarded-Host': 'evil.example' } });
    assert.equal((await prm.json()).resource, 'https://mcp.example.test:8443/mcp');
    const as = await (await fetch(`${gw.base}/.well-known/oauth-authorization-server`)).json();
    assert.equal(as.issuer, 'https://mcp.example.test:8443');
    assert.equal((await fetch(`${gw.base}/.well-known/openid-configuration`)).status, 404);
    assert.equal((await fetch(`${gw.base}/mcp`)).status, 404, 'nothing else is served without an upstream');
    assert.equal(await (await fetch(`${gw.base}/.sandbox/auth-health`)).text(), 'ok\n');
  });

  it('bodies are limited to 64 KiB; errors follow RFC 6749', async () => {
    const big = await fetch(`${gw.base}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'x'.repeat(70_000) }),
    });
    assert.equal(big.status, 413);
    const bad = await fetch(`${gw.base}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://evil.example/cb'] }),
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys((await bad.json()) as object).sort(), ['error', 'error_description']);
    const grant = await tokenRequest(gw, { grant_type: 'password', client_id: (await register(gw)).client_id });
    assert.equal(grant.body.error, 'unsupported_grant_type');
    const client = await tokenRequest(gw, { grant_type: 'authorization_code', client_id: 'nobody' });
    assert.deepEqual([client.status, client.body.error], [401, 'invalid_client']);
  });
});
