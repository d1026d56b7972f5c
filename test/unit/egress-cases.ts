/**
 * MCP_EGRESS as the container receives it: one table of cases, read by the fast
 * test of the container's firewall (test/unit/shell/firewall.test.ts, which runs
 * docker/common/runtime/bin/firewall with a fake iptables) and by the tests of the
 * CLI's renderer of the same contract, so that both accept and refuse alike.
 *
 * The contract: `open`, `none`, or a comma-separated list of rules `A.B.C.D/N`
 * or `A.B.C.D/N:PORT` (IPv4 dotted quad, each octet 0-255 without leading
 * zeros; the prefix length 0-32 always written, without leading zeros; the port
 * 1-65535 without leading zeros). Nothing else: no host names (the CLI resolves
 * them on the host), no spaces, no empty entries, no IPv6.
 */

export interface EgressRule {
  /** `A.B.C.D/N`, exactly as written in the value. */
  cidr: string;
  /** TCP and UDP to this port only; every port when absent. */
  port?: number;
}

export interface EgressCase {
  value: string;
  accepted: boolean;
  /**
   * For accepted values: the allowlist, in order. `[]` for `none` (loopback
   * only); absent for `open` (no rule at all: every address).
   */
  rules?: EgressRule[];
}

export const EGRESS_CONTAINER_CASES: EgressCase[] = [
  // Accepted
  { value: 'open', accepted: true },
  { value: 'none', accepted: true, rules: [] },
  { value: '1.2.3.4/32', accepted: true, rules: [{ cidr: '1.2.3.4/32' }] },
  { value: '1.2.3.4/32:443', accepted: true, rules: [{ cidr: '1.2.3.4/32', port: 443 }] },
  {
    value: '10.0.0.0/8,192.168.1.0/24:5432,172.17.0.2/32:7000',
    accepted: true,
    rules: [{ cidr: '10.0.0.0/8' }, { cidr: '192.168.1.0/24', port: 5432 }, { cidr: '172.17.0.2/32', port: 7000 }],
  },
  { value: '0.0.0.0/0:53', accepted: true, rules: [{ cidr: '0.0.0.0/0', port: 53 }] },
  { value: '255.255.255.255/32:65535', accepted: true, rules: [{ cidr: '255.255.255.255/32', port: 65535 }] },
  { value: '0.0.0.0/32:1', accepted: true, rules: [{ cidr: '0.0.0.0/32', port: 1 }] },
  // Host bits beyond the prefix are the kernel's to mask, as iptables does.
  { value: '10.1.2.3/8', accepted: true, rules: [{ cidr: '10.1.2.3/8' }] },
  // Refused: numbers out of range or not normalized
  { value: '256.1.1.1/32', accepted: false },
  { value: '1.2.3.999/32', accepted: false },
  { value: '01.2.3.4/32', accepted: false },
  { value: '1.2.3.4/33', accepted: false },
  { value: '1.2.3.4/032', accepted: false },
  { value: '1.2.3.4', accepted: false },
  { value: '1.2.3.4:443', accepted: false },
  { value: '1.2.3/24', accepted: false },
  { value: '1.2.3.4/', accepted: false },
  { value: '1.2.3.4/32:0', accepted: false },
  { value: '1.2.3.4/32:65536', accepted: false },
  { value: '1.2.3.4/32:0443', accepted: false },
  { value: '1.2.3.4/32:', accepted: false },
  { value: '1.2.3.4/32:80:90', accepted: false },
  // Refused: host names (resolved by the CLI, never in the container)
  { value: 'example.com', accepted: false },
  { value: 'example.com:443', accepted: false },
  { value: 'example.com/24', accepted: false },
  { value: 'localhost', accepted: false },
  // Refused: the list's shape
  // The entrypoint reads an unset or empty MCP_EGRESS as none; the firewall itself takes no empty value.
  { value: '', accepted: false },
  { value: '1.2.3.4/32, 5.6.7.8/32', accepted: false },
  { value: ' 1.2.3.4/32', accepted: false },
  { value: '1.2.3.4/32,,5.6.7.8/32', accepted: false },
  { value: '1.2.3.4/32,', accepted: false },
  { value: ',1.2.3.4/32', accepted: false },
  { value: '1.2.3.4/32\n5.6.7.8/32', accepted: false },
  { value: 'none,1.2.3.4/32', accepted: false },
  { value: 'OPEN', accepted: false },
  // Refused: IPv6 (the firewall allows mcp no IPv6 but loopback)
  { value: '::1/128', accepted: false },
  { value: '[2001:db8::1]:443', accepted: false },
  // Refused: shell metacharacters
  { value: '1.2.3.4/32;reboot', accepted: false },
  { value: '$(id)', accepted: false },
  { value: '`id`', accepted: false },
  { value: '1.2.3.4/32 -j ACCEPT', accepted: false },
  { value: '-1.2.3.4/32', accepted: false },
];

/**
 * The iptables arguments (after `iptables -w`) that let the "mcp" user (uid
 * `uid`) reach one allowlisted rule: with a port, TCP and UDP to that port;
 * without, every protocol and port.
 */
export function allowRuleArgv(rule: EgressRule, uid: number): string[][] {
  const head = ['-A', 'OUTPUT', '-m', 'owner', '--uid-owner', String(uid), '-d', rule.cidr];
  if (rule.port === undefined) return [[...head, '-j', 'ACCEPT']];
  return ['tcp', 'udp'].map((protocol) => [...head, '-p', protocol, '--dport', String(rule.port), '-j', 'ACCEPT']);
}
