// @ts-check
// MCP_EGRESS, one grammar for the CLI (which refuses a bad value with exit 2
// before docker runs) and for the egress enforcer in the container (which
// reads the same value and enforces it). CommonJS so that the TypeScript CLI
// can require it, as it does docker/common/server/plan.cjs.
//
// The value is `open`, `none`, `learn`, or a comma-separated list of entries:
//
//   api.example.com            the name itself, on ports 443 and 80
//   api.example.com:8443       the name on that port only
//   *.example.com              every name under example.com, at any depth
//                              (a.example.com, a.b.example.com), on 443 and 80;
//                              NOT example.com itself: list it beside if needed
//   *.example.com:8443         the same, on that port only
//   10.1.2.3  10.1.2.0/24      an IPv4 address or network, every port (TCP and UDP)
//   10.1.2.0/24:5432           ... on that port only
//   2001:db8::1  2001:db8::/32 an IPv6 address or network, every port
//   [2001:db8::1]:443          ... on that port only (brackets, as in URLs)
//
// Names are checked on the name, at connection time: the TLS ClientHello's
// server name or the HTTP Host header must match (see sni.mjs). A name on a
// port whose protocol is neither TLS nor HTTP (a database, SSH) cannot be
// checked on the name: such connections are refused, and the log says to list
// the address instead. A name never silently becomes "that address for ever".
// Addresses and networks are address rules, as before.
//
// Names are normalized to lowercase (DNS names are case-insensitive); nothing
// else is rewritten. Refused, each with a message naming the entry and the fix:
// an empty entry, `*`, a wildcard over a public suffix (`*.com`, `*.co.uk`,
// and single-label names such as `*.test`), `*.`, a wildcard anywhere but at
// the start, an empty label (`a..b`), a trailing dot, non-ASCII (write the
// punycode, which the message gives), a URL, a port outside 1-65535.

const { isIP } = require('node:net');
const { domainToASCII } = require('node:url');
const { getPublicSuffix } = require('tldts');

/** Ports a name without a port means. */
const DEFAULT_NAME_PORTS = Object.freeze([443, 80]);

const SYNTAX =
  'MCP_EGRESS is open, none, learn, or a comma-separated list of name[:port], *.domain[:port], IPv4[/prefix][:port], IPv6[/prefix] or [IPv6[/prefix]]:port, such as api.github.com,*.githubusercontent.com,10.1.2.0/24:5432';

/**
 * @typedef {{ kind: 'name', name: string, wildcard: boolean, ports: number[] }} NameRule
 *   `name` is the domain without `*.`; `wildcard` covers names strictly under it.
 * @typedef {{ kind: 'network', family: 4 | 6, address: string, prefix: number, port?: number }} NetworkRule
 *   `port` absent: every port, TCP and UDP.
 * @typedef {NameRule | NetworkRule} EgressRule
 * @typedef {{ mode: 'open' } | { mode: 'none' } | { mode: 'learn' } | { mode: 'allowlist', rules: EgressRule[] }} EgressSetting
 */

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const PORT = /^[1-9][0-9]{0,4}$/;
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/** @param {string} text */
function parsePort(text) {
  return PORT.test(text) && Number(text) <= 65535 ? Number(text) : undefined;
}

/**
 * What is wrong with a host name (already lowercase, no `*.`), or undefined.
 * @param {string} name
 */
function nameProblem(name) {
  if (name === '') return 'has no name';
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(name)) {
    const ascii = domainToASCII(name);
    return ascii ? `is not ASCII: write it in punycode, ${ascii}` : 'is not ASCII and not a valid international name';
  }
  if (name.endsWith('.')) return `ends with a dot: write ${name.replace(/\.+$/, '')}`;
  if (name.startsWith('.') || name.includes('..')) return 'has an empty label (two dots in a row, or one at the start)';
  if (name.includes('*')) return 'has a * that is not the whole first label: a wildcard is written *.domain, at the start only';
  if (name.length > 253) return 'is longer than 253 characters';
  for (const label of name.split('.')) {
    if (!LABEL.test(label)) return `has the label '${label}', which is not letters, digits and inner hyphens (at most 63)`;
  }
  if (/^[0-9.]+$/.test(name)) return 'is neither a name nor an IPv4 address';
  return undefined;
}

/**
 * A name as it arrives in a ClientHello, a Host header or a DNS question:
 * lowercase, one trailing dot dropped; undefined when it is no valid host name
 * (so a wildcard can never match something that is not a name).
 * @param {string} name
 */
