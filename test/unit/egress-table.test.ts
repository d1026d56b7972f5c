/**
 * The CLI's twin of the container's firewall (package_scripts/sandbox/firewall.ts)
 * held to the same case table as the script itself (test/unit/shell/firewall.test.ts):
 * both accept and refuse alike, and find the same rules.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { acceptRules, parseFirewallEgress } from '../../package_scripts/sandbox/firewall.js';
import { allowRuleArgv, EGRESS_CONTAINER_CASES } from './egress-cases.js';

describe('parseFirewallEgress reads MCP_EGRESS as the container does (shared table)', () => {
  for (const { value, accepted, rules } of EGRESS_CONTAINER_CASES) {
    test(`${accepted ? 'accepts' : 'refuses'} ${JSON.stringify(value)}`, () => {
      const read = parseFirewallEgress(value);
      if (!accepted) return assert.equal(read, undefined);
      if (rules === undefined) return assert.deepEqual(read, { mode: 'open' });
      if (value === 'none') return assert.deepEqual(read, { mode: 'none' });
      assert.deepEqual(read, { mode: 'allowlist', rules });
      // The same ACCEPT rules as the script installs (one argv per rule there).
      const argv = acceptRules(rules).map(({ destination, protocol, port }) => [
        ...['-A', 'OUTPUT', '-m', 'owner', '--uid-owner', '10002', '-d', destination],
        ...(protocol ? ['-p', protocol, '--dport', String(port)] : []),
        ...['-j', 'ACCEPT'],
      ]);
      assert.deepEqual(
        argv,
        rules.flatMap((rule) => allowRuleArgv(rule, 10002)),
      );
    });
  }
});
