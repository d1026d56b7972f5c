import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../package_scripts/errors.js';
import { resolveEgress } from '../../package_scripts/instance/egress.js';
import { acceptRules, egressPolicy, firewallEgressValue, parseFirewallEgress } from '../../package_scripts/sandbox/firewall.js';
import { describeEgress, egressHostNames, parseEgressSetting, type EgressSetting } from '../../package_scripts/settings/egress.js';

/** MCP_EGRESS as users write it: accepted with its canonical form, or refused with a phrase of the message. */
const USER_CASES: Array<{ value: string; canonical?: string; refused?: string }> = [
  { value: 'none', canonical: 'none' },
  { value: 'open', canonical: 'open' },
  { value: ' none ', canonical: 'none' },
  { value: 'api.github.com:443', canonical: 'api.github.com:443' },
  { value: 'API.GitHub.com', canonical: 'api.github.com' },
  { value: 'localhost', canonical: 'localhost' },
  { value: '10.1.2.0/24:5432, 192.0.2.7', canonical: '10.1.2.0/24:5432,192.0.2.7' },
  { value: '192.0.2.7/32', canonical: '192.0.2.7' },
  { value: '0.0.0.0/0:53', canonical: '0.0.0.0/0:53' },
  { value: '255.255.255.255:65535', canonical: '255.255.255.255:65535' },
  { value: 'example.com/24', refused: 'puts a /prefix on a host name' },
  { value: '10.0.0.0/33', refused: 'has a /prefix that is not 0 to 32' },
  { value: '10.0.0.256', refused: 'is neither a host name nor an IPv4 address' },
  { value: '010.0.0.1', refused: 'is neither a host name nor an IPv4 address' },
  { value: '10.0.0.1:0', refused: 'has a port that is not a number from 1 to 65535' },
  { value: '10.0.0.1:65536', refused: 'has a port that is not a number from 1 to 65535' },
  { value: '10.0.0.1:080', refused: 'has a port that is not a number from 1 to 65535' },
  { value: 'http://example.com', refused: 'is a URL' },
  { value: 'example.com,,other.org', refused: 'has an empty entry' },
  { value: 'example.com,', refused: 'has an empty entry' },
  { value: '', refused: 'has an empty entry' },
  { value: '2001:db8::1', refused: 'MCP_EGRESS entry' },
  { value: 'a b.com', refused: 'is neither a host name nor an IPv4 address' },
  { value: 'x.com;reboot', refused: 'is neither a host name nor an IPv4 address' },
  { value: '-bad.com', refused: 'is neither a host name nor an IPv4 address' },
  { value: '10.0.0.1/24/8', refused: 'has more than one /' },
];

