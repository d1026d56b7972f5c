import { IPV4, parsePort, type EgressSetting } from '../settings/egress.js';

/**
 * What the container's firewall (docker/common/runtime/bin/firewall) receives in
 * MCP_EGRESS: `open`, `none`, or rules with addresses only, already resolved
 * on the host, in one canonical form: A.B.C.D/N or A.B.C.D/N:PORT, comma-separated.
 * The script only checks that form and fails closed (exit 78) on anything else;
 * parseFirewallEgress is its twin here, and both are tested on one case table.
 */

export interface EgressRule {
  /** An IPv4 network with its prefix, such as 140.82.112.5/32. */
  cidr: string;
  port?: number;
}

export type EgressPolicy =
  | { mode: 'none' }
  | { mode: 'open' }
  | {
      mode: 'allowlist';
      rules: EgressRule[];
      /** Host names and the addresses they resolved to on the host, pinned in the container's /etc/hosts. */
      pinnedHosts: Record<string, string[]>;
    };

/**
 * The setting with its host names replaced by the addresses they resolved to
 * (ADDRESSES holds every name of the allowlist): one rule per address and
 * port, each once, in the order written.
 */
export function egressPolicy(setting: EgressSetting, addresses: Readonly<Record<string, readonly string[]>>): EgressPolicy {
  if (setting.mode !== 'allowlist') return setting;
  const pinnedHosts: Record<string, string[]> = {};
  const rules: EgressRule[] = [];
  for (const { target, port } of setting.entries) {
    let cidrs: string[];
    if (target.kind === 'network') {
      cidrs = [`${target.address}/${target.prefix}`];
    } else {
      const resolved = addresses[target.host];
      if (!resolved || resolved.length === 0) throw new Error(`egressPolicy: ${target.host} was not resolved`);
      pinnedHosts[target.host] = [...resolved];
      cidrs = resolved.map((address) => `${address}/32`);
    }
    for (const cidr of cidrs) {
      if (!rules.some((rule) => rule.cidr === cidr && rule.port === port)) rules.push({ cidr, ...(port ? { port } : {}) });
    }
  }
  return { mode: 'allowlist', rules, pinnedHosts };
}

/** The value of MCP_EGRESS inside the container. */
export function firewallEgressValue(policy: EgressPolicy): string {
  if (policy.mode !== 'allowlist') return policy.mode;
  return policy.rules.map((rule) => (rule.port ? `${rule.cidr}:${rule.port}` : rule.cidr)).join(',');
}

const RULE_PREFIX = /^(?:3[0-2]|[12]?[0-9])$/;

/** The container's reading of MCP_EGRESS: the rules, or undefined where the script exits 78. */
export function parseFirewallEgress(value: string): { mode: 'none' | 'open' } | { mode: 'allowlist'; rules: EgressRule[] } | undefined {
  if (value === 'none' || value === 'open') return { mode: value };
  const rules: EgressRule[] = [];
  for (const entry of value.split(',')) {
    const match = /^([^/:]+)\/([^/:]+)(?::([^/:]+))?$/.exec(entry);
    if (!match || !IPV4.test(match[1]!) || !RULE_PREFIX.test(match[2]!)) return undefined;
    const port = match[3] === undefined ? undefined : parsePort(match[3]);
    if (match[3] !== undefined && port === undefined) return undefined;
    rules.push({ cidr: `${match[1]}/${match[2]}`, ...(port ? { port } : {}) });
  }
  return { mode: 'allowlist', rules };
}

/** One ACCEPT rule of the MCP server's user, as the firewall installs it. */
export interface AcceptRule {
  destination: string;
  protocol?: 'tcp' | 'udp';
  port?: number;
}

/**
 * The ACCEPT rules for the server's user beyond loopback (everything else of
 * that user is rejected; `open` has no rules and no reject).
 */
export function acceptRules(rules: readonly EgressRule[]): AcceptRule[] {
  return rules.flatMap(({ cidr, port }) =>
    port
      ? [
          { destination: cidr, protocol: 'tcp' as const, port },
          { destination: cidr, protocol: 'udp' as const, port },
        ]
      : [{ destination: cidr }],
  );
}
