/**
 * MCP_EGRESS's grammar (docker/common/egress-gateway/src/grammar.cjs), the one
 * the CLI and the enforcer share: what each entry means, what is refused and
 * with which fix, and the matcher, with each refusal beside the accepted case.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grammar, rulesOf } from './module.js';

const { parseEgress, formatEgress, allows, allowsName, allowsAddress, namePorts } = grammar;

describe('MCP_EGRESS grammar: accepted entries and their canonical form', () => {
  const accepted: [string, string][] = [
    ['open', 'open'],
    ['none', 'none'],
    ['learn', 'learn'],
    ['api.example.com', 'api.example.com'],
    ['API.Example.COM', 'api.example.com'], // lowercase is normalized
    ['api.example.com:8443', 'api.example.com:8443'],
    ['*.example.com', '*.example.com'],
    ['*.githubusercontent.com', '*.githubusercontent.com'], // a private-section suffix is a domain here
    ['*.example.co.uk:8443', '*.example.co.uk:8443'],
    ['10.1.2.3', '10.1.2.3'],
    ['10.1.2.3/32', '10.1.2.3'],
    ['10.1.2.0/24:5432', '10.1.2.0/24:5432'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['[2001:db8::1]:443', '[2001:db8::1]:443'],
    ['[2001:db8::/48]:443', '[2001:db8::/48]:443'],
    [' a.example , b.example ,a.example', 'a.example,b.example'], // trimmed, each once
    ['db.internal', 'db.internal'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
  ];
  for (const [value, canonical] of accepted) {
    it(`accepts ${JSON.stringify(value)} as ${canonical}`, () => {
      const setting = parseEgress(value);
      assert.ok(!('error' in setting), JSON.stringify(setting));
      assert.equal(formatEgress(setting), canonical);
      assert.deepEqual(parseEgress(canonical), setting, 'the canonical form parses to the same rules');
    });
  }

  it('a name without a port means 443 and 80; with a port, that port only', () => {
    assert.deepEqual(rulesOf('api.example.com'), [{ kind: 'name', name: 'api.example.com', wildcard: false, ports: [443, 80] }]);
    assert.deepEqual(rulesOf('api.example.com:8443'), [{ kind: 'name', name: 'api.example.com', wildcard: false, ports: [8443] }]);
    assert.deepEqual(namePorts(rulesOf('a.example,b.example:8443,10.0.0.0/8:5432')), [80, 443, 8443]);
  });
});

describe('MCP_EGRESS grammar: refused entries name the entry and the fix', () => {
  const refused: [string, RegExp][] = [
    ['', /empty entry/],
    ['a.example,,b.example', /empty entry/],
    ['a.example,', /empty entry/],
    ['*', /'\*' allows every name: write MCP_EGRESS=open/],
    ['*.com', /'\*\.com' is a wildcard over the public suffix com/],
    ['*.co.uk', /'\*\.co\.uk' is a wildcard over the public suffix co\.uk/],
    ['*.test', /public suffix test/],
    ['*.', /'\*\.' is a wildcard over nothing/],
    ['a..b', /'a\.\.b' has an empty label/],
    ['.example.com', /empty label/],
    ['example.com.', /'example\.com\.' ends with a dot: write example\.com/],
    ['bücher.de', /'bücher\.de' is not ASCII: write it in punycode, xn--bcher-kva\.de/],
    ['api.example.com:0', /port that is not a number from 1 to 65535/],
    ['api.example.com:65536', /port that is not a number from 1 to 65535/],
    ['api.example.com:', /port that is not a number/],
    ['api.example.com:08', /port that is not a number/],
    ['[2001:db8::1]:70000', /port that is not a number/],
    ['api.*.example.com', /a wildcard is written \*\.domain, at the start only/],
    ['*example.com', /at the start only/],
    ['*.*.example.com', /at the start only/],
    ['https://api.example.com', /is a URL: give its host name/],
    ['api.example.com/24', /puts a \/prefix on a name/],
    ['10.0.0.300', /is not an IPv4 address/],
    ['10.0.0.0/33', /\/prefix that is not 0 to 32/],
    ['2001:db8::/129', /\/prefix that is not 0 to 128/],
    ['2001:db8::zz', /is not an IPv6 address/],
    ['[2001:db8::1]', /brackets but no port/],
    ['under_score.example', /label 'under_score'/],
    ['-a.example', /label '-a'/],
    [`${'a'.repeat(64)}.example`, /at most 63/],
    ['1234', /neither a name nor an IPv4 address/],
    ['open,api.example.com', /'open' must stand alone/],
    ['learn,api.example.com', /'learn' must stand alone/],
  ];
  for (const [value, message] of refused) {
    it(`refuses ${JSON.stringify(value)}`, () => {
      const setting = parseEgress(value);
      assert.ok('error' in setting, `accepted: ${JSON.stringify(setting)}`);
      assert.match(setting.error, message);
      assert.match(setting.error, /MCP_EGRESS/);
    });
  }
});

describe('the matcher: allows(rules, name, port)', () => {
  it('an exact name on its ports, case and one trailing dot aside; not its parent, child or neighbour', () => {
    const rules = rulesOf('allowed.test');
    assert.equal(allows(rules, 'allowed.test', 443), true);
    assert.equal(allows(rules, 'allowed.test', 80), true);
    assert.equal(allows(rules, 'ALLOWED.test.', 443), true);
    assert.equal(allows(rules, 'allowed.test', 8443), false);
    assert.equal(allows(rules, 'other.test', 443), false);
    assert.equal(allows(rules, 'a.allowed.test', 443), false);
    assert.equal(allows(rules, 'notallowed.test', 443), false);
  });

  it('a wildcard covers names under the domain at any depth, not the domain itself', () => {
    const rules = rulesOf('*.allowed.test');
    assert.equal(allows(rules, 'a.allowed.test', 443), true);
    assert.equal(allows(rules, 'a.b.c.allowed.test', 443), true);
    assert.equal(allows(rules, 'allowed.test', 443), false, '*.allowed.test does not cover allowed.test');
    assert.equal(allows(rules, 'evilallowed.test', 443), false);
    assert.equal(allows(rules, 'a.allowed.test.evil', 443), false);
    assert.equal(allows(rules, 'a.allowed.test', 22), false);
    // Listing the domain beside the wildcard covers both.
    const both = rulesOf('*.allowed.test,allowed.test');
    assert.equal(allows(both, 'allowed.test', 443), true);
    assert.equal(allows(both, 'a.allowed.test', 443), true);
  });

  it('a value that is no host name never matches, even under an allowed wildcard', () => {
    const rules = rulesOf('*.allowed.test');
    assert.equal(allows(rules, 'a.allowed.test', 443), true);
    for (const bad of ['a b.allowed.test', 'a/..allowed.test', '..allowed.test', '', 'a..allowed.test', 'ä.allowed.test']) {
      assert.equal(allows(rules, bad, 443), false, bad);
    }
  });

  it('address rules do not allow names, and name rules do not allow addresses', () => {
    const rules = rulesOf('allowed.test,10.1.2.0/24');
    assert.equal(allows(rules, '10.1.2.3', 443), false);
    assert.equal(allowsAddress(rules, '10.1.2.3', 443), true);
    assert.equal(allowsAddress(rulesOf('allowed.test'), '10.1.2.3', 443), false);
  });

  it('allowsName: the DNS question, on any port of the rule', () => {
    const rules = rulesOf('allowed.test:8443,*.wild.test');
    assert.equal(allowsName(rules, 'allowed.test'), true);
    assert.equal(allowsName(rules, 'x.y.wild.test'), true);
    assert.equal(allowsName(rules, 'other.test'), false);
    assert.equal(allowsName(rules, 'random123.other.test'), false);
    assert.equal(allowsName(rules, 'wild.test'), false);
  });
});

describe('the matcher: allowsAddress(rules, ip, port)', () => {
  it('IPv4 networks, with and without a port', () => {
    const rules = rulesOf('10.1.2.0/24:5432,192.168.7.7');
    assert.equal(allowsAddress(rules, '10.1.2.200', 5432), true);
    assert.equal(allowsAddress(rules, '10.1.2.200', 5433), false);
    assert.equal(allowsAddress(rules, '10.1.3.1', 5432), false);
    assert.equal(allowsAddress(rules, '192.168.7.7', 22), true);
    assert.equal(allowsAddress(rules, '192.168.7.8', 22), false);
  });

  it('IPv6 networks, with and without a port; families never mix', () => {
    const rules = rulesOf('2001:db8::/32,[2001:db9::1]:443');
    assert.equal(allowsAddress(rules, '2001:db8:1::5', 22), true);
    assert.equal(allowsAddress(rules, '2001:db9::1', 443), true);
    assert.equal(allowsAddress(rules, '2001:db9::1', 80), false);
    assert.equal(allowsAddress(rules, '2001:dba::1', 443), false);
    assert.equal(allowsAddress(rulesOf('0.0.0.0/0'), '2001:db8::1', 443), false);
    assert.equal(allowsAddress(rulesOf('0.0.0.0/0'), '10.0.0.1', 443), true);
    assert.equal(allowsAddress(rules, 'not-an-address', 443), false);
  });
});

describe('MCP_EGRESS values written for the address-based allowlist keep parsing', () => {
  // What docs/SETTINGS.md documents today: host[:port] and IPv4[/prefix][:port].
  // One meaning changes, on purpose: a name without a port meant every port of
  // its addresses, and now means 443 and 80 (the enforcer reads names on those).
  it('names, addresses, networks and ports as written today', () => {
    assert.deepEqual(rulesOf('api.github.com:443,10.1.2.0/24,172.17.0.2:7000'), [
      { kind: 'name', name: 'api.github.com', wildcard: false, ports: [443] },
      { kind: 'network', family: 4, address: '10.1.2.0', prefix: 24 },
      { kind: 'network', family: 4, address: '172.17.0.2', prefix: 32, port: 7000 },
    ]);
    assert.deepEqual(rulesOf('api.github.com'), [{ kind: 'name', name: 'api.github.com', wildcard: false, ports: [443, 80] }]);
    assert.ok(allowsAddress(rulesOf('10.1.2.3/8'), '10.200.0.1', 22), 'host bits beyond the prefix are masked, as iptables does');
  });
});
