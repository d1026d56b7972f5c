/**
 * The name-checking proxy (proxy.mjs) against real TLS and HTTP servers on
 * loopback, one address answering both allowed.test and other.test, and a fake
 * upstream resolver. With MCP_EGRESS=allowed.test:<ports>: allowed.test is
 * reached (the control) and everything that could reach other.test on the
 * same address is reset and logged; the name is resolved per connection, so
 * an address that moves is followed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { closeServer, makeTestPki, portOf, startFakeDns, startNamedHttp, startNamedHttps, type FakeDns, type TestPki } from './net-fixture.js';
import { syntheticClientHello } from './hello-fixture.js';
import { egressModule, grammar, rulesOf } from './module.js';

const { startProxy } = await egressModule('proxy.mjs');
const { upstreamResolver } = await egressModule('resolve.mjs');
const { createRefusalLog } = await egressModule('refusal-log.mjs');

type Outcome = { ok: true; body: string } | { ok: false; code: string };

/** GET / through the proxy's listener, as a TLS client naming `servername` (undefined: no SNI). */
function httpsThrough(port: number, ca: string, servername: string | undefined, path = '/'): Promise<Outcome> {
  return new Promise((resolve) => {
    const request = https.get(
      {
        host: '127.0.0.1',
        port,
        path,
        ca,
        agent: false,
        headers: { host: servername ?? 'allowed.test' },
        ...(servername ? { servername } : { servername: '' }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ ok: true, body: Buffer.concat(chunks).toString() }));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? error.message }));
  });
}

/** A plain HTTP GET through the proxy's listener with this Host. */
function httpThrough(port: number, host: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, agent: false, headers: { host } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ ok: true, body: Buffer.concat(chunks).toString() }));
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? error.message }));
  });
}

