/**
 * The client side of AUTH=oauth, shared by the auth gateway's in-process tests
 * (test/unit/auth-gateway) and the e2e tests through nginx and a tunnel
 * (test/e2e/oauth-client.ts): a PKCE pair, the consent page read as a browser
 * would, and an OAuthClientProvider for the MCP SDK whose "browser" is the test.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

/** Where test clients want their code: nothing listens there; the tests read the code from the consent's redirect. */
export const REDIRECT_URI = 'http://127.0.0.1:9/callback';

/** A PKCE pair (S256). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The consent form's hidden fields, and the CSRF cookie that goes with them (undefined when the page set none). */
export function parseConsentPage(html: string, setCookie: string | null): { fields: Record<string, string>; cookie: string | undefined } {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1]!] = match[2]!.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
  }
  const cookie = /^(__Host-mcps-csrf=[^;]+)/.exec(setCookie ?? '')?.[1];
  return { fields, cookie };
}

export interface ConsentingProviderOptions {
  /** Plays the person at the consent page: given the authorization URL, returns the code the redirect carried. */
  consent(authorizationUrl: URL): Promise<string>;
  /** Registration metadata beyond the defaults (a public client with REDIRECT_URI). */
  metadata?: Partial<OAuthClientMetadata>;
  /** A fixed OAuth state, to check it comes back. */
  state?: string;
  /** An https URL of this client's metadata document: the SDK uses it as client_id where the server supports that (CIMD). */
  clientMetadataUrl?: string;
}

/**
 * The MCP SDK's own flow, in memory: registration, PKCE and token storage are
 * the SDK's; redirectToAuthorization consents and keeps the code for finishAuth.
 */
export class ConsentingProvider implements OAuthClientProvider {
  code: string | undefined;
  /** Every authorization URL the SDK sent the "browser" to. */
  readonly redirects: URL[] = [];
  /** Every token response saved, oldest first. */
  readonly saved: OAuthTokens[] = [];
  verifier = '';
  private information: OAuthClientInformationMixed | undefined;

  readonly clientMetadataUrl: string | undefined;

  constructor(private readonly options: ConsentingProviderOptions) {
    if (options.state) this.state = () => options.state!;
    this.clientMetadataUrl = options.clientMetadataUrl;
  }

  state?: () => string;

  get redirectUrl(): string {
    return REDIRECT_URI;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'mcp-sandbox test <connector>',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...this.options.metadata,
    };
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.information;
  }

  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.information = information;
  }

  tokens(): OAuthTokens | undefined {
    return this.saved.at(-1);
  }

  saveTokens(tokens: OAuthTokens): void {
    this.saved.push(tokens);
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.redirects.push(authorizationUrl);
    this.code = await this.options.consent(authorizationUrl);
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    return this.verifier;
  }
}
