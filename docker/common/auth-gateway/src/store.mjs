// @ts-check
// The authorization state: registered clients, pending codes and issued
// tokens. Codes and tokens are kept only as SHA-256 hashes, with what they are
// bound to (client, resource, scope, expiry) and their family: every token
// descending from one consent. A code or refresh token used a second time
// revokes its whole family (RFC 6749 §4.1.2, OAuth 2.1 §4.3.1). Two files in
// the state folder, clients.json and tokens.json, rewritten atomically after
// every change. `now` (ms) is injected so that tests can move the clock.
import { ensurePrivateDir, readJson, writeJsonAtomic } from './persist.mjs';
import { randomToken, sha256Hex } from './secrets.mjs';

export const CODE_TTL_MS = 60_000;
// A spent code or refresh token is kept (as a hash) only to notice a second
// use: codes for 10 minutes, refresh tokens for a day. Later it is simply
// unknown, refused all the same, and tokens.json does not grow with every
// rotation for 30 days.
export const SPENT_CODE_KEEP_MS = 10 * 60_000;
export const SPENT_REFRESH_KEEP_MS = 24 * 3600_000;
// Clients the owner consented to once: at most 100, kept in clients.json.
export const MAX_CLIENTS = 100;
// Clients that registered and never got a code (anyone can register): held in
// memory only, for 10 minutes, at most 100; the oldest goes first when more
// come. A flood of registrations thus costs no disk and never pushes out a
// client the owner consented to.
export const MAX_PENDING_CLIENTS = 100;
export const PENDING_CLIENT_TTL_MS = 10 * 60_000;
const CLIENTS_FILE = 'clients.json';
const TOKENS_FILE = 'tokens.json';

export class Store {
  /**
   * @param {object} options
   * @param {string} [options.dir] state folder; without it nothing is persisted (unit tests)
   * @param {string} options.ownerSecret ACCESS_TOKEN (and the passphrase): tokens made under another one are dropped at open
   * @param {number} options.accessTtl seconds
   * @param {number} options.refreshTtl seconds
   * @param {() => number} [options.now]
   * @param {(line: string) => void} [options.log]
   * @param {number} [options.maxClients] consented clients kept
   * @param {number} [options.maxPending] registered clients waiting for a consent
   */
  constructor({ dir, ownerSecret, accessTtl, refreshTtl, now = Date.now, log = () => {}, maxClients = MAX_CLIENTS, maxPending = MAX_PENDING_CLIENTS }) {
    this.dir = dir;
    this.accessTtl = accessTtl;
    this.refreshTtl = refreshTtl;
    this.now = now;
    this.log = log;
    this.maxClients = maxClients;
    this.maxPending = maxPending;
    this.owner = sha256Hex(ownerSecret);
    /** @type {Map<string, any>} client_id -> client */
    this.clients = new Map();
    /** @type {Map<string, any>} sha256(code) -> row */
    this.codes = new Map();
    /** @type {Map<string, any>} sha256(token) -> row */
    this.tokens = new Map();
    if (dir) this.load();
  }

  /** Only with a state folder (the gateway's; unit tests without one never load). */
  load() {
    const dir = /** @type {string} */ (this.dir);
    ensurePrivateDir(dir);
    const corrupt = (aside) => this.log(`a state file could not be read and was moved aside to ${aside}; starting without it`);
    const clients = readJson(dir, CLIENTS_FILE, corrupt);
    for (const client of clients?.clients ?? []) if (client.used_at) this.clients.set(client.client_id, client);
    const tokens = readJson(dir, TOKENS_FILE, corrupt);
    if (tokens && tokens.owner !== this.owner) {
      const count = Object.keys(tokens.tokens ?? {}).length + Object.keys(tokens.codes ?? {}).length;
      this.log(
        `ACCESS_TOKEN or OAUTH_OWNER_PASSPHRASE changed since the tokens were issued: dropped all ${count} OAuth tokens and codes (clients kept; they must ask for consent again)`,
      );
      this.saveTokens();
    } else if (tokens) {
      for (const [hash, row] of Object.entries(tokens.codes ?? {})) this.codes.set(hash, row);
      for (const [hash, row] of Object.entries(tokens.tokens ?? {})) this.tokens.set(hash, row);
    }
    if (!tokens) this.saveTokens();
  }