function canonicalName(name) {
  const lower = name.toLowerCase().replace(/\.$/, '');
  return nameProblem(lower) === undefined ? lower : undefined;
}

/**
 * @param {string} entry as written (trimmed)
 * @returns {EgressRule | string} the rule, or what is wrong and how to fix it
 */
function entryProblem(entry) {
  if (entry.includes('://')) return 'is a URL: give its host name (and :port) only';
  if (entry.startsWith('[')) {
    const match = /^\[([^\]]*)\](?::(.*))?$/.exec(entry);
    if (!match) return 'opens a [ it does not close: write [IPv6]:port';
    if (match[2] === undefined) return 'has brackets but no port: write the IPv6 address without brackets, or [IPv6]:port';
    const port = parsePort(match[2]);
    if (port === undefined) return 'has a port that is not a number from 1 to 65535';
    const network = networkOf(match[1] ?? '', 6);
    return typeof network === 'string' ? network : { ...network, port };
  }
  // Two colons or more: an IPv6 address or network, without a port.
  if ((entry.match(/:/g) ?? []).length > 1) return networkOf(entry, 6);
  const colon = entry.indexOf(':');
  const target = colon === -1 ? entry : entry.slice(0, colon);
  let port;
  if (colon !== -1) {
    port = parsePort(entry.slice(colon + 1));
    if (port === undefined) return 'has a port that is not a number from 1 to 65535';
  }
  if (/^[0-9./]+$/.test(target) && /[0-9]\.[0-9]/.test(target)) {
    const network = networkOf(target, 4);
    return typeof network === 'string' ? network : port === undefined ? network : { ...network, port };
  }
  if (target.includes('/')) return 'puts a /prefix on a name (a name has no range; give an address network instead)';
  const lower = target.toLowerCase();
  if (lower === '*') return 'allows every name: write MCP_EGRESS=open if that is what you mean';
  const wildcard = lower.startsWith('*.');
  const name = wildcard ? lower.slice(2) : lower;
  if (wildcard && name === '') return 'is a wildcard over nothing: write *.domain';
  const problem = nameProblem(name);
  if (problem) return problem;
  if (wildcard && getPublicSuffix(name) === name) {
    return `is a wildcard over the public suffix ${name}, which would allow anyone's site: list the names (or *.yourdomain.${name}) instead`;
  }
  return { kind: 'name', name, wildcard, ports: port === undefined ? [...DEFAULT_NAME_PORTS] : [port] };
}

/**
 * @param {string} text address[/prefix]
 * @param {4 | 6} family
 * @returns {NetworkRule | string}
 */
function networkOf(text, family) {
  const [address = '', prefixText, ...extra] = text.split('/');
  if (extra.length > 0) return 'has more than one /';
  const max = family === 4 ? 32 : 128;
  const valid = family === 4 ? IPV4.test(address) : isIP(address) === 6;
  if (!valid) return family === 4 ? 'is not an IPv4 address (four numbers 0-255, no leading zeros)' : 'is not an IPv6 address';
  if (prefixText === undefined) return { kind: 'network', family, address: address.toLowerCase(), prefix: max };
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > max) return `has a /prefix that is not 0 to ${max}`;
  return { kind: 'network', family, address: address.toLowerCase(), prefix: Number(prefixText) };
}

/**
 * The setting as data, or the message that says which entry is wrong and how to write it.
 * @param {string} value
 * @returns {EgressSetting | { error: string }}
 */
function parseEgress(value) {
  const text = value.trim();
  if (text === 'none' || text === 'open' || text === 'learn') return { mode: text };
  /** @type {EgressRule[]} */
  const rules = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') return { error: `MCP_EGRESS has an empty entry (two commas in a row, or one at an end). ${SYNTAX}` };
    if (entry === 'none' || entry === 'open' || entry === 'learn') {
      return { error: `MCP_EGRESS entry '${entry}' must stand alone: write MCP_EGRESS=${entry}, or list names and addresses only. ${SYNTAX}` };
    }
    const rule = entryProblem(entry);
    if (typeof rule === 'string') return { error: `MCP_EGRESS entry '${entry}' ${rule}. ${SYNTAX}` };
    if (!rules.some((seen) => formatRule(seen) === formatRule(rule))) rules.push(rule);
  }
  return { mode: 'allowlist', rules };
}

/**
 * One rule written back in its canonical form (a name rule with the default ports has none).
 * @param {EgressRule} rule
 */
