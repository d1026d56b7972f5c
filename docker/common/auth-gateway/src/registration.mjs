// @ts-check
// Dynamic client registration (RFC 7591). Public clients ("none") are the
// default; a client that asks for client_secret_post or client_secret_basic is
// confidential and gets a secret (client-secret.mjs). What a client asks for
// beyond that is not refused but answered with what it gets: RFC 7591 §3.2.1
// lets the server replace requested values, and clients such as the MCP SDK's
// take the answer.
import { CONFIDENTIAL_METHODS } from './client-secret.mjs';
import { redirectUriProblem } from './redirect-uri.mjs';

export const MAX_REDIRECT_URIS = 10;

/** { ok: true, request: { client_name, redirect_uris, token_endpoint_auth_method } } or { ok: false, error, description }. */
export function parseRegistration(body) {
  const bad = (error, description) => ({ ok: false, error, description });
  if (!body || typeof body !== 'object' || Array.isArray(body)) return bad('invalid_client_metadata', 'the body must be a JSON object');
  const uris = body.redirect_uris;
  if (!Array.isArray(uris) || uris.length < 1 || uris.length > MAX_REDIRECT_URIS)
    return bad('invalid_redirect_uri', `redirect_uris must be a list of 1 to ${MAX_REDIRECT_URIS} URIs`);
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem) return bad('invalid_redirect_uri', problem);
  }
  const name = body.client_name;
  if (name !== undefined && name !== null) {
    if (typeof name !== 'string' || name.length > 100 || !/^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]*$/u.test(name))
      return bad('invalid_client_metadata', 'client_name must be at most 100 printable characters');
  }
  const grants = body.grant_types;
  if (grants !== undefined && (!Array.isArray(grants) || !grants.includes('authorization_code')))
    return bad('invalid_client_metadata', 'grant_types must include authorization_code (the only flow offered, with refresh_token)');
  const responses = body.response_types;
  if (responses !== undefined && (!Array.isArray(responses) || !responses.includes('code')))
    return bad('invalid_client_metadata', 'response_types must include code');
  const method = CONFIDENTIAL_METHODS.includes(body.token_endpoint_auth_method) ? body.token_endpoint_auth_method : 'none';
  return {
    ok: true,
    request: {
      client_name: typeof name === 'string' && name.trim() ? name.trim() : undefined,
      redirect_uris: [...new Set(uris)],
      token_endpoint_auth_method: method,
    },
  };
}

/** The 201 answer: the client's metadata as registered, and a confidential client's secret (shown this once, never stored). */
export function registrationResponse(client, secret) {
  return {
    client_id: client.client_id,
    client_id_issued_at: Math.floor(client.created_at / 1000),
    ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
    ...(client.client_name ? { client_name: client.client_name } : {}),
    redirect_uris: client.redirect_uris,
    token_endpoint_auth_method: client.token_endpoint_auth_method ?? 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: 'mcp',
  };
}
