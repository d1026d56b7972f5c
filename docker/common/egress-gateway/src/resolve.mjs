// @ts-check
// The proxy's own resolution of a checked name, at connection time, through
// the engine's resolver (127.0.0.11 under Docker), never through the DNS
// filter the MCP server uses and never from a cache of ours: each connection
// goes where the name points now. IPv4 first, then IPv6.
import { Resolver } from 'node:dns/promises';

/**
 * @param {{ host: string, port: number }} upstream
 * @param {{ timeoutMs?: number, tries?: number }} [options]
 * @returns {(name: string) => Promise<string[]>}
 */
export function upstreamResolver({ host, port }, { timeoutMs = 2000, tries = 2 } = {}) {
  const resolver = new Resolver({ timeout: timeoutMs, tries });
  resolver.setServers([host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`]);
  return async (name) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (addresses.length > 0) return addresses;
    const failure = v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : undefined;
    if (failure) throw failure;
    return [];
  };
}
