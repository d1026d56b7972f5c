// @ts-check
// Which redirect URIs a client may register (RFC 8252, OAuth 2.1 §2.3.1):
// https to any host, or plain http to the loopback interface on any port (a
// native app's local listener). No fragment, no userinfo, no wildcard. At
// /authorize the URI must then equal a registered one, character for character.

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** null when `uri` may be registered, else the reason in words. */
export function redirectUriProblem(uri) {
  if (typeof uri !== 'string' || uri.length === 0) return 'a redirect URI must be a non-empty string';
  if (uri.length > 2000) return 'a redirect URI is limited to 2000 characters';
  if (/[\s\p{Cc}]/u.test(uri)) return 'a redirect URI must not contain spaces or control characters';
  if (uri.includes('*')) return 'a redirect URI must not contain a wildcard';
  if (uri.includes('#')) return 'a redirect URI must not contain a fragment';
  let url;
  try {
    url = new URL(uri);
  } catch {
    return `'${uri.slice(0, 100)}' is not an absolute URL`;
  }
  if (url.username || url.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(uri)) return 'a redirect URI must not contain userinfo';
  if (url.protocol === 'https:') return url.hostname ? null : 'an https redirect URI needs a host';
  if (url.protocol === 'http:') return LOOPBACK.has(url.hostname) ? null : 'plain http redirect URIs are allowed only to localhost, 127.0.0.1 or [::1]';
  return `the scheme ${url.protocol} is not allowed (https, or http to the loopback interface)`;
}
