// @ts-check
// The enforcer as one piece: MCP_EGRESS (as the CLI wrote it) in, the proxy's
// listeners and the DNS filter up, refusals to the log, and in learn mode a
// recorder. The redirect table it returns is what the firewall installs
// (iptables nat OUTPUT for the MCP server's user: each name port to its
// listener, port 53 to the DNS filter); redirectTable() computes it without
// starting anything, so the firewall and the enforcer share one table.
import grammar from './grammar.cjs';
import { startDnsFilter } from './dns-filter.mjs';
import { createLearnRecorder } from './learn.mjs';
import { startProxy } from './proxy.mjs';
import { createRefusalLog } from './refusal-log.mjs';
import { upstreamResolver } from './resolve.mjs';
import { withHostAliases } from './host-aliases.mjs';

const { DEFAULT_NAME_PORTS, allows, allowsName, namePorts, parseEgress, portOwner } = grammar;

/** The first listen port; destination ports are numbered from it in ascending order. */
export const LISTEN_BASE = 15001;
/** Where the DNS filter listens (UDP and TCP); the firewall redirects port 53 here. */
export const DNS_PORT = 15053;

/**
 * @typedef {{ destinationPort: number, listenPort: number }} Redirect
 * @typedef {{ mode: 'open' | 'none' } | { mode: 'learn' | 'allowlist', redirects: Redirect[], dnsPort: number }} RedirectTable
 */

/**
 * What the firewall redirects for this MCP_EGRESS value: nothing for open and
 * none (the firewall handles those as before); for learn, ports 443 and 80; for
 * an allowlist, every port a name rule uses. Throws on a value the grammar refuses.
 * @param {string} value
 * @param {{ listenBase?: number, dnsPort?: number, learnPorts?: readonly number[] }} [where]
 *   learnPorts: the ports learn mode watches (443 and 80; tests use a free port)
 * @returns {RedirectTable}
 */
export function redirectTable(value, { listenBase = LISTEN_BASE, dnsPort = DNS_PORT, learnPorts = DEFAULT_NAME_PORTS } = {}) {
  const setting = parseEgress(value);
  if ('error' in setting) throw new Error(setting.error);
  if (setting.mode === 'open' || setting.mode === 'none') return { mode: setting.mode };
  const ports = setting.mode === 'learn' ? [...learnPorts].sort((a, b) => a - b) : namePorts(setting.rules);
  return { mode: setting.mode, redirects: ports.map((destinationPort, i) => ({ destinationPort, listenPort: listenBase + i })), dnsPort };
}

/**
 * Starts the proxy and the DNS filter for this MCP_EGRESS value.
 * @param {{
 *   egress: string,
 *   upstream: { host: string, port: number },
 *   write: (line: string) => void,
 *   debug?: boolean,
 *   hosts?: string[],
 *   listenBase?: number,
 *   dnsPort?: number,
 *   learnPorts?: readonly number[],
 *   hostAliases?: ReadonlyMap<string, string[]>,
 *   proxyOptions?: Partial<import('./proxy.mjs').ProxyOptions>,
 * }} config
 *   hosts: where to listen (REDIRECT sends IPv4 to 127.0.0.1 and IPv6 to ::1).
 *   hostAliases: the engine's names for the host, from /etc/hosts (host-aliases.mjs).
 *   listenBase/dnsPort 0: free ports (tests); the bound ones are in the result.
 */
export async function startEnforcer({
  egress,
  upstream,
  write,
  debug = false,
  hosts = ['127.0.0.1'],
  listenBase = LISTEN_BASE,
  dnsPort = DNS_PORT,
  learnPorts,
  hostAliases = new Map(),
  proxyOptions = {},
}) {
  const table = redirectTable(egress, { listenBase: listenBase || 1, dnsPort, ...(learnPorts ? { learnPorts } : {}) });
  if (!('redirects' in table)) throw new Error(`MCP_EGRESS=${table.mode} needs no enforcer`);
  const { redirects } = table;
  const setting = parseEgress(egress);
  const rules = 'rules' in setting ? setting.rules : [];
  const learn = table.mode === 'learn' ? createLearnRecorder() : undefined;
  const log = createRefusalLog({ write, debug });
  /** @param {any} event */
  const onEvent = (event) => {
    if (learn && event.type === 'allowed') learn.record(event.name, event.port);
    log.report(event);
  };
  const proxy = await startProxy(
    hosts.flatMap((host) => redirects.map(({ destinationPort, listenPort }) => ({ destinationPort, listenPort: listenBase === 0 ? 0 : listenPort, host }))),
    {
      allows: learn ? () => true : (name, port) => allows(rules, name, port),
      owner: (port) => (learn ? undefined : portOwner(rules, port)),
      resolve: withHostAliases(upstreamResolver(upstream), hostAliases),
      onEvent,
      ...proxyOptions,
    },
  );
  const dns = await startDnsFilter(
    { host: hosts[0], port: dnsPort },
    { allowsName: learn ? () => true : (name) => allowsName(rules, name), upstream, onEvent },
  );
  return {
    mode: table.mode,
    /** destination port → the port its listener bound */
    listenPorts: proxy.ports,
    dnsPort: dns.port,
    /** In learn mode: the MCP_EGRESS line that allows what was reached so far. */
    learnedLine: () => learn?.egressLine(),
    close: async () => {
      await proxy.close();
      await dns.close();
    },
  };
}
