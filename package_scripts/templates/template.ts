/**
 * What the rest of the CLI asks about a template, in one place per template
 * (nginx.ts, ngrok.ts, pinggy.ts). No code outside this folder branches on a
 * template's name: it asks the template's descriptor (registry.ts). The
 * image's side of a template is the folder docker/NAME/ with the files of
 * files.ts.
 */

/** How clients prove who they are (AUTH=oauth adds the OAuth 2.1 flow next to the static token; docs/GUIDE.md). */
export const AUTH_SETTINGS = ['AUTH', 'OAUTH_OWNER_PASSPHRASE', 'OAUTH_ACCESS_TTL', 'OAUTH_CIMD_ALLOW'] as const;

export type AuthMode = 'bearer' | 'oauth';

/** What a client sends, and the setting it comes from. */
export interface Credential {
  setting: string;
  scheme: 'Bearer' | 'Basic';
  /** The whole Authorization header value. */
  authorization: string;
}

export type SettingValues = Readonly<Record<string, string | undefined>>;

export interface TemplateDescriptor {
  /** TEMPLATE's value, and the folder docker/NAME/ of its image side. */
  readonly name: string;
  /** A few words for `--template`'s help. */
  readonly summary: string;
  /**
   * How a client reaches it. 'published-port': the engine publishes HOST_PORT on
   * BIND_ADDRESS and the gateway serves its own certificate (the local CA's,
   * CERT_FILE or self-signed), which start saves and connect pins; its TLS state
   * is kept in a volume; an export gives it a Kubernetes Service. 'public-url':
   * the gateway dials out and writes its URL in the container once it is up
   * (docker/argv.ts PUBLIC_URL_PATH); nothing is published.
   */
  readonly reach: 'published-port' | 'public-url';
  /** The settings its gateway reads from the container's environment, in that order (the AUTH settings travel only with AUTH=oauth). */
  readonly settings: readonly string[];
  /** Settings read on the host only, for this template (not passed to the container). */
  readonly hostSettings?: readonly string[];
  /** Of its settings, the secrets: never in the server's environment, masked in anything shown. */
  readonly secrets: readonly string[];
  /** Secrets of the form user:password: masked whole and by the password alone. */
  readonly basicAuthSecrets?: readonly string[];
  /** Every variable with this prefix is its gateway's, present or future: MCP_ENV may never pass one to the server. */
  readonly settingPrefix?: string;
  /** The AUTH values it serves. */
  readonly authModes: readonly AuthMode[];
  /** The container checks ACCESS_TOKEN itself with AUTH=bearer too, so it is required (with AUTH=oauth it always is). */
  readonly containerChecksToken: boolean;
  /**
   * The module of its image that checks its settings inside the container,
   * loaded by the CLI to apply the very same rules before any docker command
   * runs: a path under the project, and the function that throws on bad values.
   */
  readonly validator?: { readonly module: string; readonly exportName: string };
  /** Keeps state across restarts in the instance's tunnel volume (docker/names.ts TUNNEL_VOLUME_TARGET). */
  readonly keepsTunnelState?: boolean;
  /** The credential clients send instead of ACCESS_TOKEN as a bearer token, when its settings ask for one. */
  credential?(values: SettingValues): Credential | undefined;
  /** What every start says about its choices that weaken the sandbox or change who is trusted. */
  startWarnings?(values: SettingValues, instance: { name: string; tunnelVolume: string }): string[];
}
