// @ts-check
// Client ID Metadata Documents (MCP authorization 2025-11-25, draft-ietf-oauth-
// client-id-metadata-document): a client_id that is an https URL names the
// client's own metadata document. The gateway fetches it (cimd-fetch.mjs, the
// safe fetcher), checks it as a registration (registration.mjs: the same
// redirect URI rules) and that it names itself, and keeps it as long as its
// Cache-Control says, within bounds. Nothing is stored on disk: the document
// is the registration. The client's identity shown at consent is the host
// that serves the document; its client_name is still its own claim.
import { FetchRefused, fetchDocument } from './cimd-fetch.mjs';
import { parseRegistration } from './registration.mjs';

/** Without Cache-Control a document is kept this long; never longer than the maximum. */
export const DEFAULT_CACHE_SECONDS = 300;
export const MAX_CACHE_SECONDS = 24 * 3600;
/** A refusal is kept briefly, so that a broken or hostile URL is not fetched on every request. */
export const REFUSAL_CACHE_MS = 10_000;
const MAX_ENTRIES = 200;
const MAX_IN_FLIGHT = 8;

/** Does this client_id look like a URL (any scheme)? Registered client ids never contain ':'. */
export const isUrlClientId = (clientId) => typeof clientId === 'string' && /^[a-z][a-z0-9+.-]*:/i.test(clientId);

/** null when `clientId` may name a metadata document, else the reason (draft §3). */
export function clientIdUrlProblem(clientId) {
  if (clientId.length > 2000) return 'a client_id URL is limited to 2000 characters';
  let url;
  try {
    url = new URL(clientId);
  } catch {
    return 'the client_id is not a valid URL';
  }
  if (url.protocol !== 'https:') return `a client_id URL must use https (got ${url.protocol.slice(0, 10)})`;
  if (url.username || url.password || /^https:\/\/[^/?#]*@/i.test(clientId)) return 'a client_id URL must not contain userinfo';
  if (clientId.includes('#')) return 'a client_id URL must not contain a fragment';
  const path = clientId.replace(/^https:\/\/[^/?#]*/i, '').split('?')[0];
  if (!path || path === '/') return 'a client_id URL must have a path (the document), not just a host';
  if (/(^|\/)\.\.?(\/|$)/.test(path)) return 'a client_id URL must not contain . or .. path segments';
  if (url.href !== clientId) return `a client_id URL must be written in its normal form (${url.href.slice(0, 200)})`;
  return null;
}

/**
 * The client a document describes: { ok: true, client } or { ok: false, reason }.
 * `clientId` is the URL it was fetched from.
 * @param {string} text
 * @param {string} clientId
 * @returns {{ ok: true, client: any } | { ok: false, reason: string }}
 */
export function clientFromDocument(text, clientId) {
  let document;
  try {
    document = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the document is not JSON' };
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) return { ok: false, reason: 'the document is not a JSON object' };
  if (document.client_id !== clientId)
    return { ok: false, reason: `the document's client_id is not its own URL (it must be exactly ${clientId.slice(0, 200)})` };
  if (document.client_secret !== undefined || document.client_secret_expires_at !== undefined)
    return { ok: false, reason: 'a client metadata document must not carry a client_secret (anyone can read it)' };
  const method = document.token_endpoint_auth_method;
  if (method !== undefined && method !== 'none')
    return {
      ok: false,
      reason: `token_endpoint_auth_method ${String(method).slice(0, 40)} is not supported for a client metadata document: use none (a public client with PKCE)`,
    };
  const parsed = parseRegistration(document);
  if (!parsed.ok) return { ok: false, reason: `the document is not a valid client registration: ${parsed.description}` };
  return {
    ok: true,
    client: {
      client_id: clientId,
      client_name: parsed.request.client_name,
      redirect_uris: parsed.request.redirect_uris,
      token_endpoint_auth_method: 'none',
      document_host: new URL(clientId).host,
    },
  };
}

/** How long to keep an answer: Cache-Control's max-age within bounds, the default when it says nothing. */
export function keepSeconds(cacheSeconds) {
  if (cacheSeconds === undefined) return DEFAULT_CACHE_SECONDS;
  return Math.min(Math.max(cacheSeconds, 0), MAX_CACHE_SECONDS);
}

/** Resolves URL client ids to clients, fetching and caching their documents. */
export class CimdClients {
  /**
   * @param {object} options
   * @param {ReturnType<typeof import('./cimd-address.cjs').parseAllowance>} options.allowance OAUTH_CIMD_ALLOW
   * @param {string[]} [options.ca] trusted CA certificates (PEM)
   * @param {() => number} [options.now]
   * @param {(line: string) => void} [options.log]
   * @param {typeof fetchDocument} [options.fetch]
   * @param {object} [options.fetchOptions] passed on to the fetch (lookup, limits: tests)
   */
  constructor({ allowance, ca, now = Date.now, log = () => {}, fetch = fetchDocument, fetchOptions = {} }) {
    this.allowance = allowance;
    this.ca = ca;
    this.now = now;
    this.log = log;
    this.fetch = fetch;
    this.fetchOptions = fetchOptions;
    /** @type {Map<string, { result: any, until: number }>} */
    this.cache = new Map();
    /** @type {Map<string, Promise<any>>} */
    this.inFlight = new Map();
  }

  /** { ok: true, client } or { ok: false, reason } (shown to the person at the browser, or to the client at /token). */
  async resolve(clientId) {
    const problem = clientIdUrlProblem(clientId);
    if (problem) return { ok: false, reason: problem };
    const cached = this.cache.get(clientId);
    if (cached && cached.until > this.now()) return cached.result;
    const pending = this.inFlight.get(clientId);
    if (pending) return pending;
    if (this.inFlight.size >= MAX_IN_FLIGHT) return { ok: false, reason: 'too many client documents are being fetched at once; try again shortly' };
    const fetching = this.#fetch(clientId).finally(() => this.inFlight.delete(clientId));
    this.inFlight.set(clientId, fetching);
    return fetching;
  }

  async #fetch(clientId) {
    /** @type {{ ok: true, client: any } | { ok: false, reason: string }} */
    let result;
    let keepMs = REFUSAL_CACHE_MS;
    try {
      const fetched = await this.fetch(clientId, { allowance: this.allowance, ca: this.ca, ...this.fetchOptions });
      result = clientFromDocument(fetched.body, clientId);
      if (result.ok) keepMs = keepSeconds(fetched.cacheSeconds) * 1000;
    } catch (error) {
      if (!(error instanceof FetchRefused)) throw error;
      this.log(`client metadata document ${clientId.slice(0, 200)} refused: ${error.detail}`);
      result = { ok: false, reason: `the client's metadata document could not be used: ${error.message}` };
    }
    if (!result.ok && !result.reason.startsWith("the client's metadata document could not be used"))
      this.log(`client metadata document ${clientId.slice(0, 200)} refused: ${result.reason}`);
    if (keepMs > 0) {
      if (this.cache.size >= MAX_ENTRIES) this.cache.delete(/** @type {string} */ (this.cache.keys().next().value));
      this.cache.set(clientId, { result, until: this.now() + keepMs });
    } else this.cache.delete(clientId);
    return result;
  }
}

/**
 * The client a client_id names, for /authorize and /token: a document's
 * client, or a registered one. { client } (undefined when unknown) or { problem }.
 */
export async function findClient(clientId, { store, cimd }) {
  if (!isUrlClientId(clientId)) return { client: store.getClient(clientId) };
  const resolved = await cimd.resolve(clientId);
  return resolved.ok ? { client: resolved.client } : { problem: resolved.reason };
}
