// @ts-check
// The protected resource: fixed (nginx, AUTH_RESOURCE) or the tunnel's public
// URL, read from the file the tunnel agent writes each time it connects
// (AUTH_RESOURCE_FILE). Read per request: a new tunnel URL means a new
// resource, and tokens bound to the old one stop working. Never derived from
// a request's Host or X-Forwarded-* headers.
import { readFileSync } from 'node:fs';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** null when `url` may name this instance (https, or http on loopback; no userinfo, query or fragment), else why not. */
export function publicUrlProblem(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.username || url.password) return 'must not contain userinfo';
  if (url.search || url.hash || text.includes('?') || text.includes('#')) return 'must not contain a query or fragment';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return null;
  return 'must be an https URL (plain http only on the loopback interface)';
}

/**
 * The tunnel file holds a base URL such as https://abc.a.pinggy.link; the
 * resource is its origin plus /mcp. Our own tunnel agent wrote it, and it is
 * what clients dial: a tunnel without TLS (a self-hosted SSH server such as the
 * tests' stand-in publishes http://host:port) is taken as it is, since OAuth
 * adds no cleartext that the static token would not already have there.
 */
export function resourceFromPublicUrl(content) {
  const text = String(content ?? '').trim();
  if (!text) return undefined;
  const problem = publicUrlProblem(text);
  if (problem && !(problem.startsWith('must be an https URL') && text.startsWith('http://'))) return undefined;
  return `${new URL(text).origin}/mcp`;
}

/** A function returning the current resource URL, or undefined while it is unknown (tunnel down). */
export function resourceSource({ resource, resourceFile }) {
  if (resource) return () => resource;
  return () => {
    try {
      return resourceFromPublicUrl(readFileSync(resourceFile, 'utf8'));
    } catch {
      return undefined;
    }
  };
}
