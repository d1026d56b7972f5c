// @ts-check
// POST /token: the authorization_code and refresh_token grants. A confidential
// client's secret is checked before (client-secret.mjs, in the handler). Every
// failure is an RFC 6749 §5.2 error; none names a secret.
import { verifyS256 } from './pkce.mjs';

class GrantError extends Error {
  constructor(error, description, status = 400) {
    super(description);
    this.error = error;
    this.description = description;
    this.status = status;
  }
}

/** { ok: true, tokens, event } or { ok: false, status, error, description, event? }. */
export function tokenRequest(form, { store, resource, ...known }) {
  try {
    return grant(form, { store, resource, client: 'client' in known ? known.client : store.getClient(form.client_id) });
  } catch (error) {
    if (error instanceof GrantError)
      return {
        ok: false,
        status: error.status,
        error: error.error,
        description: error.description,
        event: /** @type {GrantError & { event?: string }} */ (error).event,
      };
    throw error;
  }
}

function grant(form, { store, resource, client }) {
  if (form.resource !== undefined && form.resource !== resource) throw new GrantError('invalid_target', `this server is the resource ${resource}`);
  if (!client) throw new GrantError('invalid_client', 'unknown client_id (public clients send it in the body)', 401);

  if (form.grant_type === 'authorization_code') {
    if (!form.code || !form.code_verifier || !form.redirect_uri) throw new GrantError('invalid_request', 'code, code_verifier and redirect_uri are required');
    const taken = store.takeCode(form.code);
    if (taken.status === 'reused')
      throw Object.assign(new GrantError('invalid_grant', 'the code was already used; the tokens issued from it are revoked'), {
        event: `code used a second time by ${client.client_id}: revoked ${taken.revoked} tokens issued from it`,
      });
    if (taken.status !== 'ok') throw new GrantError('invalid_grant', 'the code is unknown, expired or revoked');
    const code = taken.row;
    if (code.client_id !== client.client_id) throw new GrantError('invalid_grant', 'the code was issued to another client');
    if (code.redirect_uri !== form.redirect_uri) throw new GrantError('invalid_grant', 'redirect_uri differs from the authorization request');
    if (!verifyS256(form.code_verifier, code.code_challenge)) throw new GrantError('invalid_grant', 'the PKCE code_verifier does not match the code_challenge');
    if (code.resource !== resource) throw new GrantError('invalid_grant', 'the code was issued for another resource');
    return {
      ok: true,
      tokens: store.issueTokens({ client_id: client.client_id, resource, scope: code.scope, family: code.family }),
      event: `issued tokens to ${client.client_id}`,
    };
  }

  if (form.grant_type === 'refresh_token') {
    if (!form.refresh_token) throw new GrantError('invalid_request', 'refresh_token is required');
    const taken = store.takeRefresh(form.refresh_token, client.client_id);
    if (taken.status === 'reused')
      throw Object.assign(new GrantError('invalid_grant', 'the refresh token was already used; its whole family is revoked'), {
        event: `refresh token reused by ${client.client_id}: revoked ${taken.revoked} tokens of its family`,
      });
    if (taken.status !== 'ok') throw new GrantError('invalid_grant', 'the refresh token is unknown, expired, revoked or issued to another client');
    if (taken.row.resource !== resource) throw new GrantError('invalid_grant', 'the refresh token was issued for another resource');
    return {
      ok: true,
      tokens: store.issueTokens({ client_id: client.client_id, resource, scope: taken.row.scope, family: taken.row.family }),
      event: `refreshed tokens of ${client.client_id}`,
    };
  }

  throw new GrantError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
}
