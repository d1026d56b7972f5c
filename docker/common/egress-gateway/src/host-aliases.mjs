// @ts-check
// The names an engine gives the host machine inside a container:
// `host.docker.internal` (Docker, from the CLI's --add-host
// host.docker.internal:host-gateway) and `host.containers.internal` (Podman,
// always). The engine writes them into the container's /etc/hosts, which
// only root may change, and no DNS server answers them; the proxy takes them
// from there so that `MCP_EGRESS=host.docker.internal:5432` reaches a database
// on the host. Any other /etc/hosts line (localhost, the container's own name)
// is ignored: the proxy resolves every other name through the engine's resolver.
import { isIP } from 'node:net';

export const HOST_ALIASES = Object.freeze(['host.docker.internal', 'host.containers.internal']);

/**
 * The host aliases an /etc/hosts text gives, name → addresses (in file order).
 * @param {string} text
 * @returns {Map<string, string[]>}
 */
export function hostAliasesOf(text) {
  /** @type {Map<string, string[]>} */
  const found = new Map();
  for (const raw of text.split('\n')) {
    const [address, ...names] = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || isIP(address) === 0) continue;
    for (const name of names.map((n) => n.toLowerCase())) {
      if (!HOST_ALIASES.includes(name)) continue;
      const list = found.get(name) ?? [];
      if (!list.includes(address)) list.push(address);
      found.set(name, list);
    }
  }
  return found;
}

/**
 * A resolver that answers the host aliases from `aliases` and asks `resolve` for every other name.
 * @param {(name: string) => Promise<string[]>} resolve
 * @param {ReadonlyMap<string, string[]>} aliases
 * @returns {(name: string) => Promise<string[]>}
 */
export function withHostAliases(resolve, aliases) {
  return async (name) => aliases.get(name.toLowerCase()) ?? resolve(name);
}
