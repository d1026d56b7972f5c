// @ts-check
// The two discovery documents. Both are built from the resource URL the
// gateway was given (never from Host or X-Forwarded-* headers); the issuer is
// the origin of that URL, so every endpoint lives on the instance itself.

export const SCOPE = 'mcp';

export const issuerOf = (resource) => new URL(resource).origin;

export const resourceMetadataUrl = (resource) => `${issuerOf(resource)}/.well-known/oauth-protected-resource/mcp`;

/** RFC 9728. */
export function protectedResourceMetadata(resource) {
  return {
    resource,
    authorization_servers: [issuerOf(resource)],
    bearer_methods_supported: ['header'],
    scopes_supported: [SCOPE],
    resource_name: 'mcp-sandbox',
  };
}

/** RFC 8414. */
export function authorizationServerMetadata(resource) {
  const issuer = issuerOf(resource);
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    revocation_endpoint: `${issuer}/revoke`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [SCOPE],
    // RFC 9207: every answer to the redirect URI carries iss.
    authorization_response_iss_parameter_supported: true,
    // cimd.mjs: an https client_id names the client's own metadata document.
    client_id_metadata_document_supported: true,
  };
}
