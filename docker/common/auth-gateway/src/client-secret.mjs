// @ts-check
// Confidential clients (RFC 6749 §2.3.1): a client that registered with
// client_secret_post or client_secret_basic gets a random 256-bit secret,
// shown once in the registration answer and kept only as its SHA-256 hash.
// At /token it must present it, in the body or in a Basic header; the hashes
// are compared in constant time. Public clients ("none") present none.
import { timingSafeEqual } from 'node:crypto';
import { randomToken, sha256, sha256Hex } from './secrets.mjs';

export const CONFIDENTIAL_METHODS = ['client_secret_basic', 'client_secret_post'];

/** A new secret and the hash the store keeps. */
export function newClientSecret() {
  const secret = randomToken();
  return { secret, hash: sha256Hex(secret) };
}

/** Form-urlencoded, as RFC 6749 §2.3.1 wants the parts of a Basic header (the MCP SDK sends them raw; both decode the same). */
function formDecoded(text) {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * The client's credentials at /token: { ok: true, client_id, secret?, method }
 * or { ok: false, description }. A Basic header names the client itself; only
 * one way of presenting a secret per request (RFC 6749 §2.3).
 */
export function presentedCredentials(authorization, form) {
  const basic = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(String(authorization ?? ''));
  if (basic) {
    const text = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 1) return { ok: false, description: 'the Basic header must carry client_id:client_secret' };
    const clientId = formDecoded(text.slice(0, colon));
    if (form.client_secret !== undefined) return { ok: false, description: 'send the client secret once: in the Basic header or in the body, not both' };
    if (form.client_id !== undefined && form.client_id !== clientId) return { ok: false, description: 'client_id in the body differs from the Basic header' };
    return { ok: true, client_id: clientId, secret: formDecoded(text.slice(colon + 1)), method: 'client_secret_basic' };
  }
  if (form.client_secret !== undefined) return { ok: true, client_id: form.client_id, secret: form.client_secret, method: 'client_secret_post' };
  return { ok: true, client_id: form.client_id, method: 'none' };
}

/** Constant-time: does `secret` hash to `hashHex`? */
export function secretMatches(secret, hashHex) {
  if (typeof secret !== 'string' || typeof hashHex !== 'string' || !/^[0-9a-f]{64}$/.test(hashHex)) return false;
  return timingSafeEqual(sha256(secret), Buffer.from(hashHex, 'hex'));
}

/** null when `presented` authenticates `client` as its registration says, else the reason (never naming a secret). */
export function clientAuthProblem(client, presented) {
  const confidential = CONFIDENTIAL_METHODS.includes(client.token_endpoint_auth_method);
  if (!confidential) return presented.method === 'none' ? null : 'this client is public (token_endpoint_auth_method none): it has no secret to send';
  if (presented.method === 'none') return `this client is confidential: send its client_secret (${client.token_endpoint_auth_method})`;
  return secretMatches(presented.secret, client.client_secret_hash) ? null : 'the client secret is wrong';
}
