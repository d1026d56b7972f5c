// @ts-check
// GET and POST /authorize: the checks, in the order the redirect rules need.
// The client and its redirect URI are checked first; while either is bad the
// answer is an error page, never a redirect (an open redirector otherwise).
// Once the redirect URI is known, errors go back to the client by redirect,
// with state and iss (RFC 9207), but only to a client the owner has consented
// to once: registration is open, so before that a redirect would send anyone's
// browser wherever a stranger registered (RFC 9700 §4.11.2). Until then the
// answer is a page that writes the address out.
import { SCOPE, issuerOf } from './metadata.mjs';
import { isChallenge } from './pkce.mjs';

/** URL of the redirect back to the client, with `params` added to its query. */
export function redirectTo(redirectUri, params) {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
}

/** Has the owner consented to this client once? Only then are errors and a deny sent back by redirect. */
export const trustedClient = (client) => Boolean(client.used_at);

/**
 * How an error reaches the client: { redirect } to a trusted client, else
 * { page } naming the address it would have gone to (with the error, never a link).
 */
export function answerClient(client, redirectUri, params) {
  if (trustedClient(client)) return { redirect: redirectTo(redirectUri, params) };
  const why = params.error_description ? ` (${params.error}: ${params.error_description})` : ` (${params.error})`;
  return {
    page: {
      status: params.error === 'access_denied' ? 403 : 400,
      title: params.error === 'access_denied' ? 'Access denied' : 'The request was not valid',
      message: `The app was not sent back${why}. This server redirects only to apps its owner has allowed once; close this page. The app asked to go to:`,
      target: redirectUri,
    },
  };
}

/**
 * { page: { status, title, message, target? } } (no redirect), { redirect: url } for
 * errors the client gets, or { ok: true, client, request } when the request
 * may be shown to the owner.
 */
export function checkAuthorizeRequest(params, { store, resource, ...known }) {
  // `client`, when given, is the one the handler found (a metadata document's, cimd.mjs).
  const client = 'client' in known ? known.client : store.getClient(params.client_id);
  if (!client)
    return {
      page: { status: 400, title: 'Unknown client', message: 'This client is not registered here (client_id). Start the connection again from the app.' },
    };
  if (typeof params.redirect_uri !== 'string' || !client.redirect_uris.includes(params.redirect_uri))
    return {
      page: { status: 400, title: 'Unregistered redirect URI', message: 'The redirect_uri is not one this client registered. Nothing was sent to it.' },
    };
  const back = (error, description) =>
    answerClient(client, params.redirect_uri, { error, error_description: description, state: params.state, iss: issuerOf(resource) });
  if (params.response_type !== 'code') return back('unsupported_response_type', 'response_type must be code');
  if (params.code_challenge_method !== 'S256') return back('invalid_request', 'PKCE with code_challenge_method=S256 is required');
  if (!isChallenge(params.code_challenge)) return back('invalid_request', 'code_challenge must be 43 base64url characters (S256)');
  if (params.resource !== undefined && params.resource !== resource) return back('invalid_target', `this server is the resource ${resource}`);
  const scopes = (params.scope ?? '').split(' ').filter(Boolean);
  if (scopes.some((scope) => scope !== SCOPE)) return back('invalid_scope', `the only scope is ${SCOPE}`);
  return {
    ok: true,
    client,
    request: {
      client_id: client.client_id,
      redirect_uri: params.redirect_uri,
      code_challenge: params.code_challenge,
      resource,
      scope: SCOPE,
      state: params.state,
    },
  };
}
