/**
 * What the user reads: the refusal log (each refused destination at most once
 * a minute, allowed ones at debug only, a flood of made-up names summed up),
 * and learn mode's recorder, which renders the MCP_EGRESS line that allows
 * exactly what was reached, checked end to end through the proxy.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { closeServer, makeTestPki, portOf, startFakeDns, startNamedHttps, type FakeDns, type TestPki } from './net-fixture.js';
import { egressModule, grammar, rulesOf } from './module.js';

const { createRefusalLog } = await egressModule('refusal-log.mjs');
const { createLearnRecorder } = await egressModule('learn.mjs');
const { startProxy } = await egressModule('proxy.mjs');
const { upstreamResolver } = await egressModule('resolve.mjs');
const { manualClock } = await import('../auth-gateway/module.js');

describe('the refusal log', () => {
  const refusedTls = { type: 'refused', name: 'other.example', port: 443, reason: 'TLS name not in MCP_EGRESS' };

  it('writes a refused destination once a minute, in the form the issue names', () => {
    const clock = manualClock();
    const lines: string[] = [];
    const log = createRefusalLog({ write: (line: string) => lines.push(line), now: clock.now });
    log.report(refusedTls);
    log.report(refusedTls);
    clock.advance(59_000);
    log.report(refusedTls);
    assert.deepEqual(lines, ['egress refused: other.example:443 (TLS name not in MCP_EGRESS)']);
    clock.advance(1_000);
    log.report(refusedTls);
    assert.equal(lines.length, 2, 'again once the minute is over');
  });

  it('writes another destination, or another reason, at once', () => {
    const lines: string[] = [];
    const log = createRefusalLog({ write: (line: string) => lines.push(line), now: manualClock().now });
    log.report(refusedTls);
    log.report({ ...refusedTls, port: 80, reason: 'HTTP Host not in MCP_EGRESS' });
    log.report({ type: 'refused', name: 'other.example', reason: 'DNS name not in MCP_EGRESS' });
    log.report({ type: 'refused', port: 443, reason: 'no server name (SNI)' });
    assert.deepEqual(lines, [
      'egress refused: other.example:443 (TLS name not in MCP_EGRESS)',
      'egress refused: other.example:80 (HTTP Host not in MCP_EGRESS)',
      'egress refused: other.example (DNS name not in MCP_EGRESS)',
      'egress refused: a connection to port 443 (no server name (SNI))',
    ]);
  });

  it('shows allowed connections at debug only', () => {
    const allowed = { type: 'allowed', name: 'allowed.test', port: 443, address: '192.0.2.7' };
    const quiet: string[] = [];
    createRefusalLog({ write: (line: string) => quiet.push(line) }).report(allowed);
    assert.deepEqual(quiet, []);
    const debug: string[] = [];
    createRefusalLog({ write: (line: string) => debug.push(line), debug: true }).report(allowed);
    assert.deepEqual(debug, ['egress allowed: allowed.test:443 (192.0.2.7)']);
  });

  it('sums up a flood of made-up names (a DNS tunnel) instead of writing each', () => {
    const clock = manualClock();
    const lines: string[] = [];
    const log = createRefusalLog({ write: (line: string) => lines.push(line), now: clock.now, maxLinesPerWindow: 3 });
    for (let i = 0; i < 50; i += 1) log.report({ type: 'refused', name: `x${i}.tunnel.example`, reason: 'DNS name not in MCP_EGRESS' });
    assert.equal(lines.length, 3);
    clock.advance(60_000);
    log.report(refusedTls);
    assert.deepEqual(lines.slice(3), [
      'egress refused: 47 more destination(s) in the last minute, not shown one by one',
      'egress refused: other.example:443 (TLS name not in MCP_EGRESS)',
    ]);
  });
});

describe('the learn recorder', () => {
  it('renders exactly what was seen: sorted, each once, no wildcard made up, ports kept', () => {
    const learn = createLearnRecorder();
    learn.record('b.example.com', 443);
    learn.record('A.example.com', 443);
    learn.record('a.example.com', 80);
    learn.record('a.example.com.', 443);
    learn.record('c.example.com', 8443);
    learn.record('c.example.com', 443);
    assert.equal(learn.egressLine(), 'MCP_EGRESS=a.example.com,b.example.com:443,c.example.com:443,c.example.com:8443');
    const rules = rulesOf(learn.egressLine().slice('MCP_EGRESS='.length));
    assert.equal(grammar.allows(rules, 'a.example.com', 80), true);
    assert.equal(grammar.allows(rules, 'b.example.com', 80), false, 'seen on 443 only');
    assert.equal(grammar.allows(rules, 'd.example.com', 443), false, 'no wildcard made up from siblings');
  });

  it('records no value that is not a host name, and renders none when nothing was reached', () => {
    const learn = createLearnRecorder();
    assert.equal(learn.record('a b', 443), false);
    assert.equal(learn.record('a.example', 0), false);
    assert.equal(learn.egressLine(), 'MCP_EGRESS=none');
  });
});

describe('learn mode through the proxy: everything reached, and recorded', () => {
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

  it('records allowed.test and other.test and prints the line that allows exactly them', async () => {
    const port = portOf(server);
    const learn = createLearnRecorder();
    const proxy = await startProxy([{ destinationPort: port, listenPort: 0 }], {
      allows: () => true,
      resolve: upstreamResolver({ host: '127.0.0.1', port: dns.port }),
      forbiddenUpstream: () => false,
      onEvent: (event: any) => (event.type === 'allowed' ? learn.record(event.name, event.port) : undefined),
    });
    try {
      for (const name of ['other.test', 'allowed.test', 'other.test']) {
        const body = await new Promise<string>((resolve, reject) => {
          https
            .get({ host: '127.0.0.1', port: proxy.ports.get(port), servername: name, headers: { host: name }, ca: pki.ca, agent: false }, (response) => {
              let text = '';
              response.on('data', (chunk: Buffer) => (text += chunk.toString()));
              response.on('end', () => resolve(text));
            })
            .on('error', reject);
        });
        assert.equal(body, `one ${name} ${name}`);
      }
    } finally {
      await proxy.close();
    }
    assert.equal(learn.egressLine(), `MCP_EGRESS=allowed.test:${port},other.test:${port}`);
  });
});
