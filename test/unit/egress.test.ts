/**
 * MCP_EGRESS in the CLI: a thin wrapper over the enforcer's grammar
 * (docker/common/egress-gateway/src/grammar.cjs, tested on its own in
 * test/unit/egress-gateway/grammar.test.ts). Here: the wrapper gives back
 * what the container will read, nothing is resolved on the host, and the
 * container's firewall table (table.mjs) agrees with what the CLI parsed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { acceptRules, firewallEgressValue, networkRules } from '../../package_scripts/sandbox/firewall.js';
import { describeEgress, EGRESS_SYNTAX, namePorts, parseEgressSetting, type EgressSetting } from '../../package_scripts/settings/egress.js';
import { egressModule } from './egress-gateway/module.js';

const USER_CASES: Array<{ value: string; canonical?: string; refused?: string }> = [
  { value: 'none', canonical: 'none' },
  { value: 'open', canonical: 'open' },
  { value: 'learn', canonical: 'learn' },
  { value: ' none ', canonical: 'none' },
  { value: 'api.github.com:443', canonical: 'api.github.com:443' },
  { value: 'API.GitHub.com', canonical: 'api.github.com' },
  { value: '*.githubusercontent.com', canonical: '*.githubusercontent.com' },
  { value: '10.1.2.0/24:5432, 192.0.2.7', canonical: '10.1.2.0/24:5432,192.0.2.7' },
  { value: '[2001:db8::1]:443,2001:db8::/32', canonical: '[2001:db8::1]:443,2001:db8::/32' },
  { value: 'example.com/24', refused: 'puts a /prefix on a name' },
  { value: '*.com', refused: 'is a wildcard over the public suffix com' },
  { value: '*', refused: "MCP_EGRESS entry '*'" },
  { value: 'a..b', refused: 'has an empty label' },
  { value: 'example.com.', refused: 'ends with a dot: write example.com' },
  { value: 'bücher.example', refused: 'xn--bcher-kva.example' },
  { value: '10.0.0.1:65536', refused: "MCP_EGRESS entry '10.0.0.1:65536'" },
  { value: 'example.com,,other.org', refused: 'has an empty entry' },
  { value: '', refused: 'has an empty entry' },
  { value: 'x.com;reboot', refused: "MCP_EGRESS entry 'x.com;reboot'" },
];

describe('MCP_EGRESS as written (settings/egress.ts over grammar.cjs)', () => {
  for (const { value, canonical, refused } of USER_CASES) {
    it(`${JSON.stringify(value)} ${refused ? 'is refused' : `reads as ${canonical}`}`, () => {
      const parsed = parseEgressSetting(value);
      if (refused) {
        assert.ok('error' in parsed, 'refused');
        assert.ok(parsed.error.includes(refused), parsed.error);
        assert.ok(parsed.error.includes(EGRESS_SYNTAX), 'the message says how to write it');
      } else {
        assert.ok(!('error' in parsed), JSON.stringify(parsed));
        assert.equal(describeEgress(parsed), canonical);
        // The container receives the canonical value: names stay names.
        assert.equal(firewallEgressValue(parsed), canonical);
      }
    });
  }
});

const setting = (value: string): EgressSetting => {
  const parsed = parseEgressSetting(value);
  assert.ok(!('error' in parsed), JSON.stringify(parsed));
  return parsed;
};

describe("the CLI and the container's firewall table agree (one grammar, table.mjs)", () => {
  const resolvConf = readFileSync('/etc/resolv.conf', 'utf8');
  for (const value of ['none', 'open', 'learn', 'api.example.com,*.cdn.example.com:8443,10.1.2.0/24:5432,[2001:db8::1]:443', '192.0.2.7']) {
    it(value, async () => {
      const { firewallLines } = await egressModule('table.mjs');
      const lines: string[] = firewallLines(value, resolvConf);
      const parsed = setting(value);
      assert.equal(lines[0], `mode ${parsed.mode}`);
      const redirected = lines.filter((l) => l.startsWith('redirect ')).map((l) => Number(l.split(' ')[1]));
      assert.deepEqual(redirected, parsed.mode === 'learn' ? [80, 443] : namePorts(parsed));
      const addresses = lines.filter((l) => l.startsWith('address ')).map((l) => l.split(' ').slice(2).join(' '));
      assert.deepEqual(
        addresses,
        acceptRules(networkRules(parsed))
          .filter((r) => r.protocol !== 'udp')
          .map((r) => `${r.destination} ${r.port ?? '-'}`),
      );
      if (parsed.mode === 'allowlist' || parsed.mode === 'learn') assert.ok(lines.some((l) => l.startsWith('resolver ')));
    });
  }

  it('a refused value throws in the container as it is refused in the CLI (control: an accepted one does not)', async () => {
    const { firewallLines } = await egressModule('table.mjs');
    assert.throws(() => firewallLines('*.com', resolvConf), /MCP_EGRESS entry '\*\.com'/);
    assert.doesNotThrow(() => firewallLines('example.com', resolvConf));
  });

  it('the resolver is the first nameserver given by address in resolv.conf; none is an error', async () => {
    const { resolverOf } = await egressModule('resolv-conf.mjs');
    assert.equal(resolverOf('# docker\nsearch x\nnameserver 127.0.0.11\nnameserver 1.1.1.1\noptions ndots:0\n'), '127.0.0.11');
    assert.equal(resolverOf('nameserver fd00::1\n'), 'fd00::1');
    assert.throws(() => resolverOf('search example\n'), /names no nameserver/);
    assert.throws(() => resolverOf('nameserver dns.example\n'), /names no nameserver/);
  });
});