function formatRule(rule) {
  if (rule.kind === 'name') {
    const name = rule.wildcard ? `*.${rule.name}` : rule.name;
    const isDefault = rule.ports.length === DEFAULT_NAME_PORTS.length && rule.ports.every((port, i) => port === DEFAULT_NAME_PORTS[i]);
    return isDefault ? name : rule.ports.map((port) => `${name}:${port}`).join(',');
  }
  const full = rule.prefix === (rule.family === 4 ? 32 : 128);
  const where = full ? rule.address : `${rule.address}/${rule.prefix}`;
  if (rule.port === undefined) return where;
  return rule.family === 6 ? `[${where}]:${rule.port}` : `${where}:${rule.port}`;
}

/**
 * The setting in its canonical form: what the CLI hands the container and shows in status.
 * @param {EgressSetting} setting
 */
function formatEgress(setting) {
  return setting.mode === 'allowlist' ? setting.rules.map(formatRule).join(',') : setting.mode;
}

/**
 * Does a name rule cover this (canonical) name? `*.example.com` covers names
 * strictly under example.com, at any depth, and not example.com itself.
 * @param {NameRule} rule
 * @param {string} name
 */
function nameMatches(rule, name) {
  return rule.wildcard ? name.endsWith(`.${rule.name}`) : name === rule.name;
}

/**
 * May a connection to this name and port go out? The name as the client sent it
 * (ClientHello, Host, DNS question): compared lowercase, one trailing dot dropped.
 * @param {readonly EgressRule[]} rules
 * @param {string} name
 * @param {number} port
 */
function allows(rules, name, port) {
  const canonical = canonicalName(name);
  if (canonical === undefined) return false;
  return rules.some((rule) => rule.kind === 'name' && rule.ports.includes(port) && nameMatches(rule, canonical));
}

/**
 * Is this name allowed on some port? (The DNS filter's question: a name no
 * rule allows does not resolve, so a lookup is no side channel.)
 * @param {readonly EgressRule[]} rules
 * @param {string} name
 */
function allowsName(rules, name) {
  const canonical = canonicalName(name);
  return canonical !== undefined && rules.some((rule) => rule.kind === 'name' && nameMatches(rule, canonical));
}

/**
 * Is the address inside a network rule (for this port, when the rule has one)?
 * @param {readonly EgressRule[]} rules
 * @param {string} ip
 * @param {number} port
 */
function allowsAddress(rules, ip, port) {
  const family = isIP(ip);
  if (family === 0) return false;
  return rules.some((rule) => {
    if (rule.kind !== 'network' || rule.family !== family) return false;
    if (rule.port !== undefined && rule.port !== port) return false;
    return inNetwork(ip, rule);
  });
}

/**
 * @param {string} ip
 * @param {NetworkRule} rule
 */
function inNetwork(ip, rule) {
  const { BlockList } = require('node:net');
  const list = new BlockList();
  list.addSubnet(rule.address, rule.prefix, rule.family === 4 ? 'ipv4' : 'ipv6');
  return list.check(ip, rule.family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The TCP ports that name rules use, each once, ascending: the enforcer opens
 * one listener per port, and the firewall redirects the server's connections
 * to these ports to them.
 * @param {readonly EgressRule[]} rules
 */
function namePorts(rules) {
  return [...new Set(rules.flatMap((rule) => (rule.kind === 'name' ? rule.ports : [])))].sort((a, b) => a - b);
}

/**
 * The one name a port belongs to, or undefined. A port is a name's own when
 * exactly one rule covers it and that rule is an exact name (`db:5432`, not
 * `*.example.com:5432`, not two names on 443). On such a port a protocol that
 * carries no name (PostgreSQL, MySQL, Redis, SMTP: anything but TLS and HTTP)
 * can still be sent somewhere only the owner allowed: to that name, resolved
 * now. TLS and HTTP on it are checked on their own name as everywhere.
 * @param {readonly EgressRule[]} rules
 * @param {number} port
 * @returns {string | undefined}
 */
function portOwner(rules, port) {
  const covering = rules.filter((rule) => rule.kind === 'name' && rule.ports.includes(port));
  const [only] = covering;
  return covering.length === 1 && only && only.kind === 'name' && !only.wildcard ? only.name : undefined;
}

module.exports = { DEFAULT_NAME_PORTS, SYNTAX, parseEgress, formatEgress, formatRule, canonicalName, allows, allowsName, allowsAddress, namePorts, portOwner };
