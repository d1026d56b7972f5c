// @ts-check
// The safe fetcher of Client ID Metadata Documents. The URL comes from whoever
// opens /authorize, so every hop is checked before a byte is sent:
//   - https only, port 443 unless the owner allowed another (OAUTH_CIMD_ALLOW);
//   - the host name is resolved once, every address it has must be allowed
//     (cimd-address.cjs), and the connection goes to that checked address
//     with the name as TLS servername: a second, different DNS answer
//     (rebinding) is never asked for, and the socket's peer is checked again;
//   - the certificate must be valid for the host name, from Node's CA list
//     plus the image's EXTRA_CA_CERT bundle;
//   - at most MAX_REDIRECTS redirects, each one checked like the first URL;
//   - one deadline for all hops, and a size cap on the body.
// The answer's Cache-Control decides how long the document is kept (cimd.mjs).
import dns from 'node:dns';
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import addressRules from './cimd-address.cjs';

const { addressProblem, portProblem } = addressRules;

export const MAX_DOCUMENT_BYTES = 5 * 1024;
export const FETCH_TIMEOUT_MS = 5_000;
export const MAX_REDIRECTS = 3;

/** Node's CA certificates plus the PEM bundle in `file` when there is one (the image's EXTRA_CA_CERT); undefined: Node's alone. */
export function trustedCas(file) {
  if (!file || !existsSync(file)) return undefined;
  return [...tls.rootCertificates, readFileSync(file, 'utf8')];
}

/** A refusal whose message may be shown on the error page; `detail` (with addresses) goes to the log only. */
export class FetchRefused extends Error {
  constructor(message, detail = message) {
    super(message);
    this.detail = detail;
  }
}

const unbracket = (hostname) => hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();

/** The first checks of a URL, before any lookup: scheme and port. */
function urlProblem(url, allowance, usualPort) {
  if (url.protocol !== 'https:') return `${url.protocol.slice(0, 10)} is not allowed: documents are fetched over https only`;
  if (url.username || url.password) return 'a document URL must not contain userinfo';
  return portProblem(unbracket(url.hostname), Number(url.port || 443), allowance, usualPort);
}

/** Every address of `host`, each allowed; the first is the one connected to. */
async function checkedAddresses(host, allowance, lookup) {
  let addresses;
  if (net.isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
    } catch (error) {
      throw new FetchRefused(`the host ${host} could not be resolved`, `${host}: ${error.code ?? error.message}`);
    }
  }
  if (addresses.length === 0) throw new FetchRefused(`the host ${host} has no address`);
  for (const address of addresses) {
    const problem = addressProblem(host, address, allowance);
    if (problem) throw new FetchRefused(`the document's host ${host} is not on a public address, and the owner has not allowed it`, problem);
  }
  return addresses;
}

