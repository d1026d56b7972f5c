import { PUBLIC_URL_PATH } from '../docker/argv.js';
import { sshForwardCommand, urlHost, type RemoteHost } from '../docker/target.js';
import type { Settings } from '../settings/load.js';
import { publishesPort } from '../templates/registry.js';

/**
 * Where a client finds an instance, by its template's reach (templates/): a
 * published host port with the gateway's own certificate, or a public URL the
 * gateway writes inside the container once its tunnel is up.
 */
export type UrlSource = { kind: 'published-port' } | { kind: 'tunnel-file'; path: string };

export function urlSource(template: string): UrlSource {
  return publishesPort(template) ? { kind: 'published-port' } : { kind: 'tunnel-file', path: PUBLIC_URL_PATH };
}

/** A published port's gateway serves a certificate clients must be told to trust; a tunnel's is public. */
export function servesOwnCertificate(template: string): boolean {
  return publishesPort(template);
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

/** A published port's URL as start prints it: this machine's address, or the remote's (remoteReach). */
export function connectionUrl(settings: Settings, remote?: RemoteHost): string {
  if (remote) return remoteReach(settings.BIND_ADDRESS, settings.HOST_PORT, remote).url;
  const host = ['0.0.0.0', '::'].includes(settings.BIND_ADDRESS)
    ? '127.0.0.1'
    : settings.BIND_ADDRESS.includes(':')
      ? `[${settings.BIND_ADDRESS}]`
      : settings.BIND_ADDRESS;
  return `https://${host}:${settings.HOST_PORT}/mcp`;
}