describe('the egress proxy, MCP_EGRESS=allowed.test on two ports', () => {
  let pki: TestPki;
  let first: https.Server; // 127.0.0.1:P, answers allowed.test and other.test
  let moved: https.Server; // 127.0.0.2:P, where allowed.test moves
  let plain: http.Server;
  let dns: FakeDns;
  let proxy: { ports: Map<number, number>; connections: () => number; close: () => Promise<void> };
  let tlsPort: number;
  let httpPort: number;
  const lines: string[] = [];
  const events: any[] = [];

  before(async () => {
    pki = await makeTestPki();
    first = await startNamedHttps(pki, '127.0.0.1', 0, 'first');
    tlsPort = portOf(first);
    moved = await startNamedHttps(pki, '127.0.0.2', tlsPort, 'moved');
    plain = await startNamedHttp('127.0.0.1', 'plain');
    httpPort = portOf(plain);
    dns = await startFakeDns({ 'allowed.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'] });
    const rules = rulesOf(`allowed.test:${tlsPort},allowed.test:${httpPort},ghost.test:${tlsPort}`);
    const log = createRefusalLog({ write: (line: string) => lines.push(line) });
    proxy = await startProxy(
      [
        { destinationPort: tlsPort, listenPort: 0 },
        { destinationPort: httpPort, listenPort: 0 },
      ],
      {
        allows: (name: string, port: number) => grammar.allows(rules, name, port),
        resolve: upstreamResolver({ host: '127.0.0.1', port: dns.port }),
        // The test's servers are on loopback, which the real guard never dials (tested below).
        forbiddenUpstream: (address: string) => !address.startsWith('127.'),
        onEvent: (event: any) => {
          events.push(event);
          log.report(event);
        },
        handshakeTimeoutMs: 300,
      },
    );
  });
  after(async () => {
    await proxy.close();
    for (const server of [first, moved, plain]) server.closeAllConnections();
    await Promise.all([closeServer(first), closeServer(moved), closeServer(plain), dns.close()]);
  });

  const listen = (destination: number) => proxy.ports.get(destination)!;

  it('reaches allowed.test over TLS (control): the real server answers, with its certificate checked', async () => {
    assert.deepEqual(await httpsThrough(listen(tlsPort), pki.ca, 'allowed.test'), { ok: true, body: 'first allowed.test allowed.test' });
    assert.ok(dns.asked.includes('allowed.test'), 'the proxy resolved the name itself');
  });

  it('refuses other.test on the same address: reset, and one log line naming it', async () => {
    const outcome = await httpsThrough(listen(tlsPort), pki.ca, 'other.test');
    assert.deepEqual(outcome, { ok: false, code: 'ECONNRESET' });
    assert.ok(lines.includes(`egress refused: other.test:${tlsPort} (TLS name not in MCP_EGRESS)`), lines.join('\n'));
    assert.ok(!dns.asked.includes('other.test'), 'a refused name is not even resolved');
    // The same again within the minute: reset again, no second line.
    assert.equal((await httpsThrough(listen(tlsPort), pki.ca, 'other.test')).ok, false);
    assert.equal(lines.filter((line) => line.startsWith('egress refused: other.test')).length, 1);
  });

  it('refuses a ClientHello with no server name (dialling the address), beside the named one', async () => {
    assert.equal((await httpsThrough(listen(tlsPort), pki.ca, 'allowed.test')).ok, true);
    assert.deepEqual(await httpsThrough(listen(tlsPort), pki.ca, undefined), { ok: false, code: 'ECONNRESET' });
    assert.ok(lines.includes(`egress refused: a connection to port ${tlsPort} (no server name (SNI))`), lines.join('\n'));
  });

  it('checks plain HTTP on Host: allowed.test reached with Connection: close, other.test reset', async () => {
    assert.deepEqual(await httpThrough(listen(httpPort), 'allowed.test'), { ok: true, body: `plain allowed.test close` });
    assert.deepEqual(await httpThrough(listen(httpPort), 'other.test'), { ok: false, code: 'ECONNRESET' });
    assert.ok(lines.includes(`egress refused: other.test:${httpPort} (HTTP Host not in MCP_EGRESS)`), lines.join('\n'));
  });

  it('reassembles a ClientHello sent a few bytes at a time: other.test refused by name, allowed.test passed on', async () => {
    const dribble = (name: string) =>
      new Promise<string>((resolve) => {
        const hello = syntheticClientHello({ names: [name], padding: 600, recordSize: 200 });
        const socket = net.connect({ host: '127.0.0.1', port: listen(tlsPort) });
        let at = 0;
        const next = () => {
          if (at >= hello.length || socket.destroyed) return;
          socket.write(hello.subarray(at, (at += 7)));
          setTimeout(next, 1);
        };
        socket.once('connect', next);
        socket.resume(); // read what comes back (the real server's alert), so the end is seen
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        socket.on('close', () => resolve('closed'));
      });
    const before = events.length;
    assert.equal(await dribble('other.test'), 'ECONNRESET');
    assert.ok(events.slice(before).some((event) => event.type === 'refused' && event.name === 'other.test' && event.reason === 'TLS name not in MCP_EGRESS'));
    // The real server rejects the synthetic hello itself (no shared cipher) and closes; what matters is that it was reached.
    assert.equal(await dribble('allowed.test'), 'closed');
    assert.ok(events.slice(before).some((event) => event.type === 'allowed' && event.name === 'allowed.test'));
  });

  it('passes a half-closed plain HTTP/1.0 request on and returns the whole answer', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port: listen(httpPort) }, () => socket.end('GET / HTTP/1.0\r\nHost: allowed.test\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(answer.endsWith('plain allowed.test close'), answer);
  });

  it('follows an address that moves: the next connection goes where DNS now points', async () => {
    assert.equal((await httpsThrough(listen(tlsPort), pki.ca, 'allowed.test')).ok && 'first', 'first');
    dns.records.set('allowed.test', ['127.0.0.2']);
    try {
      assert.deepEqual(await httpsThrough(listen(tlsPort), pki.ca, 'allowed.test'), { ok: true, body: 'moved allowed.test allowed.test' });
    } finally {
      dns.records.set('allowed.test', ['127.0.0.1']);
    }
    assert.deepEqual(await httpsThrough(listen(tlsPort), pki.ca, 'allowed.test'), { ok: true, body: 'first allowed.test allowed.test' });
  });

  it('refuses an allowed name that does not resolve, with the reason in the log', async () => {
    assert.deepEqual(await httpsThrough(listen(tlsPort), pki.ca, 'ghost.test'), { ok: false, code: 'ECONNRESET' });
    assert.ok(dns.asked.includes('ghost.test'));
    assert.ok(lines.includes(`egress refused: ghost.test:${tlsPort} (does not resolve (ENOTFOUND))`), lines.join('\n'));
  });

  it('pipes a bulk download both ways intact (backpressure, no loss)', async () => {
    const bytes = 24 * 1024 * 1024;
    const digest = await new Promise<string>((resolve, reject) => {
      const request = https.get(
        { host: '127.0.0.1', port: listen(tlsPort), path: `/bulk?bytes=${bytes}`, ca: pki.ca, servername: 'allowed.test', agent: false },
        (response) => {
          const hash = createHash('sha256');
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            hash.update(chunk);
          });
          response.on('end', () => (size === bytes ? resolve(hash.digest('hex')) : reject(new Error(`got ${size} bytes`))));
        },
      );
      request.on('error', reject);
    });
    assert.equal(digest, createHash('sha256').update(Buffer.alloc(bytes, 'x')).digest('hex'));
  });

  it('resets a connection that sends no name in time (handshake timeout)', async () => {
    const started = Date.now();
    const code = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: listen(tlsPort) });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      socket.on('close', () => resolve('closed'));
    });
    assert.equal(code, 'ECONNRESET');
    assert.ok(Date.now() - started >= 250, 'not before the deadline');
    assert.ok(events.some((event) => event.reason === 'no TLS server name or HTTP Host in time'));
  });

  it('logs allowed connections as events (shown at debug only)', () => {
    assert.ok(events.some((event) => event.type === 'allowed' && event.name === 'allowed.test' && event.address === '127.0.0.1'));
    assert.ok(!lines.some((line) => line.startsWith('egress allowed')));
  });
});

