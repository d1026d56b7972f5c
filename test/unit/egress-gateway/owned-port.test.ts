/**
 * A port one name owns (`db.test:5432` and no other rule on 5432) carries
 * protocols that name nothing, such as PostgreSQL's, to that name only,
 * resolved now; TLS and HTTP on it are still checked on their own name. A port
 * two names share, or a wildcard's, stays name-checked only, as everywhere.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { closeServer, makeTestPki, portOf, startFakeDns, startNamedHttps, type FakeDns, type TestPki } from './net-fixture.js';
import { egressModule, grammar, rulesOf } from './module.js';

const { startProxy } = await egressModule('proxy.mjs');
const { upstreamResolver } = await egressModule('resolve.mjs');

describe('portOwner: which ports belong to one name', () => {
  it('an exact name alone on its port owns it', () => {
    assert.equal(grammar.portOwner(rulesOf('db.test:5432,api.test'), 5432), 'db.test');
  });
  it('no owner: two names on one port, a wildcard, bare names on 443, an address rule alone, a port no rule has', () => {
    assert.equal(grammar.portOwner(rulesOf('db.test:5432,other.test:5432'), 5432), undefined);
    assert.equal(grammar.portOwner(rulesOf('*.db.test:5432'), 5432), undefined);
    assert.equal(grammar.portOwner(rulesOf('db.test:5432,*.db.test:5432'), 5432), undefined);
    assert.equal(grammar.portOwner(rulesOf('a.test,b.test'), 443), undefined);
    assert.equal(grammar.portOwner(rulesOf('10.0.0.5:5432'), 5432), undefined);
    assert.equal(grammar.portOwner(rulesOf('db.test:5432'), 5433), undefined);
  });
  it('one bare name owns 443 and 80', () => {
    assert.equal(grammar.portOwner(rulesOf('api.test'), 443), 'api.test');
  });
});

/** Connect to the proxy, send `first` (nothing: undefined), and collect what comes back until close. */
function exchange(port: number, first: Buffer | undefined): Promise<{ data: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('connect', () => {
      if (first) socket.write(first);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ data: Buffer.concat(chunks).toString(), error: error.code ?? error.message }));
    socket.on('close', () => resolve({ data: Buffer.concat(chunks).toString() }));
    socket.setTimeout(5000, () => socket.destroy());
  });
}

// PostgreSQL's SSLRequest: length 8, code 80877103. Neither TLS nor HTTP.
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

describe('the proxy on an owned port', () => {
  let pki: TestPki;
  let database: net.Server; // 127.0.0.1:P: says who it is, then echoes what it got (or greets first)
  let neighbour: { close(): Promise<void> };
  let dns: FakeDns;
  let owned: { ports: Map<number, number>; close: () => Promise<void> };
  let shared: { ports: Map<number, number>; close: () => Promise<void> };
  let port: number;
  const events: any[] = [];

  before(async () => {
    pki = await makeTestPki();
    database = net.createServer((socket) => {
      socket.write('db:');
      socket.on('data', (chunk: Buffer) => socket.end(chunk.toString('hex')));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', resolve));
    port = portOf(database);
    // The same port answers TLS for other.test on 127.0.0.2: reached only if a TLS name slipped through.
    const https = await startNamedHttps(pki, '127.0.0.2', port, 'neighbour');
    neighbour = { close: () => closeServer(https) };
    dns = await startFakeDns({ 'db.test': ['127.0.0.1'], 'other.test': ['127.0.0.2'] });
    const options = (value: string) => {
      const rules = rulesOf(value);
      return {
        allows: (name: string, p: number) => grammar.allows(rules, name, p),
        owner: (p: number) => grammar.portOwner(rules, p),
        resolve: upstreamResolver({ host: '127.0.0.1', port: dns.port }),
        forbiddenUpstream: (address: string) => !address.startsWith('127.'),
        onEvent: (event: any) => events.push(event),
        handshakeTimeoutMs: 1000,
        ownerSilenceMs: 100,
      };
    };
    owned = await startProxy([{ destinationPort: port, listenPort: 0 }], options(`db.test:${port}`));
    shared = await startProxy([{ destinationPort: port, listenPort: 0 }], options(`db.test:${port},other2.test:${port}`));
  });
  after(async () => {
    await owned.close();
    await shared.close();
    await Promise.all([closeServer(database), neighbour.close(), dns.close()]);
  });

  it('a protocol that names nothing reaches the owner, its first bytes replayed (the database answers)', async () => {
    const got = await exchange(owned.ports.get(port)!, SSL_REQUEST);
    assert.equal(got.data, `db:${SSL_REQUEST.toString('hex')}`);
    assert.ok(events.some((e) => e.type === 'allowed' && e.name === 'db.test' && e.port === port));
  });

  it('a client that waits for the server to speak first reaches the owner too', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: owned.ports.get(port)! });
    const greeting = await new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    socket.destroy();
    assert.equal(greeting, 'db:');
  });

  it('TLS on the owned port is still checked on its name: other.test is reset, the neighbour never reached', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: owned.ports.get(port)!, servername: 'other.test', ca: pki.ca });
      socket.on('secureConnect', () => resolve('connected'));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    assert.equal(outcome, 'ECONNRESET');
    assert.ok(events.some((e) => e.type === 'refused' && e.name === 'other.test'));
  });

  it('HTTP on the owned port is checked on Host: other.test reset', async () => {
    const got = await exchange(owned.ports.get(port)!, Buffer.from('GET / HTTP/1.1\r\nHost: other.test\r\n\r\n'));
    assert.equal(got.error, 'ECONNRESET');
  });

  it('on a port two names share, a protocol that names nothing is refused as before (control of the rule)', async () => {
    const got = await exchange(shared.ports.get(port)!, SSL_REQUEST);
    assert.equal(got.error, 'ECONNRESET');
    assert.ok(!got.data.startsWith('db:'));
  });
});