/** Cache lifetime from Cache-Control: seconds, or 0 for no-store/no-cache, or undefined when it says nothing. */
export function cacheSeconds(header) {
  const value = String(header ?? '').toLowerCase();
  if (/(^|[\s,])(no-store|no-cache|private)([\s,=]|$)/.test(value)) return 0;
  const maxAge = /(^|[\s,])max-age=("?)(\d{1,10})\2([\s,]|$)/.exec(value);
  return maxAge ? Number(maxAge[3]) : undefined;
}

/** Is the socket's peer the checked address (whatever its written form)? */
export function samePeer(remote, address) {
  if (!remote) return false;
  const checked = new net.BlockList();
  checked.addAddress(address, net.isIPv4(address) ? 'ipv4' : 'ipv6');
  return checked.check(remote, net.isIPv4(remote) ? 'ipv4' : 'ipv6');
}

/** One GET of `url` to `address`: { status, location, cacheControl, body } (body only for 200). */
function getOnce(url, address, { ca, maxBytes, signal }) {
  const host = unbracket(url.hostname);
  return new Promise((resolve, reject) => {
    const request = https.request({
      host: address,
      port: Number(url.port || 443),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { Host: url.host, Accept: 'application/json', 'User-Agent': 'mcp-sandbox-auth-gateway' },
      agent: false,
      ca,
      ...(net.isIP(host) ? {} : { servername: host }),
      checkServerIdentity: (_name, certificate) => tls.checkServerIdentity(host, certificate),
      signal,
    });
    request.on('socket', (socket) => {
      socket.once('connect', () => {
        if (!samePeer(socket.remoteAddress, address))
          request.destroy(new FetchRefused('the connection went elsewhere', `connected to ${socket.remoteAddress}, checked ${address}`));
      });
    });
    request.on('error', (/** @type {NodeJS.ErrnoException} */ error) =>
      reject(
        error instanceof FetchRefused
          ? error
          : signal.aborted
            ? new FetchRefused(`no answer within ${FETCH_TIMEOUT_MS / 1000} seconds`)
            : new FetchRefused(`the document could not be fetched (${error.code ?? 'connection failed'})`, `${url.host}: ${error.code ?? ''} ${error.message}`),
      ),
    );
    request.on('response', (response) => {
      const base = { status: response.statusCode, location: response.headers.location, cacheControl: response.headers['cache-control'] };
      if (response.statusCode !== 200) {
        response.resume();
        return resolve(base);
      }
      // Rejected first, then torn down: a destroyed response may still end "normally".
      const tooLarge = () => {
        reject(new FetchRefused(`the document is larger than ${maxBytes} bytes`));
        request.destroy();
      };
      if (Number(response.headers['content-length']) > maxBytes) return tooLarge();
      const chunks = [];
      let size = 0;
      response.on('data', (chunk) => {
        size += chunk.length;
        if (size > maxBytes) tooLarge();
        else chunks.push(chunk);
      });
      response.on('end', () => resolve({ ...base, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', (error) => reject(error instanceof FetchRefused ? error : new FetchRefused('the answer broke off')));
    });
    request.end();
  });
}

/**
 * GET a document: { body, cacheSeconds } or a FetchRefused.
 * @param {string} target the client_id URL
 * @param {object} options
 * @param {ReturnType<typeof addressRules.parseAllowance>} options.allowance
 * @param {string[]} [options.ca] trusted CA certificates (PEM)
 * @param {(host: string, options: object) => Promise<{ address: string }[]>} [options.lookup]
 * @param {number} [options.usualPort] the port allowed without OAUTH_CIMD_ALLOW: 443 (tests: their server's)
 * @param {number} [options.maxBytes] the largest document read
 * @param {number} [options.timeoutMs] the whole fetch, redirects included
 * @param {number} [options.maxRedirects] redirects followed
 */
export async function fetchDocument(
  target,
  { allowance, ca, lookup = dns.promises.lookup, maxBytes = MAX_DOCUMENT_BYTES, timeoutMs = FETCH_TIMEOUT_MS, maxRedirects = MAX_REDIRECTS, usualPort = 443 },
) {
  const signal = AbortSignal.timeout(timeoutMs);
  let url = new URL(target);
  for (let hop = 0; ; hop++) {
    const problem = urlProblem(url, allowance, usualPort);
    if (problem) throw new FetchRefused(hop === 0 ? problem : `a redirect to ${url.origin}: ${problem}`);
    const [address] = await checkedAddresses(unbracket(url.hostname), allowance, lookup).catch((error) => {
      if (hop > 0 && error instanceof FetchRefused) throw new FetchRefused(`a redirect to ${url.host}: ${error.message}`, error.detail);
      throw error;
    });
    if (signal.aborted) throw new FetchRefused(`no answer within ${timeoutMs / 1000} seconds`);
    const answer = await getOnce(url, address, { ca, maxBytes, signal });
    if ([301, 302, 303, 307, 308].includes(answer.status)) {
      if (hop >= maxRedirects) throw new FetchRefused(`more than ${maxRedirects} redirects`);
      if (!answer.location) throw new FetchRefused(`a redirect (${answer.status}) without a Location`);
      url = new URL(answer.location, url);
      continue;
    }
    if (answer.status !== 200) throw new FetchRefused(`the document's URL answered HTTP ${answer.status}, not 200`);
    return { body: answer.body, cacheSeconds: cacheSeconds(answer.cacheControl) };
  }
}