describe('the egress proxy: bounds and the addresses it never dials', () => {
  let pki: TestPki;
  let server: https.Server;
  let dns: FakeDns;
  before(async () => {
    pki = await makeTestPki();
    server = await startNamedHttps(pki, '127.0.0.1', 0, 'first');
    dns = await startFakeDns({ 'allowed.test': ['127.0.0.1'] });
  });
  after(async () => {
    server.closeAllConnections();
    await Promise.all([closeServer(server), dns.close()]);
  });

  it('the default guard refuses a name that resolves to loopback (DNS rebinding onto the gateways); the test guard reaches it', async () => {
    const port = portOf(server);
    const events: any[] = [];
    const options = { allows: () => true, resolve: upstreamResolver({ host: '127.0.0.1', port: dns.port }), onEvent: (event: any) => events.push(event) };
    const guarded = await startProxy([{ destinationPort: port, listenPort: 0 }], options);
    const open = await startProxy([{ destinationPort: port, listenPort: 0 }], { ...options, forbiddenUpstream: () => false });
    try {
      assert.equal((await httpsThrough(open.ports.get(port), pki.ca, 'allowed.test')).ok, true);
      assert.deepEqual(await httpsThrough(guarded.ports.get(port), pki.ca, 'allowed.test'), { ok: false, code: 'ECONNRESET' });
      assert.ok(events.some((event) => /resolves only to addresses the sandbox never dials \(127\.0\.0\.1\)/.test(event.reason)));
    } finally {
      await Promise.all([guarded.close(), open.close()]);
    }
  });

  it('resets connections beyond maxConnections, and takes new ones once they close', async () => {
    const port = portOf(server);
    const events: any[] = [];
    const proxy = await startProxy([{ destinationPort: port, listenPort: 0 }], {
      allows: () => true,
      resolve: upstreamResolver({ host: '127.0.0.1', port: dns.port }),
      forbiddenUpstream: () => false,
      onEvent: (event: any) => events.push(event),
      maxConnections: 2,
    });
    const listen = proxy.ports.get(port);
    const idle = [net.connect({ host: '127.0.0.1', port: listen }), net.connect({ host: '127.0.0.1', port: listen })];
    try {
      await Promise.all(idle.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
      while (proxy.connections() < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(await httpsThrough(listen, pki.ca, 'allowed.test'), { ok: false, code: 'ECONNRESET' });
      assert.ok(events.some((event) => event.reason === 'more than 2 connections at once'));
      for (const socket of idle) socket.destroy();
      while (proxy.connections() > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal((await httpsThrough(listen, pki.ca, 'allowed.test')).ok, true);
    } finally {
      await proxy.close();
    }
  });

  it('the replayed ClientHello is the client’s own: a TLS client trusting only the test CA verifies the real server', async () => {
    const port = portOf(server);
    const proxy = await startProxy([{ destinationPort: port, listenPort: 0 }], {
      allows: () => true,
      resolve: upstreamResolver({ host: '127.0.0.1', port: dns.port }),
      forbiddenUpstream: () => false,
    });
    try {
      const authorized = await new Promise<boolean>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: proxy.ports.get(port), servername: 'allowed.test', ca: pki.ca }, () => {
          resolve(socket.authorized);
          socket.destroy();
        });
        socket.on('error', reject);
      });
      assert.equal(authorized, true);
    } finally {
      await proxy.close();
    }
  });
});
