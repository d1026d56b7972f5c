/**
 * The client side of AUTH=oauth for the e2e tests: an OAuthClientProvider for
 * the MCP SDK whose "browser" is this test (it fetches the consent page, keeps
 * its cookie and submits the form with the owner's secret), and the raw OAuth
 * requests the refusal cases need. Everything goes through the real gateway.
 */
import { ConsentingProvider, parseConsentPage, pkcePair, REDIRECT_URI } from '../oauth-client-kit.js';

export { pkcePair, REDIRECT_URI };

export type Fetch = typeof fetch;

/** The consent form's fields (hidden inputs) and the cookie that goes with it. */
export interface ConsentPage {
  status: number;
  html: string;
  fields: Record<string, string>;
  cookie: string;
  location: string | null;
}

export async function openConsent(fetchFn: Fetch, authorizationUrl: string | URL): Promise<ConsentPage> {
  const response = await fetchFn(String(authorizationUrl), { redirect: 'manual' });
  const html = await response.text();
  const { fields, cookie } = parseConsentPage(html, response.headers.get('set-cookie'));
  return { status: response.status, html, fields, cookie: cookie ?? '', location: response.headers.get('location') };
}

/** Submit the consent form as the page's own browser would (its Origin, its cookie). */
export async function submitConsent(
  fetchFn: Fetch,
  issuer: string,
  page: ConsentPage,
  secret: string,
  overrides: { decision?: string; origin?: string | null; cookie?: string; csrf?: string } = {},
): Promise<Response> {
  const form = new URLSearchParams({
    ...page.fields,
    ...(overrides.csrf !== undefined ? { csrf: overrides.csrf } : {}),
    owner_secret: secret,
    decision: overrides.decision ?? 'allow',
  });
  const origin = overrides.origin === undefined ? issuer : overrides.origin;
  return fetchFn(`${issuer}/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Cookie: overrides.cookie ?? page.cookie,
      ...(origin ? { Origin: origin } : {}),
    },
    body: form.toString(),
  });
}

/** The code (or error) a consent's redirect carries. */
export function redirectParams(response: Response): URLSearchParams {
  const location = response.headers.get('location');
  if (!location) throw new Error(`no redirect (status ${response.status})`);
  return new URL(location).searchParams;
}

/**
 * The MCP SDK's own flow against an instance: the provider consents with the
 * owner's secret on the page the instance serves.
 */
export function consentingProvider(fetchFn: Fetch, issuer: string, secret: string): ConsentingProvider {
  return new ConsentingProvider({
    async consent(authorizationUrl) {
      const page = await openConsent(fetchFn, authorizationUrl);
      if (page.status !== 200) throw new Error(`consent page: ${page.status} ${page.html.slice(0, 200)}`);
      const params = redirectParams(await submitConsent(fetchFn, issuer, page, secret));
      const code = params.get('code');
      if (!code) throw new Error(`consent refused: ${params.toString()}`);
      return code;
    },
  });
}

/** Raw OAuth requests against one instance's issuer, for the refusal cases. */
export function rawOAuth(fetchFn: Fetch, issuer: string, resource: string) {
  const form = (path: string, values: Record<string, string>) =>
    fetchFn(`${issuer}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(values).toString(),
    });
  return {
    async register(redirectUris = [REDIRECT_URI]): Promise<string> {
      const response = await fetchFn(`${issuer}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_name: 'refusal cases', redirect_uris: redirectUris, token_endpoint_auth_method: 'none' }),
      });
      if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { client_id: string }).client_id;
    },
    authorizeUrl(clientId: string, challenge: string, extra: Record<string, string> = {}): string {
      const params = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 'st4te',
        ...extra,
      });
      return `${issuer}/authorize?${params}`;
    },
    /** Registration and consent: a code, and the verifier that goes with it. */
    async code(secret: string): Promise<{ clientId: string; code: string; verifier: string }> {
      const clientId = await this.register();
      const { verifier, challenge } = pkcePair();
      const page = await openConsent(fetchFn, this.authorizeUrl(clientId, challenge));
      const code = redirectParams(await submitConsent(fetchFn, issuer, page, secret)).get('code');
      if (!code) throw new Error('no code');
      return { clientId, code, verifier };
    },
    exchange(clientId: string, code: string, verifier: string, extra: Record<string, string> = {}) {
      return form('/token', {
        grant_type: 'authorization_code',
        client_id: clientId,
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        resource,
        ...extra,
      });
    },
    refresh(clientId: string, refreshToken: string) {
      return form('/token', { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken });
    },
    /** A working access token through the whole flow. */
    async tokens(secret: string): Promise<{ clientId: string; access_token: string; refresh_token: string; expires_in: number }> {
      const { clientId, code, verifier } = await this.code(secret);
      const response = await this.exchange(clientId, code, verifier);
      if (response.status !== 200) throw new Error(`token: ${response.status} ${await response.text()}`);
      return { clientId, ...((await response.json()) as { access_token: string; refresh_token: string; expires_in: number }) };
    },
  };
}

/** An MCP initialize with this Authorization header: the status says whether the gateway let it through. */
export async function initializeStatus(fetchFn: Fetch, url: string, authorization?: string): Promise<{ status: number; challenge: string | null }> {
  const response = await fetchFn(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(authorization ? { Authorization: authorization } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'oauth-e2e', version: '1' } },
    }),
  });
  await response.body?.cancel();
  return { status: response.status, challenge: response.headers.get('www-authenticate') };
}
