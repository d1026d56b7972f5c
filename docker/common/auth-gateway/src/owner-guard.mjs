// @ts-check
// Who may consent: the person who proves they own this instance with
// ACCESS_TOKEN or OAUTH_OWNER_PASSPHRASE. Wrong secrets are counted per source
// and in total (rate-limit.mjs); once a count is full, only secrets too long to
// guess are still compared, so strangers can lock out guessing but not the owner.
//
// Checking the lock, comparing and recording a wrong secret happen in one
// synchronous call, after the body was read: no await between them, so posts
// that arrive together cannot all pass a check made before any was recorded.
import { matchesAny } from './secrets.mjs';

/**
 * A passphrase this long is compared even while the lock holds. ACCESS_TOKEN
 * always is: the same token opens /mcp as a bearer token, where no limiter
 * counts guesses, so the lock adds nothing for it (npm run gen_key makes 256
 * bits). 40 characters of a human-chosen passphrase (about seven words) hold
 * some 80 bits, out of reach of online guessing at any rate the gateway serves.
 */
export const UNLIMITED_PASSPHRASE_LENGTH = 40;

/**
 * @param {{ accessToken: string, passphrase?: string, limiter: import('./rate-limit.mjs').RateLimiter }} options
 * @returns {(secret: unknown, source: string) => { ok: true } | { ok: false, retryAfter?: number }}
 *   retryAfter is set when the lock refused the secret without comparing it with a weak one.
 */
export function ownerGuard({ accessToken, passphrase = '', limiter }) {
  const all = [accessToken, passphrase];
  const unlimited = [accessToken, passphrase.length >= UNLIMITED_PASSPHRASE_LENGTH ? passphrase : ''];
  return (secret, source) => {
    const proves = (secrets) => typeof secret === 'string' && secret.length > 0 && matchesAny(secret, secrets);
    const limit = limiter.check(source);
    if (!limit.ok) return proves(unlimited) ? { ok: true } : { ok: false, retryAfter: limit.retryAfter };
    if (proves(all)) return { ok: true };
    limiter.record(source);
    return { ok: false };
  };
}
