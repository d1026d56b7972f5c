// @ts-check
// The Host of a plain HTTP/1.x request, read from the first bytes of a
// connection. Only the first request of a connection is read, so the request
// is sent on with `Connection: close` in place of the client's own connection
// headers: the server answers that one request and closes, and a second
// request with another Host never reaches it on this connection (a CDN routes
// each request by its own Host). Upgrade (WebSocket, h2c) is dropped for the
// same reason. A request target in absolute form (`GET http://other/ ...`),
// which a server must prefer over Host, is refused, as are CONNECT, two Host
// headers, and anything that is not an HTTP/1.x request head within the bound.

/** The most bytes buffered while waiting for the end of the request head. */
export const MAX_HEAD_BYTES = 16 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^([A-Z]{1,20}) (\S+) HTTP\/1\.[01]$/;
const HEADER = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);

/**
 * @typedef {{ status: 'more' }} NeedMore
 * @typedef {{ status: 'name', name: string, replay: Buffer }} Named
 *   `replay`: the bytes to send upstream in place of what was read (the head
 *   rewritten, then whatever followed it).
 * @typedef {{ status: 'refused', reason: string }} Refused
 * @typedef {NeedMore | Named | Refused} HostResult
 */

/** @param {string} reason @returns {Refused} */
const refused = (reason) => ({ status: 'refused', reason });

/**
 * Does this look like the start of an HTTP request (a method token and a
 * space)? Used to tell HTTP from other protocols before the head is whole.
 * @param {Buffer} bytes
 */
export function looksLikeHttp(bytes) {
  const start = bytes.subarray(0, 21).toString('latin1');
  return /^[A-Z]{1,20}( |$)/.test(start);
}

/**
 * @param {Buffer} bytes everything the client has sent so far
 * @returns {HostResult}
 */
export function readHttpHost(bytes) {
  if (!looksLikeHttp(bytes)) return refused('neither TLS nor HTTP');
  const end = bytes.indexOf(HEAD_END);
  if (end === -1) return bytes.length >= MAX_HEAD_BYTES ? refused(`no whole HTTP request head in ${MAX_HEAD_BYTES} bytes`) : { status: 'more' };
  if (end + HEAD_END.length > MAX_HEAD_BYTES) return refused(`HTTP request head larger than ${MAX_HEAD_BYTES} bytes`);
  const lines = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const request = REQUEST_LINE.exec(lines[0] ?? '');
  if (!request) return refused('malformed HTTP request line');
  const [, method, target = ''] = request;
  if (method === 'CONNECT') return refused('HTTP CONNECT');
  if (!target.startsWith('/') && !(method === 'OPTIONS' && target === '*')) return refused('HTTP request target not in origin form (an absolute URL)');
  /** @type {string[]} */
  const kept = [];
  /** @type {string | undefined} */
  let host;
  for (const line of lines.slice(1)) {
    const header = HEADER.exec(line);
    if (!header) return refused('malformed HTTP header');
    const field = (header[1] ?? '').toLowerCase();
    if (field === 'host') {
      if (host !== undefined) return refused('two Host headers');
      host = header[2] ?? '';
    }
    if (!DROPPED.has(field)) kept.push(line);
  }
  if (host === undefined) return refused('no Host header');
  const name = hostName(host);
  if (name === undefined) return refused('a Host header that is not a name');
  const head = [lines[0], ...kept, 'Connection: close', '', ''].join('\r\n');
  return { status: 'name', name, replay: Buffer.concat([Buffer.from(head, 'latin1'), bytes.subarray(end + HEAD_END.length)]) };
}

/**
 * The name of a Host value (`name` or `name:port`); undefined for an IPv6
 * literal or anything with characters no name has (the matcher checks the rest).
 * @param {string} value
 */
function hostName(value) {
  const match = /^([A-Za-z0-9.-]+)(?::[0-9]{1,5})?$/.exec(value);
  return match?.[1];
}
