// @ts-check
// PKCE (RFC 7636), S256 only as OAuth 2.1 asks: plain and absent are refused at /authorize.
import { createHash } from 'node:crypto';
import { sameSecret } from './secrets.mjs';

/** BASE64URL(SHA256(verifier)) of 32 bytes: 43 characters. */
export const isChallenge = (value) => typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value);
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
export const isVerifier = (value) => typeof value === 'string' && /^[A-Za-z0-9._~-]{43,128}$/.test(value);

export const challengeOf = (verifier) => createHash('sha256').update(verifier, 'ascii').digest('base64url');

export function verifyS256(verifier, challenge) {
  if (!isVerifier(verifier) || !isChallenge(challenge)) return false;
  return sameSecret(challengeOf(verifier), challenge);
}
