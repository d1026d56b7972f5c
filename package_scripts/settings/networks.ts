/**
 * MCP_NETWORKS: existing engine networks the instance joins beside its own
 * (NAME-net), at every start, so that a database or service container on one
 * of them can be named in the server's URL and in MCP_EGRESS. Joining a
 * network reaches nothing by itself: the server's traffic is still what
 * MCP_EGRESS allows (the firewall does not look at which network a packet
 * leaves by), and the instance's gateway port stays behind its token there too.
 */

/** Docker's own rule for network names; Podman's is the same. */
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Not networks to join: they would replace the sandbox's network, not add one. */
const NOT_JOINABLE: Readonly<Record<string, string>> = {
  host: "shares the host's network stack, which would undo the sandbox's network isolation",
  none: 'has no network at all; leave MCP_NETWORKS empty instead',
};

/** The names in MCP_NETWORKS, in order (empty: none). Call after `networksIssue` found nothing. */
export function parseNetworks(value: string): string[] {
  return value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/** The message for a bad MCP_NETWORKS, or undefined. */
export function networksIssue(value: string): string | undefined {
  const names = parseNetworks(value);
  for (const name of names) {
    if (!NETWORK_NAME.test(name)) {
      return `MCP_NETWORKS entry '${name}' is not a network name (letters, digits, "_", "." and "-", starting with a letter or digit); list existing networks by name: MCP_NETWORKS=db-net,other-net`;
    }
    const why = NOT_JOINABLE[name];
    if (why) return `MCP_NETWORKS must not list '${name}': it ${why}`;
  }
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated) return `MCP_NETWORKS lists '${repeated}' twice; list each network once`;
  return undefined;
}

/** The instance's own network is joined anyway; listing it is a mistake worth naming (load.ts, with NAME known). */
export function ownNetworkIssue(networks: readonly string[], ownNetwork: string): string | undefined {
  return networks.includes(ownNetwork)
    ? `MCP_NETWORKS lists ${ownNetwork}, the instance's own network, which it always joins; list only other networks`
    : undefined;
}
