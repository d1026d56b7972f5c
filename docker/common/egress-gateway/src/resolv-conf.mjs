// @ts-check
// Which resolver the enforcer asks: the first `nameserver` of the container's
// /etc/resolv.conf, as the engine wrote it (127.0.0.11 on a user-defined Docker
// network; aardvark-dns on the network's gateway or the host's resolver under
// Podman). Read once at start by the firewall (the enforcer's own DNS rule) and
// by the enforcer, through this one function.
import { isIP } from 'node:net';

/**
 * @param {string} text the file's text
 * @returns {string} the address
 */
export function resolverOf(text) {
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    // A zone index (fe80::1%eth0) is not something the firewall can match on.
    if (match && isIP(match[1] ?? '')) return /** @type {string} */ (match[1]);
  }
  throw new Error('/etc/resolv.conf names no nameserver by address: the engine gave the container no resolver');
}
