// @ts-check
// Random values and comparisons of secrets. Secrets are compared as SHA-256
// hashes with timingSafeEqual, so neither their content nor their length
// shows in the time an answer takes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits, base64url: codes, tokens, CSRF values, family and client ids. */
export const randomToken = () => randomBytes(32).toString('base64url');

export const sha256 = (text) => createHash('sha256').update(String(text), 'utf8').digest();
export const sha256Hex = (text) => sha256(text).toString('hex');

/** Constant-time equality of two strings of any length. */
export function sameSecret(a, b) {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  return timingSafeEqual(sha256(a), sha256(b));
}

/** Constant-time: is `candidate` one of `secrets` (empty ones never match)? Every one is compared. */
export function matchesAny(candidate, secrets) {
  let match = false;
  for (const secret of secrets) if (secret && sameSecret(candidate, secret)) match = true;
  return match;
}
