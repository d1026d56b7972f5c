import { describeEgress, type EgressSetting, type NetworkRule } from '../settings/egress.js';

/**
 * What the container's firewall (docker/common/runtime/bin/firewall) receives
 * in MCP_EGRESS: the setting in the grammar's canonical form. The container
 * reads it with the same grammar (egress-gateway/src/table.mjs), redirects the
 * name ports and DNS to the egress enforcer, and installs the address rules.
 */
export function firewallEgressValue(setting: EgressSetting): string {
  return describeEgress(setting);
}

/** The address rules of an allowlist (names are the enforcer's). */
export function networkRules(setting: EgressSetting): NetworkRule[] {
  return setting.mode === 'allowlist' ? setting.rules.filter((rule): rule is NetworkRule => rule.kind === 'network') : [];
}

/** One ACCEPT rule of the MCP server's user, as the firewall installs it. */
export interface AcceptRule {
  /** ADDRESS/PREFIX, IPv4 or IPv6. */
  destination: string;
  protocol?: 'tcp' | 'udp';
  port?: number;
}

/** The ACCEPT rules of address rules: TCP and UDP to a rule's port, or everything without one. */
export function acceptRules(rules: readonly NetworkRule[]): AcceptRule[] {
  return rules.flatMap(({ address, prefix, port }) => {
    const destination = `${address}/${prefix}`;
    return port
      ? [
          { destination, protocol: 'tcp' as const, port },
          { destination, protocol: 'udp' as const, port },
        ]
      : [{ destination }];
  });
}
