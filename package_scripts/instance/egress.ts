import { lookup } from 'node:dns/promises';
import { UsageError } from '../errors.js';
import { egressHostNames, type EgressSetting } from '../settings/egress.js';
import { egressPolicy, type EgressPolicy } from '../sandbox/firewall.js';

/** Resolves a host name to its IPv4 addresses (node:dns by default; tests pass their own). */
export type ResolveHost = (host: string) => Promise<string[]>;

export const resolveWithSystemDns: ResolveHost = async (host) => [...new Set((await lookup(host, { all: true, family: 4 })).map((a) => a.address))];

/**
 * The allowlist is enforced by address: names are resolved once, here on the
 * host, and become address rules for the firewall and pins in the container's
 * /etc/hosts. The MCP server itself gets no DNS.
 */
export async function resolveEgress(setting: EgressSetting, resolveHost: ResolveHost = resolveWithSystemDns): Promise<EgressPolicy> {
  const addresses: Record<string, string[]> = {};
  for (const host of egressHostNames(setting)) addresses[host] = await resolveOrExplain(host, resolveHost);
  return egressPolicy(setting, addresses);
}

async function resolveOrExplain(host: string, resolveHost: ResolveHost): Promise<string[]> {
  let addresses: string[];
  try {
    addresses = await resolveHost(host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`MCP_EGRESS names ${host}, which does not resolve on this machine (${code}); fix the name or use an IPv4 address`);
  }
  if (addresses.length === 0) throw new UsageError(`MCP_EGRESS names ${host}, which has no IPv4 address; use an IPv4 address instead`);
  return addresses;
}