describe('MCP_EGRESS as written (settings/egress.ts)', () => {
  for (const { value, canonical, refused } of USER_CASES) {
    it(`${JSON.stringify(value)} ${refused ? 'is refused' : `reads as ${canonical}`}`, () => {
      const parsed = parseEgressSetting(value);
      if (refused) {
        assert.ok('error' in parsed, 'refused');
        assert.match(parsed.error, new RegExp(refused.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
        assert.match(parsed.error, /MCP_EGRESS must be none, open, or a comma-separated list/, 'the message says how to write it');
      } else {
        assert.ok(!('error' in parsed), JSON.stringify(parsed));
        assert.equal(describeEgress(parsed), canonical);
      }
    });
  }
});

const allowlist = (value: string): EgressSetting => {
  const parsed = parseEgressSetting(value);
  assert.ok(!('error' in parsed));
  return parsed;
};

describe('egress policy: names become addresses on the host (sandbox/firewall.ts)', () => {
  it('one rule per address and port, each once, in the order written; names pinned', () => {
    const setting = allowlist('api.github.com:443,10.1.2.0/24:5432,api.github.com:22,192.0.2.7,api.github.com:443');
    assert.deepEqual(egressHostNames(setting), ['api.github.com']);
    const policy = egressPolicy(setting, { 'api.github.com': ['140.82.112.5', '140.82.112.6'] });
    assert.deepEqual(policy, {
      mode: 'allowlist',
      rules: [
        { cidr: '140.82.112.5/32', port: 443 },
        { cidr: '140.82.112.6/32', port: 443 },
        { cidr: '10.1.2.0/24', port: 5432 },
        { cidr: '140.82.112.5/32', port: 22 },
        { cidr: '140.82.112.6/32', port: 22 },
        { cidr: '192.0.2.7/32' },
      ],
      pinnedHosts: { 'api.github.com': ['140.82.112.5', '140.82.112.6'] },
    });
    assert.equal(firewallEgressValue(policy), '140.82.112.5/32:443,140.82.112.6/32:443,10.1.2.0/24:5432,140.82.112.5/32:22,140.82.112.6/32:22,192.0.2.7/32');
  });

  it('none and open pass through unchanged, with no rules', () => {
    for (const mode of ['none', 'open'] as const) {
      const policy = egressPolicy({ mode }, {});
      assert.deepEqual(policy, { mode });
      assert.equal(firewallEgressValue(policy), mode);
    }
  });

  it('a name that was not resolved is a bug, not a silent gap in the allowlist', () => {
    assert.throws(() => egressPolicy(allowlist('api.github.com'), {}), /api\.github\.com was not resolved/);
  });

  it('whatever the host sends, the container reads back as the same rules (the two sides of one contract)', () => {
    for (const { value, refused } of USER_CASES) {
      if (refused) continue;
      const setting = allowlist(value);
      const addresses = Object.fromEntries(egressHostNames(setting).map((h, i) => [h, [`198.51.100.${i + 1}`]]));
      const policy = egressPolicy(setting, addresses);
      const read = parseFirewallEgress(firewallEgressValue(policy));
      assert.deepEqual(read, policy.mode === 'allowlist' ? { mode: 'allowlist', rules: policy.rules } : policy, value);
    }
  });

  it('the container refuses the user grammar it no longer parses: names, missing prefixes, bad numbers', () => {
    for (const value of [
      'api.github.com:443',
      '10.0.0.1',
      '10.0.0.1:443',
      '10.0.0.1/33',
      '010.0.0.1/32',
      '10.0.0.1/32:0',
      '10.0.0.1/32:65536',
      '',
      'a,b',
      '10.0.0.1/32,',
      ' 10.0.0.1/32',
    ]) {
      assert.equal(parseFirewallEgress(value), undefined, value);
    }
  });

  it('accept rules: a port means TCP and UDP to it; no port means every protocol', () => {
    assert.deepEqual(acceptRules([{ cidr: '10.1.2.0/24', port: 5432 }, { cidr: '192.0.2.7/32' }]), [
      { destination: '10.1.2.0/24', protocol: 'tcp', port: 5432 },
      { destination: '10.1.2.0/24', protocol: 'udp', port: 5432 },
      { destination: '192.0.2.7/32' },
    ]);
  });
});

describe('resolveEgress (names resolved on the host; no DNS in this test)', () => {
  it('asks for each name once and builds the policy', async () => {
    const asked: string[] = [];
    const policy = await resolveEgress(allowlist('a.example:443,a.example:80,10.0.0.0/8'), async (host) => {
      asked.push(host);
      return ['192.0.2.10'];
    });
    assert.deepEqual(asked, ['a.example']);
    assert.equal(firewallEgressValue(policy), '192.0.2.10/32:443,192.0.2.10/32:80,10.0.0.0/8');
  });

  it('a name that does not resolve, or has no IPv4 address: a UsageError naming MCP_EGRESS and the fix', async () => {
    const failing = Object.assign(new Error('x'), { code: 'ENOTFOUND' });
    await assert.rejects(
      resolveEgress(allowlist('no-such.invalid'), async () => {
        throw failing;
      }),
      (e: unknown) => e instanceof UsageError && /MCP_EGRESS names no-such\.invalid, which does not resolve on this machine \(ENOTFOUND\)/.test(e.message),
    );
    await assert.rejects(
      resolveEgress(allowlist('v6only.example'), async () => []),
      (e: unknown) => e instanceof UsageError && /has no IPv4 address/.test(e.message),
    );
  });
});
