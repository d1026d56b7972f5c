// @ts-check
// Addresses the proxy never dials, whatever a name resolves to: the
// container's own loopback (where the session gateway and the auth gateway
// listen, which the proxy's user could reach but the MCP server must not),
// "this host" (0.0.0.0, ::), link-local (cloud metadata services such as
// 169.254.169.254) and multicast. A name whose DNS an attacker controls could
// otherwise point an allowed name at them (DNS rebinding). A LAN or another
// container stays reachable by name; list an address rule for anything else.
import { BlockList, isIP } from 'node:net';

const never = new BlockList();
never.addSubnet('127.0.0.0', 8, 'ipv4');
never.addSubnet('0.0.0.0', 8, 'ipv4');
never.addSubnet('169.254.0.0', 16, 'ipv4');
never.addSubnet('224.0.0.0', 4, 'ipv4');
never.addSubnet('255.255.255.255', 32, 'ipv4');
never.addAddress('::1', 'ipv6');
never.addAddress('::', 'ipv6');
never.addSubnet('fe80::', 10, 'ipv6');
never.addSubnet('ff00::', 8, 'ipv6');

/**
 * True for an address the proxy must not connect to (and for anything that is no address).
 * @param {string} address
 */
export function isForbiddenUpstream(address) {
  const family = isIP(address);
  if (family === 4) return never.check(address, 'ipv4');
  if (family !== 6) return true;
  // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is the IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return never.check(mapped[1], 'ipv4');
  return never.check(address, 'ipv6');
}
