/**
 * The auth gateway's pure parts, table by table: redirect URIs, PKCE, the
 * token store (with an injected clock and a temporary state folder), the rate
 * limiter, CSRF and owner proof, the discovery documents, the bearer check,
 * registration and the settings.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { authModule, manualClock } from './module.js';

const OWNER = '0123456789abcdef0123456789abcdef';
const RESOURCE = 'https://127.0.0.1:8443/mcp';
const tempDirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'auth-unit-'));
  tempDirs.push(dir);
  return dir;
};
after(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('redirect URIs (redirect-uri.mjs)', () => {
  it('allows https anywhere and http on loopback only, without fragment, userinfo or wildcard', async () => {
    const { redirectUriProblem } = await authModule('redirect-uri.mjs');
    const allowed = [
      'https://claude.ai/api/mcp/auth_callback',
      'https://example.com:8443/cb?x=1',
      'http://localhost/callback',
      'http://127.0.0.1:33418/cb',
      'http://[::1]:9000/cb',
    ];
    for (const uri of allowed) assert.equal(redirectUriProblem(uri), null, uri);
    const refused = [
      'http://example.com/cb',
      'http://127.0.0.2/cb',
      'https://example.com/cb#frag',
      'https://user:pw@example.com/cb',
      'https://user@example.com/cb',
      'https://*.example.com/cb',
      'javascript:alert(1)',
      'custom-app:/cb',
      'ftp://example.com/cb',
      '/relative/cb',
      'https://example.com/a b',
      '',
      42,
    ];
    for (const uri of refused) assert.notEqual(redirectUriProblem(uri), null, String(uri));
  });
});

describe('PKCE (pkce.mjs)', () => {
  it('verifies the RFC 7636 appendix B example and refuses any other verifier', async () => {
    const { verifyS256, isChallenge, isVerifier } = await authModule('pkce.mjs');
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
    assert.equal(verifyS256(verifier, challenge), true);
    assert.equal(verifyS256(verifier.replace('d', 'e'), challenge), false);
    // "plain" would send the verifier as the challenge: never equal under S256.
    assert.equal(verifyS256(challenge, challenge), false);
    assert.equal(verifyS256('short', challenge), false);
    assert.deepEqual([isChallenge(challenge), isChallenge(challenge + '='), isChallenge('a'.repeat(42))], [true, false, false]);
    assert.deepEqual([isVerifier('a'.repeat(43)), isVerifier('a'.repeat(129)), isVerifier('a'.repeat(42) + '!')], [true, false, false]);
  });
});

describe('token store (store.mjs)', () => {
  const makeStore = async (options: Record<string, unknown> = {}) => {
    const { Store } = await authModule('store.mjs');
    const clock = manualClock();
    const store = new Store({ ownerSecret: OWNER, accessTtl: 900, refreshTtl: 3600, now: clock.now, ...options });
    return { store, clock };
  };
  const consent = (store: any) => {
    const { client } = store.registerClient({ client_name: 'App', redirect_uris: ['https://app.example/cb'] });
    const code = store.issueCode({
      client_id: client.client_id,
      redirect_uri: 'https://app.example/cb',
      code_challenge: 'c'.repeat(43),
      resource: RESOURCE,
      scope: 'mcp',
    });
    return { client, code };
  };

  it('issues a code once; a second use revokes every token issued from it', async () => {
    const { store } = await makeStore();
    const { client, code } = consent(store);
    const taken = store.takeCode(code);
    assert.equal(taken.status, 'ok');
    const tokens = store.issueTokens({ client_id: client.client_id, resource: RESOURCE, scope: 'mcp', family: taken.row.family });
    assert.equal(tokens.expires_in, 900);
    assert.ok(store.findAccess(tokens.access_token));
    const again = store.takeCode(code);
    assert.equal(again.status, 'reused');
    assert.equal(again.revoked, 2);
    assert.equal(store.findAccess(tokens.access_token), undefined);
    assert.equal(store.takeRefresh(tokens.refresh_token, client.client_id).status, 'unknown');
    assert.equal(store.takeCode('never-issued').status, 'unknown');
  });

  it('codes last 60 s and access tokens their TTL on the injected clock', async () => {
    const { store, clock } = await makeStore();
    const { client, code } = consent(store);
    clock.advance(60_001);
    assert.equal(store.takeCode(code).status, 'unknown');
    const tokens = store.issueTokens({ client_id: client.client_id, resource: RESOURCE, scope: 'mcp', family: 'f' });
    clock.advance(899_000);
    assert.ok(store.findAccess(tokens.access_token), 'still valid just before expiry');
    clock.advance(1_000);
    assert.equal(store.findAccess(tokens.access_token), undefined, 'expired');
    // A refresh token is never an access token.
    assert.equal(store.findAccess(tokens.refresh_token), undefined);
  });

  it('rotates refresh tokens; reuse of an old one revokes the whole family; another client cannot use one', async () => {
    const { store } = await makeStore();
    const { client } = consent(store);
    const first = store.issueTokens({ client_id: client.client_id, resource: RESOURCE, scope: 'mcp', family: 'fam' });
    const other = store.issueTokens({ client_id: client.client_id, resource: RESOURCE, scope: 'mcp', family: 'other' });
    assert.equal(store.takeRefresh(first.refresh_token, 'someone-else').status, 'wrong_client');
    const taken = store.takeRefresh(first.refresh_token, client.client_id);
    assert.equal(taken.status, 'ok');
    const second = store.issueTokens({ client_id: client.client_id, resource: RESOURCE, scope: 'mcp', family: taken.row.family });
    assert.ok(store.findAccess(second.access_token));
    const reused = store.takeRefresh(first.refresh_token, client.client_id);
    assert.equal(reused.status, 'reused');
    assert.equal(store.findAccess(second.access_token), undefined);
    assert.equal(store.findAccess(first.access_token), undefined);
    assert.equal(store.takeRefresh(second.refresh_token, client.client_id).status, 'unknown');
    assert.ok(store.findAccess(other.access_token), 'positive control: another family is untouched');
  });

  it('revokes one token with its family (RFC 7009) and everything with revokeAll', async () => {
    const { store } = await makeStore();
    const { client, code } = consent(store);
    const a = store.issueTokens({ client_id: client.client_id, resource: RESOURCE, scope: 'mcp', family: 'a' });
    const b = store.issueTokens({ client_id: client.client_id, resource: RESOURCE, scope: 'mcp', family: 'b' });
    assert.equal(store.revokeToken(a.access_token, 'not-the-owner'), 0);
    assert.equal(store.revokeToken(a.access_token, client.client_id), 2);
    assert.equal(store.takeRefresh(a.refresh_token, client.client_id).status, 'unknown');
    assert.ok(store.findAccess(b.access_token));
    assert.equal(store.revokeAll(), 3, "b's two tokens and the pending code");
    assert.equal(store.findAccess(b.access_token), undefined);
    assert.equal(store.takeCode(code).status, 'unknown');
    assert.ok(store.getClient(client.client_id), 'clients are kept');
  });

  it('keeps a spent code 10 minutes and a spent refresh token a day to notice reuse, then forgets them', async () => {
    const { store, clock } = await makeStore({ refreshTtl: 30 * 86400, dir: tempDir() });
    const { client, code } = consent(store);
    assert.equal(store.takeCode(code).status, 'ok');
    clock.advance(9 * 60_000);
    assert.equal(store.takeCode(code).status, 'reused', 'after its 60 s of validity, still noticed');
    const second = consent(store);
    assert.equal(store.takeCode(second.code).status, 'ok');
    clock.advance(10 * 60_000 + 1);
    assert.equal(store.takeCode(second.code).status, 'unknown');

    const tokens = store.issueTokens({ client_id: client.client_id, resource: RESOURCE, scope: 'mcp', family: 'f' });
    assert.equal(store.takeRefresh(tokens.refresh_token, client.client_id).status, 'ok');
    const next = store.issueTokens({ client_id: client.client_id, resource: RESOURCE, scope: 'mcp', family: 'f' });
    clock.advance(23 * 3600_000);
    store.saveTokens();
    assert.equal(store.tokens.size, 2, 'the spent refresh token and the live one (the access tokens expired)');
    clock.advance(3600_000);
    store.saveTokens();
    assert.equal(store.tokens.size, 1, 'only the live refresh token is left');
    assert.equal(store.takeRefresh(tokens.refresh_token, client.client_id).status, 'unknown');
    assert.equal(store.takeRefresh(next.refresh_token, client.client_id).status, 'ok', 'the family was not revoked');
  });

  it('keeps at most maxPending waiting clients (the oldest goes) and never drops a consented one for a registration', async () => {
    const { store, clock } = await makeStore({ maxPending: 3, maxClients: 2 });
    const register = (name: string) => {
      clock.advance(1);
      return store.registerClient({ client_name: name, redirect_uris: ['https://x.example/cb'] });
    };
    const grant = (id: string) =>
      store.issueCode({ client_id: id, redirect_uri: 'https://x.example/cb', code_challenge: 'c'.repeat(43), resource: RESOURCE, scope: 'mcp' });
    const ids = ['a', 'b', 'c'].map((name) => register(name).client.client_id);
    grant(ids[0]);
    // A flood of registrations: only waiting clients make room for it.
    for (let i = 0; i < 50; i++) assert.notEqual(register(`flood-${i}`).dropped?.client_id, ids[0]);
    assert.ok(store.getClient(ids[0]), 'the consented client stays');
    assert.equal(store.getClient(ids[1]), undefined, 'the oldest waiting one went first');
    assert.equal(store.clients.size, 4, 'one consented and three waiting');
    // Consents are the owner's: past maxClients consented, the one used longest ago goes, with its tokens.
    const [second, third] = [register('second'), register('third')].map((r) => r.client.client_id);
    const tokens = store.issueTokens({ client_id: ids[0], resource: RESOURCE, scope: 'mcp', family: 'f0' });
    grant(second);
    clock.advance(1);
    grant(third);
    assert.equal(store.getClient(ids[0]), undefined);
    assert.equal(store.findAccess(tokens.access_token), undefined, 'its tokens went with it');
    assert.ok(store.getClient(second) && store.getClient(third));
  });

  it('a client that waits for consent longer than 10 minutes is gone, and waiting clients are never written to disk', async () => {
    const dir = tempDir();
    const { store, clock } = await makeStore({ dir });
    const waiting = store.registerClient({ client_name: 'waits', redirect_uris: ['https://x.example/cb'] }).client;
    const { client: consented } = consent(store);
    assert.deepEqual(
      JSON.parse(readFileSync(join(dir, 'clients.json'), 'utf8')).clients.map((c: { client_id: string }) => c.client_id),
      [consented.client_id],
    );
    clock.advance(10 * 60_000 - 1);
    assert.ok(store.getClient(waiting.client_id), 'control: within 10 minutes');
    clock.advance(1);
    assert.equal(store.getClient(waiting.client_id), undefined);
    assert.ok(store.getClient(consented.client_id), 'a consented client does not expire');
  });

  it('persists both tables atomically as 0600 files in a 0700 folder, and reads them back', async () => {
    const dir = join(tempDir(), 'auth');
    const { store } = await makeStore({ dir });
    const { client, code } = consent(store);
    const tokens = store.issueTokens({ client_id: client.client_id, resource: RESOURCE, scope: 'mcp', family: 'f' });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(dir).sort(), ['clients.json', 'tokens.json'], 'no temporary file left behind');
    for (const file of readdirSync(dir)) assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
    const onDisk = readFileSync(join(dir, 'tokens.json'), 'utf8');
    for (const secret of [code, tokens.access_token, tokens.refresh_token, OWNER]) assert.ok(!onDisk.includes(secret), 'only hashes are stored');

    const { store: reopened } = await makeStore({ dir });
    assert.equal(reopened.getClient(client.client_id).client_name, 'App');
    assert.ok(reopened.findAccess(tokens.access_token));
    assert.equal(reopened.takeCode(code).status, 'ok');
  });

  it('a corrupt file is moved aside and the store starts without it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'clients.json'), '{"clients": [', { mode: 0o600 });
    const lines: string[] = [];
    const { store } = await makeStore({ dir, log: (line: string) => lines.push(line) });
    assert.equal(store.clients.size, 0);
    assert.match(lines.join('\n'), /moved aside/);
    assert.ok(readdirSync(dir).some((f) => f.startsWith('clients.json.corrupt-')));
  });

  it('drops every token and code (not the clients) when ACCESS_TOKEN changed, and says so once', async () => {
    const dir = tempDir();
    const { store } = await makeStore({ dir });
    const { client } = consent(store);
    const tokens = store.issueTokens({ client_id: client.client_id, resource: RESOURCE, scope: 'mcp', family: 'f' });
    const sameOwner = await makeStore({ dir });
    assert.ok(sameOwner.store.findAccess(tokens.access_token), 'positive control: the same ACCESS_TOKEN keeps them');
    const lines: string[] = [];
    const rotated = await makeStore({ dir, ownerSecret: 'f'.repeat(32), log: (line: string) => lines.push(line) });
    assert.equal(rotated.store.findAccess(tokens.access_token), undefined);
    assert.ok(rotated.store.getClient(client.client_id));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /ACCESS_TOKEN or OAUTH_OWNER_PASSPHRASE changed.*dropped all 3 OAuth tokens and codes/);
    const next: string[] = [];
    await makeStore({ dir, ownerSecret: 'f'.repeat(32), log: (line: string) => next.push(line) });
    assert.deepEqual(next, [], 'said once');
  });
});

describe('rate limiter (rate-limit.mjs)', () => {
  it('allows 5 per source and 20 in total per window, then answers with Retry-After', async () => {
    const { RateLimiter } = await authModule('rate-limit.mjs');
    const clock = manualClock();
    const limiter = new RateLimiter({ perSource: 5, total: 20, windowMs: 900_000, now: clock.now });
    for (let i = 0; i < 5; i++) {
      assert.equal(limiter.check('a').ok, true);
      limiter.record('a');
      clock.advance(1000);
    }
    assert.deepEqual(limiter.check('a'), { ok: false, retryAfter: 895 });
    assert.equal(limiter.check('b').ok, true, 'another source is not limited by a');
    clock.advance(895_000);
    assert.equal(limiter.check('a').ok, true, 'the oldest failure left the window');

    const global = new RateLimiter({ perSource: 5, total: 20, windowMs: 900_000, now: clock.now });
    for (let i = 0; i < 20; i++) global.record(`source-${i}`);
    const refused = global.check('fresh');
    assert.equal(refused.ok, false);
    assert.equal(refused.retryAfter, 900);
  });
});

describe('owner proof (owner-guard.mjs)', () => {
  const guardWith = async (passphrase: string) => {
    const { ownerGuard, UNLIMITED_PASSPHRASE_LENGTH } = await authModule('owner-guard.mjs');
    const { RateLimiter } = await authModule('rate-limit.mjs');
    const limiter = new RateLimiter({ perSource: 5, total: 20, windowMs: 900_000, now: manualClock().now });
    return { judge: ownerGuard({ accessToken: OWNER, passphrase, limiter }), limiter, UNLIMITED_PASSPHRASE_LENGTH };
  };

  it('takes ACCESS_TOKEN or the passphrase, nothing else, never an empty one; counts only wrong ones', async () => {
    const { judge, limiter } = await guardWith('correct horse battery');
    assert.deepEqual(
      [OWNER, 'correct horse battery', 'wrong', '', undefined].map((s) => judge(s, 'a').ok),
      [true, true, false, false, false],
    );
    assert.equal(limiter.bySource.get('a').length, 3);
    const { judge: noPassphrase } = await guardWith('');
    assert.equal(noPassphrase('', 'b').ok, false);
  });

  it('while the lock holds: ACCESS_TOKEN and a passphrase of 40 characters or more are still compared, a shorter one is not', async () => {
    const long = 'seven words make a passphrase long enough';
    const short = long.slice(0, 39);
    const { judge: judgeLong, UNLIMITED_PASSPHRASE_LENGTH } = await guardWith(long);
    assert.equal(UNLIMITED_PASSPHRASE_LENGTH, 40);
    assert.deepEqual([long.length, short.length], [41, 39]);
    const { judge: judgeShort } = await guardWith(short);
    for (const judge of [judgeLong, judgeShort]) for (let i = 0; i < 5; i++) assert.equal(judge(`guess ${i}`, 'x').ok, false);
    assert.ok(judgeShort('another guess', 'x').retryAfter! > 0, 'locked: not compared, not counted');
    assert.equal(judgeShort(short, 'x').ok, false, 'the short passphrase waits for the window');
    assert.equal(judgeShort(OWNER, 'x').ok, true, 'ACCESS_TOKEN does not');
    assert.equal(judgeLong(long, 'x').ok, true, 'nor does a long passphrase');
    assert.equal(judgeLong('guess 6', 'x').ok, false);
  });
});

describe('consent page parts (consent.mjs)', () => {
  it('double submit: the cookie and the field must be present and equal', async () => {
    const { csrfMatches, csrfCookie, CSRF_COOKIE } = await authModule('consent.mjs');
    assert.equal(CSRF_COOKIE, '__Host-mcps-csrf');
    assert.equal(csrfCookie('v1'), '__Host-mcps-csrf=v1; Path=/; Secure; HttpOnly; SameSite=Strict');
    assert.equal(csrfMatches('a=b; __Host-mcps-csrf=v1', 'v1'), true);
    assert.equal(csrfMatches('__Host-mcps-csrf=v1', 'v2'), false);
    assert.equal(csrfMatches(undefined, 'v1'), false);
    assert.equal(csrfMatches('__Host-mcps-csrf=v1', undefined), false);
    assert.equal(csrfMatches('__Host-mcps-csrf=', ''), false);
    assert.equal(csrfMatches('mcps-csrf=v1', 'v1'), false, 'only the __Host- cookie counts');
  });

  it('escapes the client name, says it is self-chosen, and shows the whole redirect URI; no password-manager hint', async () => {
    const { consentPage } = await authModule('consent.mjs');
    const html = consentPage({
      client: { client_name: '<script>alert("x")</script>' },
      params: { client_id: 'c', redirect_uri: 'https://evil.example:444/cb', state: '"><b>' },
      csrf: 'token',
      passphrase: false,
    });
    assert.ok(!html.includes('<script>alert'));
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
    assert.ok(html.includes('<code>https://evil.example:444/cb</code>'), 'the whole redirect URI');
    assert.match(html, /calls itself <strong>&lt;script&gt;.*a name it chose; nobody checked it/);
    assert.match(html, /name="owner_secret" autocomplete="off"/);
    assert.ok(!html.includes('current-password'));
    assert.ok(html.includes('value="&quot;&gt;&lt;b&gt;"'));
    assert.ok(html.includes('name="csrf" value="token"'));
  });
});

describe('discovery documents (metadata.mjs)', () => {
  it('RFC 9728 and RFC 8414 documents built from the resource alone', async () => {
    const { protectedResourceMetadata, authorizationServerMetadata, resourceMetadataUrl } = await authModule('metadata.mjs');
    assert.deepEqual(protectedResourceMetadata(RESOURCE), {
      resource: RESOURCE,
      authorization_servers: ['https://127.0.0.1:8443'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp'],
      resource_name: 'mcp-sandbox',
    });
    assert.deepEqual(authorizationServerMetadata('https://abc.a.pinggy.link/mcp'), {
      issuer: 'https://abc.a.pinggy.link',
      authorization_endpoint: 'https://abc.a.pinggy.link/authorize',
      token_endpoint: 'https://abc.a.pinggy.link/token',
      registration_endpoint: 'https://abc.a.pinggy.link/register',
      revocation_endpoint: 'https://abc.a.pinggy.link/revoke',
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['mcp'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    });
    assert.equal(resourceMetadataUrl(RESOURCE), 'https://127.0.0.1:8443/.well-known/oauth-protected-resource/mcp');
  });

  it('the tunnel file gives the resource: origin plus /mcp, nothing while empty or odd', async () => {
    const { resourceFromPublicUrl } = await authModule('resource.mjs');
    assert.equal(resourceFromPublicUrl('https://abc.a.pinggy.link\n'), 'https://abc.a.pinggy.link/mcp');
    assert.equal(resourceFromPublicUrl('https://abc.ngrok.app/'), 'https://abc.ngrok.app/mcp');
    // A self-hosted SSH tunnel publishes plain http; the agent's URL is what clients dial, so it is taken as it is.
    assert.equal(resourceFromPublicUrl('http://tunnel.example:8080\n'), 'http://tunnel.example:8080/mcp');
    for (const content of ['', '\n', 'not a url', 'ftp://abc.example', 'https://u:p@abc.example', 'https://abc.example/?q=1'])
      assert.equal(resourceFromPublicUrl(content), undefined, content);
  });
});

describe('bearer check (bearer.mjs)', () => {
  it('accepts the static token or a live access token for this resource only', async () => {
    const { checkAuthorization, bearerToken, hasQueryToken, wwwAuthenticate } = await authModule('bearer.mjs');
    const { Store } = await authModule('store.mjs');
    const clock = manualClock();
    const store = new Store({ ownerSecret: OWNER, accessTtl: 900, refreshTtl: 3600, now: clock.now });
    const tokens = store.issueTokens({ client_id: 'c', resource: RESOURCE, scope: 'mcp', family: 'f' });
    const check = (header: string | undefined, resource = RESOURCE) => checkAuthorization(header, { store, staticToken: OWNER, resource });
    assert.deepEqual(check(`Bearer ${OWNER}`), { ok: true, kind: 'static' });
    assert.equal(check(`bearer ${tokens.access_token}`).kind, 'oauth');
    assert.deepEqual(check(`Bearer ${tokens.access_token}`, 'https://other.example/mcp'), { ok: false, presented: true });
    assert.deepEqual(check(`Bearer ${tokens.refresh_token}`), { ok: false, presented: true });
    assert.deepEqual(check(`Bearer ${OWNER}x`), { ok: false, presented: true });
    assert.deepEqual(check(`Basic ${OWNER}`), { ok: false, presented: true });
    assert.deepEqual(check(undefined), { ok: false, presented: false });
    assert.equal(bearerToken('Bearer a b'), undefined);
    assert.deepEqual(['/mcp?access_token=x', '/mcp?a=1&access_token=', '/mcp', '/mcp?token=x', '/mcp?x=access_token'].map(hasQueryToken), [
      true,
      true,
      false,
      false,
      false,
    ]);
    assert.equal(wwwAuthenticate(RESOURCE, false), 'Bearer resource_metadata="https://127.0.0.1:8443/.well-known/oauth-protected-resource/mcp", scope="mcp"');
    assert.equal(
      wwwAuthenticate(RESOURCE, true),
      'Bearer resource_metadata="https://127.0.0.1:8443/.well-known/oauth-protected-resource/mcp", scope="mcp", error="invalid_token"',
    );
  });
});

describe('registration (registration.mjs)', () => {
  it('takes what the MCP SDK client sends and answers a public client', async () => {
    const { parseRegistration, registrationResponse } = await authModule('registration.mjs');
    const sdkLike = {
      client_name: 'MCP SDK client',
      redirect_uris: ['http://localhost:33418/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'mcp',
    };
    const parsed = parseRegistration(sdkLike);
    assert.deepEqual(parsed, {
      ok: true,
      request: { client_name: 'MCP SDK client', redirect_uris: ['http://localhost:33418/callback'], token_endpoint_auth_method: 'none' },
    });
    const answer = registrationResponse({ client_id: 'id', created_at: 1_800_000_000_500, ...parsed.request });
    assert.equal(answer.token_endpoint_auth_method, 'none');
    assert.equal(answer.client_id_issued_at, 1_800_000_000);
    assert.equal('client_secret' in answer, false);
    // Methods this server cannot do (private_key_jwt) are answered with none (RFC 7591 §3.2.1), as before.
    for (const method of [undefined, 'private_key_jwt', 'tls_client_auth'])
      assert.equal(parseRegistration({ ...sdkLike, token_endpoint_auth_method: method }).request.token_endpoint_auth_method, 'none', String(method));
  });

  it('a client asking for client_secret_post or client_secret_basic is confidential: its secret is in the answer once, and never expires', async () => {
    const { parseRegistration, registrationResponse } = await authModule('registration.mjs');
    for (const method of ['client_secret_post', 'client_secret_basic']) {
      const parsed = parseRegistration({ redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: method });
      assert.equal(parsed.request.token_endpoint_auth_method, method);
      const answer = registrationResponse({ client_id: 'id', created_at: 0, ...parsed.request }, 'the-secret');
      assert.equal(answer.token_endpoint_auth_method, method);
      assert.equal(answer.client_secret, 'the-secret');
      assert.equal(answer.client_secret_expires_at, 0);
    }
  });

  it('refuses bad redirect URIs, too many of them, odd names and other flows', async () => {
    const { parseRegistration } = await authModule('registration.mjs');
    const ok = { redirect_uris: ['https://a.example/cb'] };
    assert.equal(parseRegistration(ok).ok, true);
    const cases: [unknown, string][] = [
      [null, 'invalid_client_metadata'],
      [[], 'invalid_client_metadata'],
      [{}, 'invalid_redirect_uri'],
      [{ redirect_uris: [] }, 'invalid_redirect_uri'],
      [{ redirect_uris: Array.from({ length: 11 }, (_, i) => `https://a.example/${i}`) }, 'invalid_redirect_uri'],
      [{ redirect_uris: ['http://a.example/cb'] }, 'invalid_redirect_uri'],
      [{ ...ok, client_name: 'x'.repeat(101) }, 'invalid_client_metadata'],
      [{ ...ok, client_name: 'bell\u0007' }, 'invalid_client_metadata'],
      [{ ...ok, client_name: 5 }, 'invalid_client_metadata'],
      [{ ...ok, grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
      [{ ...ok, response_types: ['token'] }, 'invalid_client_metadata'],
    ];
    for (const [body, error] of cases) assert.equal(parseRegistration(body).error, error, JSON.stringify(body)?.slice(0, 80));
  });
});

describe('settings (config.mjs)', () => {
  const base = { ACCESS_TOKEN: OWNER, AUTH_RESOURCE: RESOURCE };

  it('defaults', async () => {
    const { parseConfig } = await authModule('config.mjs');
    const { cimdAllowance, ...config } = parseConfig(base);
    assert.deepEqual(cimdAllowance.entries, [], 'OAUTH_CIMD_ALLOW is empty: public addresses only');
    assert.deepEqual(config, {
      port: 8001,
      stateDir: '/var/lib/mcp-sandbox/auth',
      controlSocket: '/run/sandbox/gateway/auth-control.sock',
      accessToken: OWNER,
      passphrase: '',
      resource: RESOURCE,
      resourceFile: undefined,
      upstream: undefined,
      accessTtl: 900,
      refreshTtl: 2592000,
      logLevel: 'info',
      cimdCaFile: '/opt/sandbox/ca/extra-ca.crt',
    });
    const tunnel = parseConfig({ ACCESS_TOKEN: OWNER, AUTH_RESOURCE_FILE: '/run/sandbox/public-url', AUTH_UPSTREAM: 'http://127.0.0.1:8000' });
    assert.deepEqual([tunnel.resource, tunnel.resourceFile, tunnel.upstream], [undefined, '/run/sandbox/public-url', 'http://127.0.0.1:8000']);
  });

  it("ACCESS_TOKEN: the CLI's rule (hex, 32 to 256), not the 16 characters without spaces it once took", async () => {
    const { parseConfig } = await authModule('config.mjs');
    const verdict = (token: string) => {
      try {
        return parseConfig({ ...base, ACCESS_TOKEN: token }).accessToken === token;
      } catch (error) {
        assert.match((error as Error).message, /^ACCESS_TOKEN must be 32 to 256 hex characters \(npm run gen_key makes one\)$/);
        return false;
      }
    };
    // Each refused token but the empty one passed the old rule.
    assert.deepEqual(
      {
        short: verdict('0123456789abcdef'),
        notHex: verdict('ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUV'),
        tooLong: verdict('ab'.repeat(129)),
        withSlash: verdict(`${OWNER}/x`),
      },
      { short: false, notHex: false, tooLong: false, withSlash: false },
    );
    assert.deepEqual(
      { shortest: verdict(OWNER), longest: verdict('AB'.repeat(128)) },
      { shortest: true, longest: true },
      'positive controls: 32 and 256 hex characters, either case',
    );
  });

  it('names the setting and the fix for each bad value', async () => {
    const { parseConfig, ConfigError } = await authModule('config.mjs');
    const cases: [Record<string, string>, RegExp][] = [
      [{ AUTH_RESOURCE: RESOURCE }, /^ACCESS_TOKEN is required/],
      [{ ...base, ACCESS_TOKEN: 'short' }, /^ACCESS_TOKEN must be 32 to 256 hex characters/],
      [{ ...base, OAUTH_OWNER_PASSPHRASE: 'too short' }, /^OAUTH_OWNER_PASSPHRASE must be at least 12/],
      [{ ACCESS_TOKEN: OWNER }, /AUTH_RESOURCE .* or AUTH_RESOURCE_FILE .* is required/],
      [{ ...base, AUTH_RESOURCE_FILE: '/x' }, /exclusive/],
      [{ ...base, AUTH_RESOURCE: 'http://mcp.example.com/mcp' }, /^AUTH_RESOURCE must be an https URL/],
      [{ ...base, AUTH_RESOURCE: 'https://mcp.example.com/mcp?x' }, /^AUTH_RESOURCE must not contain a query/],
      [{ ACCESS_TOKEN: OWNER, AUTH_RESOURCE_FILE: 'relative' }, /^AUTH_RESOURCE_FILE must be an absolute path/],
      [{ ...base, AUTH_UPSTREAM: 'https://127.0.0.1:8000' }, /^AUTH_UPSTREAM must be a plain http origin/],
      [{ ...base, AUTH_UPSTREAM: 'http://127.0.0.1:8000/mcp' }, /^AUTH_UPSTREAM must be a plain http origin/],
      [{ ...base, AUTH_PORT: '70000' }, /^AUTH_PORT must be a port number/],
      [{ ...base, AUTH_STATE_DIR: 'state' }, /^AUTH_STATE_DIR must be an absolute path/],
      [{ ...base, AUTH_CONTROL_SOCKET: 'sock' }, /^AUTH_CONTROL_SOCKET must be an absolute path/],
      [{ ...base, OAUTH_ACCESS_TTL: '4' }, /^OAUTH_ACCESS_TTL must be a whole number of seconds from 5 to 86400/],
      [{ ...base, OAUTH_ACCESS_TTL: '15m' }, /^OAUTH_ACCESS_TTL/],
      [{ ...base, OAUTH_REFRESH_TTL: '31536001' }, /^OAUTH_REFRESH_TTL must be a whole number of seconds from 60 to 31536000/],
      [{ ...base, LOG_LEVEL: 'trace' }, /^LOG_LEVEL 'trace' is not info, debug or none/],
      [{ ...base, OAUTH_CIMD_ALLOW: 'https://docs.example' }, /^OAUTH_CIMD_ALLOW entry 'https:\/\/docs.example' is not a host name/],
      [{ ...base, AUTH_CIMD_CA_FILE: 'ca.pem' }, /^AUTH_CIMD_CA_FILE must be an absolute path/],
    ];
    for (const [env, message] of cases)
      assert.throws(
        () => parseConfig(env),
        (e: any) => e instanceof ConfigError && message.test(e.message),
        JSON.stringify(env),
      );
    assert.equal(parseConfig({ ...base, AUTH_RESOURCE: 'http://127.0.0.1:8080/mcp' }).resource, 'http://127.0.0.1:8080/mcp', 'http on loopback is fine');
  });
});

describe('proxy headers (proxy.mjs)', () => {
  it('drops hop-by-hop headers, those named in Connection, and the ones asked', async () => {
    const { endToEndHeaders } = await authModule('proxy.mjs');
    assert.deepEqual(
      endToEndHeaders(
        {
          connection: 'keep-alive, x-private',
          'keep-alive': '5',
          'x-private': '1',
          'transfer-encoding': 'chunked',
          te: 'trailers',
          upgrade: 'h2c',
          authorization: 'Bearer t',
          accept: 'text/event-stream',
          'mcp-session-id': 's',
        },
        ['authorization'],
      ),
      { accept: 'text/event-stream', 'mcp-session-id': 's' },
    );
  });
});
