/**
 * docker/common/runtime/bin/firewall, run for real with a fake iptables: the rules it
 * installs for every MCP_EGRESS case of the shared table, and the values it
 * refuses before installing anything. The e2e escape battery proves the same
 * rules hold in a running container; this proves every case in milliseconds.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { allowRuleArgv, EGRESS_CONTAINER_CASES, type EgressRule } from '../egress-cases.js';
import { gatewayPorts } from '../gateway-ports.js';
import { projectDir, runWithFakes } from './fakes.js';

const FIREWALL = join(projectDir, 'docker', 'common', 'runtime', 'bin', 'firewall');
const MCP_UID = 10002; // the fake id's, as docker/common/build/setup-os creates it

// The script adds IPv6 rules when the kernel has IPv6 and ip6tables works.
const kernelIpv6 = existsSync('/proc/net/if_inet6');
const v4 = (...args: string[]) => ['iptables', '-w', ...args];
const v6 = (...args: string[]) => ['ip6tables', '-w', ...args];
const owner = ['-A', 'OUTPUT', '-m', 'owner', '--uid-owner', String(MCP_UID)];

/** Every call the firewall makes for an accepted value: rules undefined means `open`. */
function expectedCalls(rules: EgressRule[] | undefined, ipv6: boolean): string[][] {
  const calls = [['id', '-u', 'mcp'], v4('-L', 'INPUT', '-n'), v4('-A', 'INPUT', '-p', 'tcp', '--dport', '8000', '!', '-i', 'lo', '-j', 'DROP')];
  if (ipv6) calls.push(v6('-L', 'INPUT', '-n'), v6('-A', 'INPUT', '-p', 'tcp', '--dport', '8000', '!', '-i', 'lo', '-j', 'DROP'));
  // The gateways' ports (the table): a loopback one answers loopback only, and none lets the mcp user
  // connect to it or send from it, in every mode (open included), before any ACCEPT.
  const portRules = (v: typeof v4) =>
    gatewayPorts().flatMap(({ port, scope }) => [
      ...(scope === 'loopback' ? [v('-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '!', '-i', 'lo', '-j', 'DROP')] : []),
      v(...owner, '-p', 'tcp', '--dport', String(port), '-j', 'REJECT'),
      v(...owner, '-p', 'tcp', '--sport', String(port), '-j', 'DROP'),
    ]);
  calls.push(...portRules(v4));
  if (ipv6) calls.push(v6('-L', 'INPUT', '-n'), ...portRules(v6));
  if (rules === undefined) return calls;
  calls.push(v4(...owner, '-o', 'lo', '-d', '127.0.0.1', '-j', 'ACCEPT'));
  for (const rule of rules) calls.push(...allowRuleArgv(rule, MCP_UID).map((argv) => v4(...argv)));
  calls.push(v4(...owner, '-j', 'REJECT'));
  if (ipv6) calls.push(v6('-L', 'INPUT', '-n'), v6(...owner, '-o', 'lo', '-d', '::1', '-j', 'ACCEPT'), v6(...owner, '-j', 'REJECT'));
  return calls;
}

describe('firewall: each MCP_EGRESS case of the shared table', { concurrency: true }, () => {
  for (const { value, accepted, rules } of EGRESS_CONTAINER_CASES) {
    test(`${accepted ? 'accepts' : 'refuses'} ${JSON.stringify(value)}`, async () => {
      const run = await runWithFakes(FIREWALL, [value]);
      if (accepted) {
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(run.calls, expectedCalls(rules, kernelIpv6));
      } else {
        assert.equal(run.status, 78, run.stderr);
        // Refused before anything is installed (or even looked up).
        assert.deepEqual(run.calls, []);
        assert.match(run.stderr, /MCP_EGRESS entry .* is not A\.B\.C\.D\/N or A\.B\.C\.D\/N:PORT/);
        const named = value.split(',').some((entry) => run.stderr.includes(JSON.stringify(entry).slice(1, -1)));
        assert.ok(named, `the message names the bad entry: ${run.stderr}`);
      }
    });
  }
});

describe('firewall: the rest of the script', { concurrency: true }, () => {
  test('an allowlist with a port: TCP and UDP to that port, between loopback and REJECT', async () => {
    const run = await runWithFakes(FIREWALL, ['172.17.0.2/32:7000']);
    assert.equal(run.status, 0, run.stderr);
    const output = run.calls.filter((c) => c[0] === 'iptables' && c[3] === 'OUTPUT').map((c) => c.slice(2).join(' '));
    assert.deepEqual(output, [
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -p tcp --dport 8443 -j REJECT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -p tcp --sport 8443 -j DROP`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -p tcp --dport 8001 -j REJECT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -p tcp --sport 8001 -j DROP`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -o lo -d 127.0.0.1 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -d 172.17.0.2/32 -p tcp --dport 7000 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -d 172.17.0.2/32 -p udp --dport 7000 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -j REJECT`,
    ]);
  });

  test('the table of gateway ports: a bad line stops the firewall (exit 78, naming the file) before any rule; the shipped table installs (control)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'mcps-ports-'));
    try {
      mkdirSync(join(folder, 'bin'));
      mkdirSync(join(folder, 'tables'));
      copyFileSync(FIREWALL, join(folder, 'bin', 'firewall'));
      writeFileSync(join(folder, 'tables', 'gateway-ports'), '# a comment\n8443  published  nginx\n8001  everywhere  auth gateway\n');
      const bad = await runWithFakes(join(folder, 'bin', 'firewall'), ['none']);
      assert.equal(bad.status, 78);
      assert.match(bad.stderr, /gateway-ports: bad line '8001 everywhere'/);
      assert.deepEqual(bad.calls, []);
      rmSync(join(folder, 'tables', 'gateway-ports'));
      const missing = await runWithFakes(join(folder, 'bin', 'firewall'), ['none']);
      assert.equal(missing.status, 78);
      assert.match(missing.stderr, /cannot read .*gateway-ports .*rebuild it/);
      const shipped = await runWithFakes(FIREWALL, ['none']);
      assert.equal(shipped.status, 0, shipped.stderr);
      assert.ok(gatewayPorts().length >= 2 && gatewayPorts().some((p) => p.port === 8443 && p.scope === 'published'));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('without NET_ADMIN (iptables fails): exit 78 naming the fix, and no rule', async () => {
    const run = await runWithFakes(FIREWALL, ['none'], { FAKE_FAIL: 'iptables' });
    assert.equal(run.status, 78);
    assert.match(run.stderr, /--cap-add NET_ADMIN/);
    assert.deepEqual(
      run.calls.filter((c) => c.includes('-A')),
      [],
    );
  });

  test('without a working ip6tables: the IPv4 rules alone, the same as with it', async () => {
    const run = await runWithFakes(FIREWALL, ['1.2.3.4/32:443'], { FAKE_FAIL: 'ip6tables' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(
      run.calls.filter((c) => c[0] !== 'ip6tables'),
      expectedCalls([{ cidr: '1.2.3.4/32', port: 443 }], false),
    );
    assert.ok(!run.calls.some((c) => c[0] === 'ip6tables' && c.includes('-A')));
  });

  test(
    "with IPv6 in the kernel: ip6tables keeps ports 8000 and 8001 private, nginx and the auth gateway out of the mcp user's reach (::1 too), and the mcp user to ::1 (positive control)",
    { skip: !kernelIpv6 && 'no IPv6 in this kernel' },
    async () => {
      const run = await runWithFakes(FIREWALL, ['none']);
      assert.equal(run.status, 0, run.stderr);
      const added = run.calls.filter((c) => c[0] === 'ip6tables' && c.includes('-A')).map((c) => c.slice(2).join(' '));
      assert.deepEqual(added, [
        '-A INPUT -p tcp --dport 8000 ! -i lo -j DROP',
        `-A OUTPUT -m owner --uid-owner ${MCP_UID} -p tcp --dport 8443 -j REJECT`,
        `-A OUTPUT -m owner --uid-owner ${MCP_UID} -p tcp --sport 8443 -j DROP`,
        '-A INPUT -p tcp --dport 8001 ! -i lo -j DROP',
        `-A OUTPUT -m owner --uid-owner ${MCP_UID} -p tcp --dport 8001 -j REJECT`,
        `-A OUTPUT -m owner --uid-owner ${MCP_UID} -p tcp --sport 8001 -j DROP`,
        `-A OUTPUT -m owner --uid-owner ${MCP_UID} -o lo -d ::1 -j ACCEPT`,
        `-A OUTPUT -m owner --uid-owner ${MCP_UID} -j REJECT`,
      ]);
    },
  );
});
