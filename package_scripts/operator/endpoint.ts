import { PUBLIC_URL_PATH } from '../docker/argv.js';
import { sshForwardCommand, urlHost, type RemoteHost } from '../docker/target.js';

/**
 * Where a client finds an instance, by template. nginx publishes a host port
 * with a self-signed (or CERT_FILE) certificate; the tunnel templates have no
 * host port and a public certificate, and write their URL inside the container
 * once the tunnel is up.
 */
export type UrlSource = { kind: 'published-port' } | { kind: 'tunnel-file'; path: string };

export function urlSource(template: string): UrlSource {
  return template === 'ngrok' || template === 'pinggy' ? { kind: 'tunnel-file', path: PUBLIC_URL_PATH } : { kind: 'published-port' };
}

/** Only nginx serves a certificate clients must be told to trust. */
export function servesOwnCertificate(template: string): boolean {
  return urlSource(template).kind === 'published-port';
}

/** What a client sends, and the setting it comes from. */
export interface Credential {
  setting: 'ACCESS_TOKEN' | 'PINGGY_BEARER_TOKEN' | 'NGROK_BASIC_AUTH';
  /** The whole Authorization header value. */
  authorization: string;
}

/**
 * The credential of a template: the bearer token (Pinggy may have its own,
 * else ACCESS_TOKEN), or basic auth when NGROK_BASIC_AUTH replaces it.
 */
export function credentialFor(template: string, values: { ACCESS_TOKEN?: string; PINGGY_BEARER_TOKEN?: string; NGROK_BASIC_AUTH?: string }): Credential {
  if (template === 'ngrok' && values.NGROK_BASIC_AUTH) {
    return { setting: 'NGROK_BASIC_AUTH', authorization: `Basic ${Buffer.from(values.NGROK_BASIC_AUTH).toString('base64')}` };
  }
  if (template === 'pinggy' && values.PINGGY_BEARER_TOKEN) return { setting: 'PINGGY_BEARER_TOKEN', authorization: `Bearer ${values.PINGGY_BEARER_TOKEN}` };
  return { setting: 'ACCESS_TOKEN', authorization: `Bearer ${values.ACCESS_TOKEN ?? ''}` };
}

/** A host address as a client should dial it: wildcard binds mean "this machine". */
export function dialHost(bindAddress: string): string {
  if (bindAddress === '' || bindAddress === '0.0.0.0' || bindAddress === '::') return '127.0.0.1';
  return bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress;
}

/**
 * The tunnel's URL as written by the container, with the MCP path when the file
 * holds only the origin. Pinggy and ngrok publish https; a plain SSH server in
 * Pinggy's place (the end-to-end tests) offers http.
 */
export function tunnelUrl(fileContent: string): string | undefined {
  const text = fileContent.trim();
  if (!/^https?:\/\/[^\s]+$/.test(text)) return undefined;
  return new URL(text).pathname === '/' ? `${text.replace(/\/$/, '')}/mcp` : text;
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

function isWildcard(address: string): boolean {
  return address === '' || address === '0.0.0.0' || address === '::';
}

/** How a client on this machine reaches a port the remote engine published on BIND_ADDRESS. */
export interface RemoteReach {
  url: string;
  /** BIND_ADDRESS on the remote's loopback: the URL works once this runs (the same port here). */
  sshForward?: string;
}

export function remoteReach(bindAddress: string, port: number, remote: RemoteHost): RemoteReach {
  if (isLoopback(bindAddress)) {
    return { url: `https://127.0.0.1:${port}/mcp`, sshForward: sshForwardCommand(remote, port, bindAddress) };
  }
  const host = isWildcard(bindAddress) ? urlHost(remote.hostname) : urlHost(bindAddress);
  return { url: `https://${host}:${port}/mcp` };
}
