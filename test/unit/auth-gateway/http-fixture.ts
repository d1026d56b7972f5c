/**
 * In-process harness for the auth gateway's HTTP tests: the gateway itself
 * (startGateway from gateway.mjs) on an ephemeral loopback port with a
 * temporary state folder and a clock the test can move, an upstream that is a
 * real MCP server (the SDK's McpServer behind its StreamableHTTPServerTransport),
 * and the steps of the OAuth flow done by hand for the refusal tests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { parseConsentPage, pkcePair, REDIRECT_URI } from '../../oauth-client-kit.js';
import { authModule } from './module.js';

export { parseConsentPage, pkcePair };

export const OWNER_TOKEN = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
export const PASSPHRASE = 'correct horse battery staple';
export const REDIRECT = REDIRECT_URI;

/** A real MCP server (stateless: one McpServer per request), recording the headers it got. */
export async function startUpstream() {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    const mcp = new McpServer({ name: 'upstream', version: '1.0.0' });
    mcp.registerTool('ping', { description: 'answers pong' }, () => ({ content: [{ type: 'text', text: 'pong' }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    mcp
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface Gateway {
  base: string;
  issuer: string;
  resource: string;
  stateDir: string;
  controlSocket: string;
  logs: string[];
  /** Moves the gateway's clock forward (ms). */
  advance: (ms: number) => void;
  /** Tunnel mode: what the tunnel agent wrote (the public base URL, or '' while down). */
  setPublicUrl: (url: string) => void;
  gateway: any;
  close: () => Promise<void>;
}

/**
 * Proxy mode (tunnels) when `upstream` is given: the resource comes from a
 * public-url file that names the gateway itself. Otherwise nginx mode, with a
 * fixed AUTH_RESOURCE (`resource`). `env` overrides settings (AUTH_STATE_DIR
 * to share a state folder); `options` go to startGateway (shorter deadlines).
 */
export async function startAuthGateway({
  upstream,
  resource,
  env = {},
  options = {},
}: { upstream?: string; resource?: string; env?: Record<string, string>; options?: Record<string, unknown> } = {}): Promise<Gateway> {
  const { parseConfig } = await authModule('config.mjs');
  const { startGateway } = await authModule('gateway.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'auth-http-'));
  const publicUrlFile = join(dir, 'public-url');
  writeFileSync(publicUrlFile, '');
  const config = parseConfig({
    ACCESS_TOKEN: OWNER_TOKEN,
    OAUTH_OWNER_PASSPHRASE: PASSPHRASE,
    AUTH_PORT: '0',
    AUTH_STATE_DIR: join(dir, 'state'),
    AUTH_CONTROL_SOCKET: join(dir, 'control', 'auth-control.sock'),
    ...(upstream ? { AUTH_UPSTREAM: upstream, AUTH_RESOURCE_FILE: publicUrlFile } : { AUTH_RESOURCE: resource ?? 'https://mcp.example.test:8443/mcp' }),
    ...env,
  });
  let skew = 0;
  const logs: string[] = [];
  const log = { info: (line: string) => logs.push(line), debug: () => {} };
  const gateway = await startGateway(config, { now: () => Date.now() + skew, log, ...options });
  const base = `http://127.0.0.1:${gateway.port}`;
  const setPublicUrl = (url: string) => writeFileSync(publicUrlFile, url ? `${url}\n` : '');
  if (upstream) setPublicUrl(base);
  const resourceNow = upstream ? `${base}/mcp` : config.resource;
  return {
    base,
    issuer: new URL(resourceNow).origin,
    resource: resourceNow,
    stateDir: config.stateDir,
    controlSocket: config.controlSocket,
    logs,
    advance: (ms) => (skew += ms),
    setPublicUrl,
    gateway,
    close: async () => {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Upstream = Awaited<ReturnType<typeof startUpstream>>;
export type ProxyingGateway = Gateway & { upstream: Upstream };

/**
 * The set-up of every suite that talks to the gateway in tunnel mode: a real MCP
 * server, and the gateway proxying to it. `close` stops both.
 *   let gw: ProxyingGateway;
 *   before(async () => (gw = await startProxyingGateway()));
 *   after(() => gw.close());
 */
export async function startProxyingGateway(settings: { env?: Record<string, string>; options?: Record<string, unknown> } = {}): Promise<ProxyingGateway> {
  const upstream = await startUpstream();
  const gw = await startAuthGateway({ ...settings, upstream: upstream.url }).catch(async (error: unknown) => {
    await upstream.close();
    throw error;
  });
  return {
    ...gw,
    upstream,
    close: async () => {
      await gw.close();
      await upstream.close();
    },
  };
}

export async function register(gw: Gateway, body: Record<string, unknown> = { client_name: 'Test client', redirect_uris: [REDIRECT] }) {
  const res = await fetch(`${gw.base}/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as { client_id: string; token_endpoint_auth_method: string };
}

/** The consent page's hidden fields and the CSRF cookie it set. */
/** GET /authorize (no redirect followed). */
export const getAuthorize = (gw: Gateway, params: Record<string, string>) =>
  fetch(`${gw.base}/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' });

export const authorizeParams = (clientId: string, challenge: string, extra: Record<string, string> = {}) => ({
  response_type: 'code',
  client_id: clientId,
  redirect_uri: REDIRECT,
  code_challenge: challenge,
  code_challenge_method: 'S256',
  state: 'state-123',
  scope: 'mcp',
  ...extra,
});

/** POST the consent form as a browser would (Origin = the issuer, the cookie back). */
export function postConsent(
  gw: Gateway,
  form: Record<string, string>,
  { cookie, origin = gw.issuer, source }: { cookie?: string; origin?: string | null; source?: string } = {},
) {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (cookie) headers.Cookie = cookie;
  if (origin !== null) headers.Origin = origin;
  if (source) headers['X-Sandbox-Client'] = source;
  return fetch(`${gw.base}/authorize`, { method: 'POST', headers, body: new URLSearchParams(form), redirect: 'manual' });
}

/** The whole consent, as the person at the browser: the page, then Allow with the owner secret. Returns the redirect. */
export async function consent(gw: Gateway, authorizationUrl: string, secret = OWNER_TOKEN, { source }: { source?: string } = {}) {
  const url = new URL(authorizationUrl);
  const page = await fetch(`${gw.base}${url.pathname}${url.search}`, { redirect: 'manual' });
  assert.equal(page.status, 200, await page.clone().text());
  const { fields, cookie } = parseConsentPage(await page.text(), page.headers.get('set-cookie'));
  assert.ok(cookie, 'the page sets the CSRF cookie');
  return postConsent(gw, { ...fields, owner_secret: secret, decision: 'allow' }, { cookie, source });
}

/** Registration, consent and the code: what a client has before /token. */
export async function codeFor(gw: Gateway, extra: Record<string, string> = {}) {
  const client = await register(gw);
  const pkce = pkcePair();
  const res = await consent(gw, `${gw.base}/authorize?${new URLSearchParams(authorizeParams(client.client_id, pkce.challenge, extra))}`);
  assert.equal(res.status, 303);
  const location = new URL(res.headers.get('location')!);
  const code = location.searchParams.get('code');
  assert.ok(code, `a code in ${location.search.replace(/code=[^&]+/, 'code=…')}`);
  return { client, ...pkce, code, location };
}

export async function tokenRequest(gw: Gateway, form: Record<string, string>) {
  const res = await fetch(`${gw.base}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

/** Code flow to tokens. */
export async function tokensFor(gw: Gateway) {
  const flow = await codeFor(gw);
  const answer = await tokenRequest(gw, {
    grant_type: 'authorization_code',
    client_id: flow.client.client_id,
    code: flow.code,
    redirect_uri: REDIRECT,
    code_verifier: flow.verifier,
    resource: gw.resource,
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return { ...flow, tokens: answer.body as { access_token: string; refresh_token: string; expires_in: number } };
}

/** An MCP request through the proxy (tunnel mode): initialize, as any client's first. */
export function mcpPost(gw: Gateway, authorization?: string, path = '/mcp') {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
  if (authorization) headers.Authorization = authorization;
  return fetch(`${gw.base}${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
}

/** nginx mode: what nginx's auth_request asks. */
export function introspect(gw: Gateway, authorization?: string, originalUri = '/mcp') {
  const headers: Record<string, string> = { 'X-Original-URI': originalUri };
  if (authorization) headers.Authorization = authorization;
  return fetch(`${gw.base}/.sandbox/introspect`, { headers });
}
