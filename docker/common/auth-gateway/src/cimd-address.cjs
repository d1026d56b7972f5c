// @ts-check
// Where the auth gateway may fetch a Client ID Metadata Document from: the
// address rules of the safe fetcher (cimd-fetch.mjs) and the owner's
// allowance, OAUTH_CIMD_ALLOW. CommonJS so that the CLI checks the setting
// with this same code (package_scripts/settings/load.ts), as it does the
// tunnel templates' settings.
//
// By default a document must be on a public address: a client_id is chosen by
// whoever opens /authorize, so without these rules anyone could make the
// gateway reach the instance's own loopback (the MCP server's ports), the
// host's private network or a cloud metadata service (SSRF).
'use strict';
const net = require('node:net');

/** Never fetched from unless the owner allows them. [network, why] */
const BLOCKED_RANGES = [
  ['0.0.0.0/8', 'this network'],
  ['10.0.0.0/8', 'private (RFC 1918)'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local (cloud metadata services)'],
  ['172.16.0.0/12', 'private (RFC 1918)'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', '6to4 relay'],
  ['192.168.0.0/16', 'private (RFC 1918)'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved and broadcast'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::ffff:0:0/96', 'IPv4-mapped'],
  ['64:ff9b::/96', 'NAT64 (reaches IPv4 addresses)'],
  ['64:ff9b:1::/48', 'local NAT64'],
  ['100::/64', 'discard'],
  ['2001::/32', 'Teredo (reaches IPv4 addresses)'],
  ['2001:db8::/32', 'documentation'],
  ['2002::/16', '6to4 (reaches IPv4 addresses)'],
  ['fc00::/7', 'unique local (private)'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
];

const familyOf = (address) => (net.isIPv4(address) ? 'ipv4' : 'ipv6');

/** A BlockList of `[network, why]` rows (or plain networks). */
function blockListOf(networks) {
  const list = new net.BlockList();
  for (const network of networks) {
    const [address, prefix] = network.split('/');
    list.addSubnet(address, Number(prefix), familyOf(address));
  }
  return list;
}

// Each row is checked against addresses of its own family only: a BlockList
// also matches IPv4 addresses against IPv4-mapped IPv6 rules (::ffff:0:0/96).
const BLOCKED = BLOCKED_RANGES.map(([network, why]) => ({ network, why, family: familyOf(network.split('/')[0]), list: blockListOf([network]) }));

/** The reason `address` (an IP literal) is not public, or null when it is. */
function blockedReason(address) {
  const family = familyOf(address);
  for (const range of BLOCKED) if (range.family === family && range.list.check(address, family)) return `${range.why}, ${range.network}`;
  return null;
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * OAUTH_CIMD_ALLOW: comma-separated entries, each
 *   HOST or HOST:PORT   documents on this host name, at any address (a
 *                       company-internal connector), on port 443 or PORT;
 *   ADDRESS/PREFIX      any host whose address is in this network (IPv4 or IPv6), port 443.
 * Returns { hosts: Map<host, Set<port>>, networks: BlockList, entries } or
 * throws an Error whose message names the setting and the fix.
 */
function parseAllowance(text) {
  const hosts = new Map();
  const networks = [];
  const entries = String(text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const bad = () =>
      new Error(
        `OAUTH_CIMD_ALLOW entry '${entry.slice(0, 80)}' is not a host name (optionally with :PORT) or a network such as 10.20.0.0/16 or fd00:1::/64; separate entries with commas`,
      );
    const slash = entry.indexOf('/');
    if (slash >= 0) {
      const address = entry.slice(0, slash);
      const prefix = entry.slice(slash + 1);
      const max = net.isIPv4(address) ? 32 : net.isIPv6(address) ? 128 : -1;
      if (max < 0 || !/^\d{1,3}$/.test(prefix) || Number(prefix) > max) throw bad();
      networks.push(`${address}/${Number(prefix)}`);
      continue;
    }
    const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(entry);
    const host = match?.[1]?.toLowerCase();
    const port = match?.[2] === undefined ? 443 : Number(match[2]);
    if (!host || !HOST_NAME.test(host) || net.isIP(host) || port < 1 || port > 65535) throw bad();
    if (!hosts.has(host)) hosts.set(host, new Set([443]));
    hosts.get(host).add(port);
  }
  return { hosts, networks: blockListOf(networks), entries };
}

/** The CLI's check of the setting (load.ts): throws like parseAllowance, returns nothing. */
function checkAllowance(env) {
  parseAllowance(env.OAUTH_CIMD_ALLOW);
}

/**
 * null when a document at `host` (lower case, no brackets) may be fetched on
 * `port`, else the reason. `usualPort` is 443 (the unit tests' server has another).
 */
function portProblem(host, port, allowance, usualPort = 443) {
  if (port === usualPort || allowance.hosts.get(host)?.has(port)) return null;
  return `port ${port} is not allowed (documents are fetched from port ${usualPort}; OAUTH_CIMD_ALLOW can allow ${host}:${port})`;
}

/** null when `address`, which `host` resolved to, may be connected to, else the reason (for the log). */
function addressProblem(host, address, allowance) {
  if (!net.isIP(address)) return `'${address}' is not an IP address`;
  if (allowance.hosts.has(host) || allowance.networks.check(address, familyOf(address))) return null;
  const why = blockedReason(address);
  return why ? `${host} is at ${address}, which is not a public address (${why}); OAUTH_CIMD_ALLOW can allow it` : null;
}

module.exports = { BLOCKED_RANGES, addressProblem, blockedReason, checkAllowance, parseAllowance, portProblem };
