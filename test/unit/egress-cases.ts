/**
 * MCP_EGRESS as the container's firewall receives it. The CLI and the
 * container read it with one module (docker/common/egress-gateway/src/grammar.cjs;
 * the firewall through table.mjs), so these cases are about what the firewall
 * installs, not about a second parser: values it must refuse before installing
 * anything (exit 78), and values it installs.
 */

/** Refused by the grammar: the firewall stops before any rule. */
export const REFUSED_IN_CONTAINER: string[] = [
  '',
  '*',
  '*.com',
  '*.',
  'a..b',
  'example.com.',
  'exämple.com',
  'http://example.com',
  '1.2.3.4/33',
  '1.2.3.4:0',
  '1.2.3.4:65536',
  'none,1.2.3.4',
  '1.2.3.4,,5.6.7.8',
  '1.2.3.4;reboot',
  '$(id)',
  '`id`',
  '1.2.3.4 -j ACCEPT',
  '-1.2.3.4',
  '1.2.3.4\n5.6.7.8',
];

/**
 * The iptables arguments (after `iptables -w`) that let uid `uid` reach one
 * address rule: with a port, TCP and UDP to that port; without, everything.
 */
export function allowRuleArgv(cidr: string, port: number | undefined, uid: number): string[][] {
  const head = ['-A', 'OUTPUT', '-m', 'owner', '--uid-owner', String(uid), '-d', cidr];
  if (port === undefined) return [[...head, '-j', 'ACCEPT']];
  return ['tcp', 'udp'].map((protocol) => [...head, '-p', protocol, '--dport', String(port), '-j', 'ACCEPT']);
}
