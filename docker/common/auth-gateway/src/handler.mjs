// @ts-check
// Routing: the OAuth endpoints, the introspection nginx asks, health, and in
// tunnel mode (an upstream is set) the check-then-proxy of everything else.
import { randomBytes } from 'node:crypto';
import { answerClient, checkAuthorizeRequest, redirectTo } from './authorize.mjs';
import { checkAuthorization, hasQueryToken, wwwAuthenticate } from './bearer.mjs';
import { findClient } from './cimd.mjs';
import { clientAuthProblem, newClientSecret, presentedCredentials } from './client-secret.mjs';
import { AUTHORIZE_FIELDS, PAGE_HEADERS, consentPage, csrfCookie, csrfMatches, errorPage } from './consent.mjs';
import { HttpError, queryOf, readForm, readJsonBody, sendJson, sendOAuthError, sendText } from './http-util.mjs';
import { authorizationServerMetadata, issuerOf, protectedResourceMetadata } from './metadata.mjs';
import { UNLIMITED_PASSPHRASE_LENGTH } from './owner-guard.mjs';
import { proxyRequest } from './proxy.mjs';
import { parseRegistration, registrationResponse } from './registration.mjs';
import { tokenRequest } from './token.mjs';

const OAUTH_PATHS = new Set([
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-protected-resource/mcp',
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/register',
  '/authorize',
  '/token',
  '/revoke',
]);

/**
 * Where a request comes from, for rate limits. Behind nginx, X-Sandbox-Client
 * names the client (nginx sets it; the firewall keeps the MCP server's user
 * off this port). In tunnel mode no proxy of ours sets it, so a client could:
 * it is ignored and every request counts as the tunnel agent's address.
 */
export const sourceOf = (req, trustHeader) =>
  (trustHeader ? String(req.headers['x-sandbox-client'] ?? '').slice(0, 64) : '') || req.socket.remoteAddress || 'unknown';

/**
 * @param {object} ctx
 * @param {import('./store.mjs').Store} ctx.store
 * @param {() => string | undefined} ctx.resource the current resource URL
 * @param {string} ctx.accessToken
 * @param {string} [ctx.passphrase]
 * @param {string} [ctx.upstream] tunnel mode: where authorized requests go
 * @param {import('./cimd.mjs').CimdClients} ctx.cimd client ids that are metadata document URLs
 * @param {ReturnType<typeof import('./owner-guard.mjs').ownerGuard>} ctx.ownerGuard judges an owner secret (wrong ones are counted)
 * @param {import('./rate-limit.mjs').RateLimiter} [ctx.registerLimiter] registrations per source (nginx mode: a tunnel has one source)
 * @param {{ info: (line: string) => void, debug: (line: string) => void }} ctx.log
 */
