/**
 * docker/common/runtime/bin/firewall, run for real with a fake iptables: the rules it
 * installs for every MCP_EGRESS case of the shared table, and the values it
 * refuses before installing anything. The e2e escape battery proves the same
 * rules hold in a running container; this proves every case in milliseconds.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { egressModule } from '../egress-gateway/module.js';
import { allowRuleArgv, REFUSED_IN_CONTAINER } from '../egress-cases.js';
import { gatewayPorts } from '../gateway-ports.js';
import { projectDir, runWithFakes } from './fakes.js';

const FIREWALL = join(projectDir, 'docker', 'common', 'runtime', 'bin', 'firewall');
const MCP_UID = 10002; // the fake id's, as docker/common/build/setup-os creates it

// The script adds IPv6 rules when the kernel has IPv6 and ip6tables works.
const kernelIpv6 = existsSync('/proc/net/if_inet6');
const v4 = (...args: string[]) => ['iptables', '-w', ...args];
const v6 = (...args: string[]) => ['ip6tables', '-w', ...args];
const owner = ['-A', 'OUTPUT', '-m', 'owner', '--uid-owner', String(MCP_UID)];

const EGRESS_UID = 10003;
const { resolverOf } = await egressModule('resolv-conf.mjs');
const resolver: string = resolverOf(readFileSync('/etc/resolv.conf', 'utf8'));

/**
 * Every call of a mode: the checks (NET_ADMIN, IPv6), then each family's rules in one
 * iptables-restore (the fake logs each rule as the call it stands for). Every mode
 * (open included) starts with port 8000 and the gateways' ports (the table), before any
 * ACCEPT; `tail4` and `tail6` are the mode's own rules after them.
 */
