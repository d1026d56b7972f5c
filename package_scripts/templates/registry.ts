import { nginx } from './nginx.js';
import { ngrok } from './ngrok.js';
import { pinggy } from './pinggy.js';
import { type Credential, type SettingValues, type TemplateDescriptor } from './template.js';

/**
 * The templates this CLI knows, the first being TEMPLATE's default. A new
 * template is its descriptor added here and its folder docker/NAME/ (files.ts);
 * nothing else changes. Everything below is asked at call time, so a
 * template registered later (a test's) is seen everywhere.
 */
const registered: TemplateDescriptor[] = [nginx, ngrok, pinggy];

export const DEFAULT_TEMPLATE = nginx.name;

/** Adds a template (a test's fake one, or a fork's own). */
export function registerTemplate(descriptor: TemplateDescriptor): void {
  if (!/^[a-z][a-z0-9-]*$/.test(descriptor.name))
    throw new Error(`a template's name is lowercase letters, digits and "-" (it names docker/NAME/): ${descriptor.name}`);
  if (findTemplate(descriptor.name)) throw new Error(`the template ${descriptor.name} is registered already`);
  registered.push(descriptor);
}

export function allTemplates(): readonly TemplateDescriptor[] {
  return registered;
}

export function templateNames(): string[] {
  return registered.map((t) => t.name);
}

export function findTemplate(name: string): TemplateDescriptor | undefined {
  return registered.find((t) => t.name === name);
}

/** The descriptor of a template name the settings have validated already. */
export function templateNamed(name: string): TemplateDescriptor {
  const found = findTemplate(name);
  if (!found) throw new Error(`no template is registered as ${name}`);
  return found;
}

/** A published port: the engine publishes HOST_PORT, and the gateway serves its own certificate. An unknown name (an old container's label) counts as one, as before. */
export function publishesPort(name: string): boolean {
  return (findTemplate(name)?.reach ?? 'published-port') === 'published-port';
}

/** Secrets every template shares: the token (and its older name) and the OAuth owner passphrase. */
const SHARED_SECRETS = { first: ['ACCESS_TOKEN', 'NGINX_ACCESS_TOKEN'], last: ['OAUTH_OWNER_PASSPHRASE'] } as const;

/**
 * Gateway secrets of every template: never in the MCP server's environment,
 * masked in anything shown. docker/common/lib/sandbox.sh keeps the same list
 * (test/unit/tunnels.test.ts compares).
 */
export function gatewaySecretNames(): string[] {
  return [...new Set([...SHARED_SECRETS.first, ...registered.flatMap((t) => t.secrets), ...SHARED_SECRETS.last])];
}

/** Every template's own settings, gateway and host ones. */
export function templateSettingNames(): string[] {
  return [...new Set(registered.flatMap((t) => [...t.settings, ...(t.hostSettings ?? [])]))];
}

/** The prefixes of tunnel settings, present or future: never for the server. */
export function gatewayPrefixes(): string[] {
  return registered.flatMap((t) => (t.settingPrefix ? [t.settingPrefix] : []));
}

/** Settings of the other templates that this one does not read (ACCESS_TOKEN and TUNNEL_RETRIES are shared). */
export function settingsUnusedBy(name: string, setNames: readonly string[]): string[] {
  const template = templateNamed(name);
  const own = new Set<string>([...template.settings, ...(template.hostSettings ?? [])]);
  const templateSpecific = new Set<string>(templateSettingNames());
  return setNames.filter((n) => templateSpecific.has(n) && !own.has(n));
}

/** What a client of this template sends: its own credential when its settings ask for one, else ACCESS_TOKEN as a bearer token. */
export function credentialFor(name: string, values: SettingValues): Credential {
  return findTemplate(name)?.credential?.(values) ?? { setting: 'ACCESS_TOKEN', scheme: 'Bearer', authorization: `Bearer ${values.ACCESS_TOKEN ?? ''}` };
}
