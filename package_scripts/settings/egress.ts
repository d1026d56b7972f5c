/**
 * MCP_EGRESS as the user writes it, parsed once into data. Host names are
 * resolved later, on the host (instance/egress.ts); the container receives
 * only addresses (sandbox/firewall.ts), so it never parses this grammar.
 */

/** An IPv4 network: the address as written and its prefix (32 for one address). */
export interface Ipv4Network {
  kind: 'network';
  address: string;
  prefix: number;
}
export interface HostName {
  kind: 'host';
  host: string;
}
export interface EgressEntry {
  target: Ipv4Network | HostName;
  /** TCP and UDP to this port only; every port when absent. */
  port?: number;
}
export type EgressSetting = { mode: 'none' } | { mode: 'open' } | { mode: 'allowlist'; entries: EgressEntry[] };

export const EGRESS_SYNTAX =
  'MCP_EGRESS must be none, open, or a comma-separated list of host[:port] or IPv4[/prefix][:port] (a host name takes no /prefix), such as api.github.com:443,10.1.2.0/24';

// One octet, 0 to 255, without leading zeros (010 would read as octal to some tools).
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
export const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const PREFIX = /^(?:3[0-2]|[12]?[0-9])$/;
const PORT = /^[1-9][0-9]{0,4}$/;
// RFC 1123 labels; at least one letter somewhere so that a mistyped address (10.0.0.300) is not taken for a name.
const HOST_NAME = /^(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parsePort(text: string): number | undefined {
  return PORT.test(text) && Number(text) <= 65535 ? Number(text) : undefined;
}

function parseEntry(entry: string): EgressEntry | string {
  const problem = entryProblem(entry);
  return typeof problem === 'string' ? `MCP_EGRESS entry '${entry}' ${problem}. ${EGRESS_SYNTAX}` : problem;
}

function entryProblem(entry: string): EgressEntry | string {
  if (entry.includes('://')) return 'is a URL: give its host name (and :port) only';
  const colon = entry.lastIndexOf(':');
  const targetText = colon === -1 ? entry : entry.slice(0, colon);
  let port: number | undefined;
  if (colon !== -1) {
    port = parsePort(entry.slice(colon + 1));
    if (port === undefined) return 'has a port that is not a number from 1 to 65535';
  }
  const [address, prefixText, ...extra] = targetText.split('/');
  if (extra.length > 0) return 'has more than one /';
  if (IPV4.test(address!)) {
    if (prefixText !== undefined && !PREFIX.test(prefixText)) return 'has a /prefix that is not 0 to 32';
    return { target: { kind: 'network', address: address!, prefix: prefixText === undefined ? 32 : Number(prefixText) }, ...(port ? { port } : {}) };
  }
  if (prefixText !== undefined) return 'puts a /prefix on a host name (a name has no range; give an IPv4 network instead)';
  if (!HOST_NAME.test(address!) || address!.length > 253) return 'is neither a host name nor an IPv4 address';
  return { target: { kind: 'host', host: address!.toLowerCase() }, ...(port ? { port } : {}) };
}

/** The setting as data, or the message that says what is wrong and how to write it. */
export function parseEgressSetting(value: string): EgressSetting | { error: string } {
  const text = value.trim();
  if (text === 'none' || text === 'open') return { mode: text };
  const entries: EgressEntry[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') return { error: `MCP_EGRESS has an empty entry (two commas in a row, or one at an end). ${EGRESS_SYNTAX}` };
    const parsed = parseEntry(entry);
    if (typeof parsed === 'string') return { error: parsed };
    entries.push(parsed);
  }
  return { mode: 'allowlist', entries };
}

/** The setting written back in its canonical form (for messages and status). */
export function describeEgress(setting: EgressSetting): string {
  if (setting.mode !== 'allowlist') return setting.mode;
  return setting.entries
    .map(({ target, port }) => {
      const where = target.kind === 'host' ? target.host : target.prefix === 32 ? target.address : `${target.address}/${target.prefix}`;
      return port ? `${where}:${port}` : where;
    })
    .join(',');
}

/** The host names of an allowlist, each once, for resolution on the host. */
export function egressHostNames(setting: EgressSetting): string[] {
  if (setting.mode !== 'allowlist') return [];
  return [...new Set(setting.entries.flatMap(({ target }) => (target.kind === 'host' ? [target.host] : [])))];
}
