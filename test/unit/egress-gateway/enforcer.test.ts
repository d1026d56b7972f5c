/**
 * The enforcer as one piece (enforcer.mjs): the redirect table the firewall
 * will install, and a server's whole path on loopback: ask the DNS filter,
 * then connect (to the listener the redirect would send it to); allowed.test
 * resolves and is reached, other.test neither resolves nor is reached, and
 * learn mode reaches both and prints the line.
 */
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { closeServer, makeTestPki, portOf, startFakeDns, startNamedHttps, type FakeDns, type TestPki } from './net-fixture.js';
import { egressModule } from './module.js';

const { redirectTable, startEnforcer, LISTEN_BASE, DNS_PORT } = await egressModule('enforcer.mjs');

describe('the redirect table', () => {
  it('one listener per name port, numbered from the base; DNS to the filter', () => {
    assert.deepEqual(redirectTable('b.example:8443,a.example,10.0.0.0/8:5432'), {
      mode: 'allowlist',
      redirects: [
        { destinationPort: 80, listenPort: LISTEN_BASE },
        { destinationPort: 443, listenPort: LISTEN_BASE + 1 },
        { destinationPort: 8443, listenPort: LISTEN_BASE + 2 },
      ],
      dnsPort: DNS_PORT,
    });
  });

  it('learn redirects 80 and 443; open and none redirect nothing; a bad value throws with the grammar’s message', () => {
    assert.deepEqual(
      redirectTable('learn').redirects.map((redirect: any) => redirect.destinationPort),
      [80, 443],
    );
    assert.deepEqual(redirectTable('open'), { mode: 'open' });
    assert.deepEqual(redirectTable('none'), { mode: 'none' });
    assert.deepEqual(redirectTable('10.0.0.1').redirects, [], 'addresses only: no listener');
    assert.throws(() => redirectTable('*.com'), /MCP_EGRESS entry '\*\.com' is a wildcard over the public suffix com/);
  });
});

describe('the enforcer on loopback', () => {
  let pki: TestPki;
  let server: https.Server;
  let dns: FakeDns;
  before(async () => {
    pki = await makeTestPki();
    server = await startNamedHttps(pki, '127.0.0.1', 0, 'one');
    dns = await startFakeDns({ 'allowed.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'] });
  });
  after(async () => {
    server.closeAllConnections();
    await Promise.all([closeServer(server), dns.close()]);
  });

  /** What an MCP server would do: resolve through the filter, then open TLS to that address (redirected to the listener). */
  async function fetchAs(enforcer: any, name: string): Promise<string> {
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${enforcer.dnsPort}`]);
    let address: string;
    try {
      [address = ''] = await resolver.resolve4(name);
    } catch (error) {
      return `dns ${(error as NodeJS.ErrnoException).code}`;
    }
    assert.equal(address, '127.0.0.1');
    return new Promise((resolve) => {
      https
        .get(
          { host: address, port: enforcer.listenPorts.get(portOf(server)), servername: name, headers: { host: name }, ca: pki.ca, agent: false },
          (response) => {
            let text = '';
            response.on('data', (chunk: Buffer) => (text += chunk.toString()));
            response.on('end', () => resolve(text));
          },
        )
        .on('error', (error: NodeJS.ErrnoException) => resolve(`tls ${error.code}`));
    });
  }

  const start = (egress: string, lines: string[]) =>
    startEnforcer({
      egress,
      upstream: { host: '127.0.0.1', port: dns.port },
      write: (line: string) => lines.push(line),
      listenBase: 0,
      dnsPort: 0,
      proxyOptions: { forbiddenUpstream: () => false },
    });

  it('MCP_EGRESS=allowed.test:<port>: allowed.test resolves and is reached; other.test neither, and the log says so', async () => {
    const lines: string[] = [];
    const port = portOf(server);
    const enforcer = await start(`allowed.test:${port}`, lines);
    try {
      assert.equal(await fetchAs(enforcer, 'allowed.test'), 'one allowed.test allowed.test');
      assert.equal(await fetchAs(enforcer, 'other.test'), 'dns ENOTFOUND');
      assert.ok(!dns.asked.includes('other.test'));
      assert.equal(enforcer.learnedLine(), undefined);
    } finally {
      await enforcer.close();
    }
    assert.deepEqual(lines, ['egress refused: other.test (DNS name not in MCP_EGRESS)']);
  });

  it('MCP_EGRESS=learn: both names resolve and are reached, and the line allows exactly them', async () => {
    const port = portOf(server);
    const enforcer = await startEnforcer({
      egress: 'learn',
      upstream: { host: '127.0.0.1', port: dns.port },
      write: () => undefined,
      listenBase: 0,
      dnsPort: 0,
      learnPorts: [port], // 443 and 80 in the image; the test server's free port here
      proxyOptions: { forbiddenUpstream: () => false },
    });
    try {
      assert.equal(enforcer.learnedLine(), 'MCP_EGRESS=none');
      assert.equal(await fetchAs(enforcer, 'other.test'), 'one other.test other.test');
      assert.equal(await fetchAs(enforcer, 'allowed.test'), 'one allowed.test allowed.test');
      assert.equal(enforcer.learnedLine(), `MCP_EGRESS=allowed.test:${port},other.test:${port}`);
    } finally {
      await enforcer.close();
    }
  });
});