  /** Only consented clients are written: the others are strangers' until the owner says otherwise. */
  saveClients() {
    if (this.dir) writeJsonAtomic(this.dir, CLIENTS_FILE, { version: 1, clients: [...this.clients.values()].filter((c) => c.used_at) });
  }

  saveTokens() {
    if (!this.dir) return;
    this.prune();
    writeJsonAtomic(this.dir, TOKENS_FILE, { version: 1, owner: this.owner, codes: Object.fromEntries(this.codes), tokens: Object.fromEntries(this.tokens) });
  }

  /** Rows past their expiry are dropped (used ones are kept until then, to detect reuse). */
  prune() {
    const now = this.now();
    for (const table of [this.codes, this.tokens]) for (const [hash, row] of table) if ((row.keep_until ?? row.expires_at) <= now) table.delete(hash);
  }

  // --- clients ---------------------------------------------------------------

  #pendingExpired(client) {
    return !client.used_at && client.created_at + PENDING_CLIENT_TTL_MS <= this.now();
  }

  /** A new client, waiting for consent (memory only). At the limit the oldest waiting one is dropped; consented ones never are. */
  registerClient({ client_name, redirect_uris, token_endpoint_auth_method = 'none', client_secret_hash }) {
    let dropped;
    const pending = [...this.clients.values()].filter((c) => !c.used_at);
    for (const client of pending) if (this.#pendingExpired(client)) this.clients.delete(client.client_id);
    const waiting = pending.filter((c) => this.clients.has(c.client_id));
    if (waiting.length >= this.maxPending) {
      dropped = waiting.reduce((oldest, c) => (c.created_at < oldest.created_at ? c : oldest));
      this.clients.delete(dropped.client_id);
    }
    const client = { client_id: randomToken().slice(0, 32), client_name, redirect_uris, created_at: this.now(), used_at: null };
    // A confidential client (client-secret.mjs): only the hash of its secret is kept.
    if (client_secret_hash) Object.assign(client, { token_endpoint_auth_method, client_secret_hash });
    this.clients.set(client.client_id, client);
    return { client, dropped };
  }

  /** A registered client; one that waited for consent longer than PENDING_CLIENT_TTL_MS is gone. */
  getClient(clientId) {
    const client = typeof clientId === 'string' ? this.clients.get(clientId) : undefined;
    if (client && this.#pendingExpired(client)) {
      this.clients.delete(clientId);
      return undefined;
    }
    return client;
  }

  /** A client's first consent: it is kept from now on; at the limit the consented client used longest ago goes, with its tokens. */
  #makeRoomForConsented() {
    const kept = [...this.clients.values()].filter((c) => c.used_at);
    if (kept.length < this.maxClients) return;
    const dropped = kept.reduce((oldest, c) => (c.used_at < oldest.used_at ? c : oldest));
    this.clients.delete(dropped.client_id);
    this.revokeWhere((row) => row.client_id === dropped.client_id);
    this.log(`dropped client ${dropped.client_id} and its tokens (the limit of ${this.maxClients} consented clients was reached)`);
  }

  // --- codes -----------------------------------------------------------------

  /** A new single-use code, bound to what the consent was for; starts a token family. */
  issueCode({ client_id, redirect_uri, code_challenge, resource, scope }) {
    const code = randomToken();
    const now = this.now();
    this.codes.set(sha256Hex(code), {
      client_id,
      redirect_uri,
      code_challenge,
      resource,
      scope,
      family: randomToken(),
      expires_at: now + CODE_TTL_MS,
      used_at: null,
    });
    const client = this.clients.get(client_id);
    if (client) {
      if (!client.used_at) this.#makeRoomForConsented();
      client.used_at = now;
      this.saveClients();
    }
    this.saveTokens();
    return code;
  }

  /**
   * Consumes a code: { status: 'ok', row } the first time (whatever the caller
   * then finds wrong with it, it is spent); 'reused' revokes every token issued
   * from it; 'unknown' for a code never issued, expired or revoked.
   */
  takeCode(code) {
    const row = typeof code === 'string' ? this.codes.get(sha256Hex(code)) : undefined;
    if (row?.used_at && row.keep_until > this.now()) return { status: 'reused', row, revoked: this.revokeFamily(row.family) };
    if (!row || row.used_at || row.expires_at <= this.now()) return { status: 'unknown' };
    row.used_at = this.now();
    row.keep_until = row.used_at + SPENT_CODE_KEEP_MS;
    this.saveTokens();
    return { status: 'ok', row };
  }

  // --- tokens ----------------------------------------------------------------

  issueTokens({ client_id, resource, scope, family }) {
    const now = this.now();
    const access = randomToken();
    const refresh = randomToken();
    const bound = { client_id, resource, scope, family };
    this.tokens.set(sha256Hex(access), { kind: 'access', ...bound, expires_at: now + this.accessTtl * 1000 });
    this.tokens.set(sha256Hex(refresh), { kind: 'refresh', ...bound, expires_at: now + this.refreshTtl * 1000, used_at: null });
    this.saveTokens();
    return { access_token: access, refresh_token: refresh, expires_in: this.accessTtl };
  }

  /**
   * Consumes a refresh token of `clientId` (rotation): 'ok' once; 'reused'
   * revokes its family; 'wrong_client' leaves it alone; 'unknown' otherwise.
   */
  takeRefresh(token, clientId) {
    const row = typeof token === 'string' ? this.tokens.get(sha256Hex(token)) : undefined;
    const now = this.now();
    if (!row || row.kind !== 'refresh' || (row.keep_until ?? row.expires_at) <= now) return { status: 'unknown' };
    if (row.client_id !== clientId) return { status: 'wrong_client' };
    if (row.used_at) return { status: 'reused', row, revoked: this.revokeFamily(row.family) };
    if (row.expires_at <= now) return { status: 'unknown' };
    row.used_at = now;
    row.keep_until = Math.min(row.expires_at, now + SPENT_REFRESH_KEEP_MS);
    this.saveTokens();
    return { status: 'ok', row };
  }

  /** The live access token's row, or undefined (unknown, expired, revoked, or a refresh token). */
  findAccess(token) {
    const row = typeof token === 'string' ? this.tokens.get(sha256Hex(token)) : undefined;
    if (!row || row.kind !== 'access' || row.expires_at <= this.now()) return undefined;
    return row;
  }

  /** The client a token (access or refresh, live or not) was issued to, or undefined when the token is unknown. */
  tokenClientId(token) {
    return typeof token === 'string' ? this.tokens.get(sha256Hex(token))?.client_id : undefined;
  }

  /** RFC 7009: an access or refresh token and its family. Returns the number of live rows revoked. */
  revokeToken(token, clientId) {
    const row = typeof token === 'string' ? this.tokens.get(sha256Hex(token)) : undefined;
    if (!row || (clientId && row.client_id !== clientId)) return 0;
    return this.revokeFamily(row.family);
  }

  revokeFamily(family) {
    return this.revokeWhere((row) => row.family === family);
  }

  /** Every token and pending code; the count is of those still usable. */
  revokeAll() {
    return this.revokeWhere(() => true);
  }

  revokeWhere(match) {
    const now = this.now();
    let count = 0;
    for (const table of [this.codes, this.tokens])
      for (const [hash, row] of table) {
        if (!match(row)) continue;
        if (!row.used_at && row.expires_at > now) count++;
        table.delete(hash);
      }
    this.saveTokens();
    return count;
  }
}