export function createHandler(ctx) {
  const { store, log } = ctx;

  const unknownResource = (res) =>
    sendOAuthError(res, 503, 'temporarily_unavailable', 'the public URL of this instance is not known yet (the tunnel is connecting); try again shortly', {
      'Retry-After': '5',
    });

  function unauthorized(res, resource, presented) {
    sendOAuthError(
      res,
      401,
      presented ? 'invalid_token' : 'invalid_request',
      presented ? 'the access token is not valid for this resource' : 'authorization required',
      {
        'WWW-Authenticate': wwwAuthenticate(resource, presented),
      },
    );
  }

  function page(res, status, html, headers = {}) {
    res.writeHead(status, { ...PAGE_HEADERS, ...headers });
    res.end(html);
  }

  /** @param {import('node:http').ServerResponse} res @param {{ client: any, params: any, status?: number, error?: string, headers?: Record<string, string> }} consent */
  function showConsent(res, { client, params, status = 200, error, headers = {} }) {
    const csrf = randomBytes(32).toString('base64url');
    page(res, status, consentPage({ client, params, csrf, passphrase: Boolean(ctx.passphrase), error }), { ...headers, 'Set-Cookie': csrfCookie(csrf) });
  }

  /** 302 after a GET; 303 after a POST, so that no browser repeats the POST at the client (RFC 9700 §4.12). */
  function redirect(res, location, status = 302) {
    res.writeHead(status, { Location: location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    res.end();
  }

  /** An answer of checkAuthorizeRequest or answerClient: a page, or a redirect. */
  /**
   * @param {import('node:http').ServerResponse} res
   * @param {{ page?: { status: number, title: string, message: string, target?: string }, redirect?: string }} outcome
   * @param {number} status
   */
  function answer(res, { page: shown, redirect: location }, status) {
    if (shown) return page(res, shown.status, errorPage(shown.title, shown.message, shown.target));
    redirect(res, location, status);
  }

  /** A client id's client; a document that cannot be used is answered with a page (never a redirect: nothing about it is trusted). */
  async function clientOrPage(res, clientId) {
    const found = await findClient(clientId, ctx);
    if (found.problem) page(res, 400, errorPage('Client refused', found.problem));
    return found;
  }

  async function authorizeGet(req, res, resource) {
    const params = queryOf(req.url);
    const found = await clientOrPage(res, params.client_id);
    if (found.problem) return;
    const checked = checkAuthorizeRequest(params, { store, resource, client: found.client });
    if (!checked.ok) return answer(res, checked, 302);
    showConsent(res, { client: checked.client, params });
  }

  async function authorizePost(req, res, resource) {
    const source = sourceOf(req, !ctx.upstream);
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== issuerOf(resource)) {
      log.info(`consent refused: a form from a foreign origin (source ${source})`);
      return page(res, 403, errorPage('Forbidden', 'This form was not sent from this server’s own page.'));
    }
    const form = await readForm(req);
    if (!csrfMatches(req.headers.cookie, form.csrf)) {
      log.info(`consent refused: CSRF check failed (source ${source})`);
      return page(res, 403, errorPage('Forbidden', 'The form’s security check failed. Reload the connection from the app and try again.'));
    }
    const params = {};
    for (const name of AUTHORIZE_FIELDS) if (form[name] !== undefined) params[name] = form[name];
    const found = await clientOrPage(res, params.client_id);
    if (found.problem) return;
    const checked = checkAuthorizeRequest(params, { store, resource, client: found.client });
    if (!checked.ok) return answer(res, checked, 303);
    const { client, request } = checked;
    const iss = issuerOf(resource);
    if (form.decision !== 'allow') {
      log.info(`consent denied to ${client.client_id}`);
      const denied = { error: 'access_denied', error_description: 'the owner denied access', state: request.state, iss };
      return answer(res, answerClient(client, request.redirect_uri, denied), 303);
    }
    // One synchronous step: the lock, the comparison and the count (owner-guard.mjs).
    const verdict = ctx.ownerGuard(form.owner_secret, source);
    if (!verdict.ok && verdict.retryAfter) {
      log.info(`consent refused from ${source}: too many wrong owner secrets (retry after ${verdict.retryAfter} s)`);
      return showConsent(res, {
        client,
        params,
        status: 429,
        error: `Too many wrong owner secrets. For ${verdict.retryAfter} seconds only ACCESS_TOKEN (or a passphrase of at least ${UNLIMITED_PASSPHRASE_LENGTH} characters) is accepted.`,
        headers: { 'Retry-After': String(verdict.retryAfter) },
      });
    }
    if (!verdict.ok) {
      log.info(`wrong owner secret from ${source}`);
      return showConsent(res, { client, params, status: 401, error: 'That is not the owner secret of this instance.' });
    }
    const code = store.issueCode(request);
    log.info(`consent granted to ${client.client_id}`);
    redirect(res, redirectTo(request.redirect_uri, { code, state: request.state, iss }), 303);
  }

  async function register(req, res) {
    const source = sourceOf(req, !ctx.upstream);
    const limit = ctx.registerLimiter?.check(source) ?? { ok: true };
    if (!limit.ok) return sendOAuthError(res, 429, 'slow_down', 'too many registrations; try again later', { 'Retry-After': String(limit.retryAfter) });
    ctx.registerLimiter?.record(source);
    const parsed = parseRegistration(await readJsonBody(req));
    if (!parsed.ok) return sendOAuthError(res, 400, parsed.error, parsed.description);
    const secret = parsed.request.token_endpoint_auth_method === 'none' ? undefined : newClientSecret();
    const { client, dropped } = store.registerClient({ ...parsed.request, client_secret_hash: secret?.hash });
    if (dropped) log.info(`dropped client ${dropped.client_id} (the limit of ${store.maxPending} clients waiting for consent was reached)`);
    log.info(`registered ${secret ? 'confidential ' : ''}client ${client.client_id} ${JSON.stringify(client.client_name ?? '')}`);
    sendJson(res, 201, registrationResponse(client, secret?.secret));
  }

  async function token(req, res, resource) {
    const form = await readForm(req);
    const presented = presentedCredentials(req.headers.authorization, form);
    if (!presented.ok) return sendOAuthError(res, 401, 'invalid_client', presented.description);
    const found = await findClient(presented.client_id, ctx);
    if (found.problem) return sendOAuthError(res, 401, 'invalid_client', found.problem);
    const authProblem = found.client && clientAuthProblem(found.client, presented);
    if (authProblem) {
      log.info(`token request refused for ${found.client.client_id}: ${authProblem}`);
      return sendOAuthError(res, 401, 'invalid_client', authProblem);
    }
    const result = tokenRequest({ ...form, client_id: presented.client_id }, { store, resource, client: found.client });
    if (result.event) log.info(result.event);
    if (!result.ok) return sendOAuthError(res, result.status, result.error, result.description);
    sendJson(res, 200, {
      access_token: result.tokens.access_token,
      token_type: 'Bearer',
      expires_in: result.tokens.expires_in,
      refresh_token: result.tokens.refresh_token,
      scope: 'mcp',
    });
  }

  /**
   * RFC 7009. A confidential client authenticates as at /token (a stolen token of
   * such a client cannot be revoked by whoever holds it); a public client has no
   * secret, so holding its token is the proof. A token that is unknown, spent, or
   * another client's is left alone with the same 200 (§2.2): the answer tells
   * nothing about a token the caller may not revoke.
   */
  async function revoke(req, res) {
    const form = await readForm(req);
    const presented = presentedCredentials(req.headers.authorization, form);
    if (!presented.ok) return sendOAuthError(res, 401, 'invalid_client', presented.description);
    const owner = store.tokenClientId(form.token);
    if (!owner || (presented.client_id !== undefined && presented.client_id !== owner)) return sendJson(res, 200, {});
    // The token's own client (never a client_id the caller chose): registered, or a document already used at consent.
    const found = await findClient(owner, ctx);
    const authProblem = found.client ? clientAuthProblem(found.client, presented) : null;
    if (authProblem) {
      log.info(`revocation refused for ${owner}: ${authProblem}`);
      return sendOAuthError(res, 401, 'invalid_client', authProblem);
    }
    const count = store.revokeToken(form.token, owner);
    if (count > 0) log.info(`revoked ${count} tokens at the request of ${owner}`);
    sendJson(res, 200, {});
  }

  function introspect(req, res, resource) {
    if (hasQueryToken(req.headers['x-original-uri']))
      return sendOAuthError(res, 400, 'invalid_request', 'tokens are accepted in the Authorization header only');
    const verdict = checkAuthorization(req.headers.authorization, { store, staticToken: ctx.accessToken, resource });
    if (verdict.ok) {
      res.writeHead(204);
      return res.end();
    }
    unauthorized(res, resource, verdict.presented);
  }

  function protectedRequest(req, res, resource) {
    if (hasQueryToken(req.url)) return sendOAuthError(res, 400, 'invalid_request', 'tokens are accepted in the Authorization header only');
    const verdict = checkAuthorization(req.headers.authorization, { store, staticToken: ctx.accessToken, resource });
    if (!verdict.ok) return unauthorized(res, resource, verdict.presented);
    proxyRequest(req, res, ctx.upstream, { onError: (error) => log.info(`upstream request failed: ${error.code ?? error.message}`) });
  }

  async function route(req, res) {
    const path = String(req.url ?? '/').split('?')[0];
    const method = req.method;
    if (path === '/.sandbox/auth-health' && (method === 'GET' || method === 'HEAD')) return sendText(res, 200, 'ok\n');
    const isOAuth = OAUTH_PATHS.has(path);
    const isIntrospect = !ctx.upstream && path === '/.sandbox/introspect';
    if (!isOAuth && !isIntrospect && !ctx.upstream) return sendOAuthError(res, 404, 'not_found', 'not an endpoint of the auth gateway');
    const resource = ctx.resource();
    if (!resource) return unknownResource(res);
    if (!isOAuth && !isIntrospect) return protectedRequest(req, res, resource);
    if (isIntrospect) return introspect(req, res, resource);
    if (hasQueryToken(req.url)) return sendOAuthError(res, 400, 'invalid_request', 'tokens are accepted in the Authorization header only');

    const want = (allowed) => {
      if (allowed.includes(method)) return true;
      sendOAuthError(res, 405, 'invalid_request', `use ${allowed.join(' or ')}`, { Allow: allowed.join(', ') });
      return false;
    };
    switch (path) {
      case '/.well-known/oauth-protected-resource':
      case '/.well-known/oauth-protected-resource/mcp':
        return want(['GET']) && sendJson(res, 200, protectedResourceMetadata(resource), { 'Cache-Control': 'max-age=60' });
      case '/.well-known/oauth-authorization-server':
        return want(['GET']) && sendJson(res, 200, authorizationServerMetadata(resource), { 'Cache-Control': 'max-age=60' });
      case '/.well-known/openid-configuration':
        return sendOAuthError(res, 404, 'not_found', 'this authorization server is not an OpenID provider; see /.well-known/oauth-authorization-server');
      case '/register':
        return want(['POST']) && register(req, res);
      case '/authorize':
        if (method === 'GET') return authorizeGet(req, res, resource);
        return want(['GET', 'POST']) && authorizePost(req, res, resource);
      case '/token':
        return want(['POST']) && token(req, res, resource);
      case '/revoke':
        return want(['POST']) && revoke(req, res);
    }
  }

  return (req, res) => {
    // LOG_LEVEL=debug: one line per request, the path without its query (which may hold a code or state).
    res.once('finish', () => log.debug(`${req.method} ${String(req.url ?? '/').split('?')[0]} -> ${res.statusCode}`));
    route(req, res).catch((error) => {
      if (error instanceof HttpError) return sendOAuthError(res, error.status, error.error, error.description);
      log.info(`request failed: ${error.message}`);
      sendOAuthError(res, 500, 'server_error', 'internal error of the auth gateway');
    });
  };
}