function expectedCalls(ipv6: boolean, tail4: string[][] = [], tail6: string[][] = []): string[][] {
  const portRules = (v: typeof v4) => [
    v('-A', 'INPUT', '-p', 'tcp', '--dport', '8000', '!', '-i', 'lo', '-j', 'DROP'),
    ...gatewayPorts().flatMap(({ port, scope }) => [
      ...(scope === 'loopback' ? [v('-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '!', '-i', 'lo', '-j', 'DROP')] : []),
      v(...owner, '-p', 'tcp', '--dport', String(port), '-j', 'REJECT'),
      v(...owner, '-p', 'tcp', '--sport', String(port), '-j', 'DROP'),
    ]),
  ];
  const restore = (tool: string) => [tool, '-w', '--noflush'];
  return [
    ['id', '-u', 'mcp'],
    v4('-L', 'INPUT', '-n'),
    ...(ipv6 ? [v6('-L', 'INPUT', '-n')] : []),
    restore('iptables-restore'),
    ...portRules(v4),
    ...tail4,
    ...(ipv6 ? [restore('ip6tables-restore'), ...portRules(v6), ...tail6] : []),
  ];
}

/** The rules (-A/-I/-N) of one tool, as strings, for readable comparisons. */
const rulesOf = (calls: string[][], tool: string) =>
  calls.filter((c) => c[0] === tool && (c.includes('-A') || c.includes('-I') || c.includes('-N'))).map((c) => c.slice(2).join(' '));

describe('firewall: MCP_EGRESS values the grammar refuses', { concurrency: true }, () => {
  for (const value of REFUSED_IN_CONTAINER) {
    test(`refuses ${JSON.stringify(value)} (exit 78) before anything is installed or looked up`, async () => {
      const run = await runWithFakes(FIREWALL, [value]);
      assert.equal(run.status, 78, run.stderr);
      assert.deepEqual(run.calls, []);
      assert.match(run.stderr, /MCP_EGRESS (entry|has)/);
    });
  }
});

describe('firewall: what each mode installs', { concurrency: true }, () => {
  test('open: the gateway ports only, nothing for egress', async () => {
    const run = await runWithFakes(FIREWALL, ['open']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'open\n', 'the mode it installed, for the entrypoint');
    assert.deepEqual(run.calls, expectedCalls(kernelIpv6));
  });

  test('none: loopback 127.0.0.1 (and ::1), then REJECT', async () => {
    const run = await runWithFakes(FIREWALL, ['none']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'none\n');
    assert.deepEqual(
      run.calls,
      expectedCalls(
        kernelIpv6,
        [v4(...owner, '-o', 'lo', '-d', '127.0.0.1', '-j', 'ACCEPT'), v4(...owner, '-j', 'REJECT')],
        [v6(...owner, '-o', 'lo', '-d', '::1', '-j', 'ACCEPT'), v6(...owner, '-j', 'REJECT')],
      ),
    );
  });

  test('names and addresses: name ports and DNS redirected to the enforcer for mcp (addresses exempt), the enforcer limited, addresses accepted, the rest rejected', async () => {
    const run = await runWithFakes(FIREWALL, ['allowed.test,*.wild.test:8443,10.1.2.0/24:5432,192.0.2.7'], { FAKE_FAIL: 'ip6tables' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'allowlist\n');
    const rules = rulesOf(run.calls, 'iptables');
    // After the gateway ports (checked in every mode above), in this order:
    assert.deepEqual(rules.slice(rules.indexOf('-t nat -N SANDBOX_EGRESS')), [
      '-t nat -N SANDBOX_EGRESS',
      '-t nat -A SANDBOX_EGRESS -d 10.1.2.0/24 -p tcp --dport 5432 -j RETURN',
      '-t nat -A SANDBOX_EGRESS -d 10.1.2.0/24 -p udp --dport 5432 -j RETURN',
      '-t nat -A SANDBOX_EGRESS -d 192.0.2.7/32 -j RETURN',
      '-t nat -A SANDBOX_EGRESS -p tcp --dport 80 -j REDIRECT --to-ports 15001',
      '-t nat -A SANDBOX_EGRESS -p tcp --dport 443 -j REDIRECT --to-ports 15002',
      '-t nat -A SANDBOX_EGRESS -p tcp --dport 8443 -j REDIRECT --to-ports 15003',
      '-t nat -A SANDBOX_EGRESS -p udp --dport 53 -j REDIRECT --to-ports 15053',
      '-t nat -A SANDBOX_EGRESS -p tcp --dport 53 -j REDIRECT --to-ports 15053',
      `-t nat -I OUTPUT 1 -m owner --uid-owner ${MCP_UID} -j SANDBOX_EGRESS`,
      `-A OUTPUT -m owner --uid-owner ${EGRESS_UID} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${EGRESS_UID} -p udp -m conntrack --ctorigdst ${resolver} --ctorigdstport 53 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${EGRESS_UID} -p tcp -m conntrack --ctorigdst ${resolver} --ctorigdstport 53 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${EGRESS_UID} -o lo -j REJECT`,
      `-A OUTPUT -m owner --uid-owner ${EGRESS_UID} -p tcp --dport 80 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${EGRESS_UID} -p tcp --dport 443 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${EGRESS_UID} -p tcp --dport 8443 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${EGRESS_UID} -j REJECT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -d 127.0.0.1 -p tcp --dport 15001 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -d 127.0.0.1 -p tcp --dport 15002 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -d 127.0.0.1 -p tcp --dport 15003 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -d 127.0.0.1 -p udp --dport 15053 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -d 127.0.0.1 -p tcp --dport 15053 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -o lo -d 127.0.0.1 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -d 10.1.2.0/24 -p tcp --dport 5432 -j ACCEPT`,
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -d 10.1.2.0/24 -p udp --dport 5432 -j ACCEPT`,
      ...allowRuleArgv('192.0.2.7/32', undefined, MCP_UID).map((argv) => argv.join(' ')),
      `-A OUTPUT -m owner --uid-owner ${MCP_UID} -j REJECT`,
    ]);
    assert.ok(run.calls.some((c) => c.join(' ') === 'id -u egress'));
  });

  test(
    'IPv6 address rules go to ip6tables, in the nat exemption and the ACCEPTs; IPv6 otherwise rejected for mcp',
    { skip: !kernelIpv6 && 'no IPv6 in this kernel' },
    async () => {
      const run = await runWithFakes(FIREWALL, ['allowed.test,[2001:db8::1]:5432']);
      assert.equal(run.status, 0, run.stderr);
      const v6rules = rulesOf(run.calls, 'ip6tables');
      assert.ok(v6rules.includes('-t nat -A SANDBOX_EGRESS -d 2001:db8::1/128 -p tcp --dport 5432 -j RETURN'), v6rules.join('\n'));
      assert.ok(v6rules.includes(`-A OUTPUT -m owner --uid-owner ${MCP_UID} -d 2001:db8::1/128 -p tcp --dport 5432 -j ACCEPT`));
      assert.equal(v6rules.at(-1), `-A OUTPUT -m owner --uid-owner ${MCP_UID} -j REJECT`);
      assert.ok(!rulesOf(run.calls, 'iptables').some((r) => r.includes('2001:db8')));
    },
  );

  test('learn: 443, 80 and DNS redirected to the enforcer, nothing else closed for mcp (learn is open)', async () => {
    const run = await runWithFakes(FIREWALL, ['learn'], { FAKE_FAIL: 'ip6tables' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'learn\n');
    const rules = rulesOf(run.calls, 'iptables');
    assert.ok(rules.includes('-t nat -A SANDBOX_EGRESS -p tcp --dport 443 -j REDIRECT --to-ports 15002'));
    assert.ok(rules.includes('-t nat -A SANDBOX_EGRESS -p udp --dport 53 -j REDIRECT --to-ports 15053'));
    assert.ok(!rules.some((r) => r.startsWith(`-A OUTPUT -m owner --uid-owner ${MCP_UID} -j REJECT`)), rules.join('\n'));
    assert.equal(rules.at(-1), `-A OUTPUT -m owner --uid-owner ${EGRESS_UID} -j REJECT`);
  });
});

describe('firewall: the rest of the script', { concurrency: true }, () => {
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

  test('a rule set iptables-restore refuses: exit 78, and nothing installed (it commits all or nothing); the same set installs when accepted (control)', async () => {
    const refused = await runWithFakes(FIREWALL, ['allowed.test'], { FAKE_FAIL: 'iptables-restore ip6tables' });
    assert.equal(refused.status, 78);
    assert.match(refused.stderr, /iptables-restore refused the sandbox's rules: none of them is installed/);
    assert.deepEqual(
      refused.calls.filter((c) => c.includes('-A') || c.includes('-I')),
      [],
    );
    const accepted = await runWithFakes(FIREWALL, ['allowed.test'], { FAKE_FAIL: 'ip6tables' });
    assert.equal(accepted.status, 0, accepted.stderr);
    assert.ok(accepted.calls.filter((c) => c[0] === 'iptables' && c.includes('-A')).length > 10);
  });

  test('without a working ip6tables: the IPv4 rules alone, the same as with it', async () => {
    const run = await runWithFakes(FIREWALL, ['1.2.3.4:443'], { FAKE_FAIL: 'ip6tables' });
    assert.equal(run.status, 0, run.stderr);
    const with6 = await runWithFakes(FIREWALL, ['1.2.3.4:443']);
    assert.deepEqual(
      run.calls.filter((c) => !c[0]!.startsWith('ip6tables')),
      with6.calls.filter((c) => !c[0]!.startsWith('ip6tables')),
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
