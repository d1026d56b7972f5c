import type { RemoteHost } from '../docker/target.js';
import type { Settings } from '../settings/load.js';
import { connectionUrl } from './endpoint.js';

/**
 * The protected resource an nginx instance with AUTH=oauth announces (RFC 9728)
 * and binds every token to: the URL clients must use. A web connector reaches
 * the instance by a public name, so the first DNS name of TLS_HOSTNAMES wins;
 * without one it is the URL `start` prints. Decided here, on the host, and never
 * from a request's Host header. Tunnels announce the URL the tunnel published.
 */
export function oauthResourceUrl(settings: Settings, remote?: RemoteHost): string {
  const dnsName = settings.TLS_HOSTNAMES.split(',')
    .map((entry) => entry.trim())
    .find((entry) => entry.startsWith('DNS:'))
    ?.slice('DNS:'.length)
    .toLowerCase();
  if (!dnsName) return connectionUrl(settings, remote);
  return settings.HOST_PORT === 443 ? `https://${dnsName}/mcp` : `https://${dnsName}:${settings.HOST_PORT}/mcp`;
}
