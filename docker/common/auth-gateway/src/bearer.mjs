// @ts-check
// Is a request authorized for the protected resource? Its Authorization header
// must carry either the static ACCESS_TOKEN (compared in constant time on
// hashes) or a live OAuth access token issued for the current resource: the
// audience is compared on every request, so a token for another resource
// (another instance, or this one before its tunnel URL changed) is refused.
import { SCOPE, resourceMetadataUrl } from './metadata.mjs';
import { sameSecret } from './secrets.mjs';

/** The token of a `Bearer <token>` header, else undefined. */
export function bearerToken(header) {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}

/**
 * { ok: true, kind: 'static' | 'oauth', row? } or { ok: false, presented }
 * (presented: a token was sent, so the 401 says error="invalid_token").
 */
export function checkAuthorization(header, { store, staticToken, resource }) {
  const token = bearerToken(header);
  if (token === undefined) return { ok: false, presented: typeof header === 'string' && header.length > 0 };
  if (sameSecret(token, staticToken)) return { ok: true, kind: 'static' };
  const row = store.findAccess(token);
  if (row && row.resource === resource) return { ok: true, kind: 'oauth', row };
  return { ok: false, presented: true };
}

/** RFC 9728 §5.1: where a client finds out how to get a token, and (RFC 6750 §3) the scope it needs. */
export function wwwAuthenticate(resource, presented) {
  return `Bearer resource_metadata="${resourceMetadataUrl(resource)}", scope="${SCOPE}"${presented ? ', error="invalid_token"' : ''}`;
}

/** Does a request target (path and query) carry an access_token query parameter? Tokens go in the header only. */
export function hasQueryToken(target) {
  const query = String(target ?? '')
    .split('#')[0]
    .split('?')
    .slice(1)
    .join('?');
  if (!query) return false;
  return new URLSearchParams(query).has('access_token');
}
