/**
 * Reading the name from a connection's first bytes: the TLS ClientHello's
 * server name (client-hello.mjs) and the HTTP/1.x Host (http-host.mjs). Real
 * hellos from Node's TLS client and synthetic ones; every refusal beside the
 * accepted shape it is a variation of.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientHelloMessage, inRecords, realClientHello, sniExtension, syntheticClientHello } from './hello-fixture.js';
import { egressModule } from './module.js';

const { readClientHello, MAX_HELLO_BYTES } = await egressModule('client-hello.mjs');
const { readHttpHost } = await egressModule('http-host.mjs');

describe('the TLS ClientHello server name', () => {
  it("reads the name of Node's own ClientHello", async () => {
    const hello = await realClientHello({ servername: 'allowed.test' });
    assert.deepEqual(readClientHello(hello), { status: 'name', name: 'allowed.test', ech: false });
  });

  it('asks for more at every cut short of the whole hello, and reads it once whole (TCP chunks)', async () => {
    const hello = await realClientHello({ servername: 'allowed.test' });
    for (let cut = 0; cut < hello.length; cut += 1) assert.deepEqual(readClientHello(hello.subarray(0, cut)), { status: 'more' }, `cut at ${cut}`);
    assert.equal(readClientHello(hello).name, 'allowed.test');
  });

  it('refuses a ClientHello with no server name (Node dialling an address sends none)', async () => {
    const hello = await realClientHello({});
    assert.deepEqual(readClientHello(hello), { status: 'refused', reason: 'no server name (SNI)' });
    assert.equal(readClientHello(syntheticClientHello({ names: [] })).status, 'refused');
    assert.equal(readClientHello(inRecords(clientHelloMessage(undefined))).reason, 'no server name (SNI)');
  });

  it('reads a hello split across several records (a large hello), and the same hello in one record', () => {
    const one = syntheticClientHello({ padding: 9000 });
    const split = syntheticClientHello({ padding: 9000, recordSize: 1000 });
    assert.ok(split.length > one.length, 'ten records');
    assert.equal(readClientHello(one).name, 'allowed.test');
    assert.equal(readClientHello(split).name, 'allowed.test');
    assert.deepEqual(readClientHello(split.subarray(0, split.length - 1)), { status: 'more' });
  });

  it(`refuses a hello larger than ${16 * 1024} bytes, without waiting for all of it`, () => {
    const tooBig = syntheticClientHello({ padding: MAX_HELLO_BYTES, recordSize: 4000 });
    assert.match(readClientHello(tooBig.subarray(0, 9)).reason, /larger than 16384/);
    assert.equal(readClientHello(syntheticClientHello({ padding: MAX_HELLO_BYTES - 200, recordSize: 4000 })).name, 'allowed.test');
  });

  it('flags a hello with an encrypted_client_hello extension (the outer name is what is checked)', () => {
    assert.deepEqual(readClientHello(syntheticClientHello({ ech: true })), { status: 'name', name: 'allowed.test', ech: true });
  });

  it('refuses malformed hellos beside the well-formed one', () => {
    const good = syntheticClientHello();
    assert.equal(readClientHello(good).status, 'name');
    const refusals: [string, Buffer][] = [
      ['two names', syntheticClientHello({ names: ['allowed.test', 'other.test'] })],
      ['a non-ASCII name', syntheticClientHello({ names: ['allowed.tést'] })],
      ['a name with a space', syntheticClientHello({ names: ['allowed test'] })],
      ['not TLS', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
      ['an alert record first', Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28])],
      ['a server hello', inRecords(Buffer.concat([Buffer.from([2]), clientHelloMessage([sniExtension('allowed.test')]).subarray(1)]))],
      ['an empty record', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])],
    ];
    // Lengths that point past their container: the extensions block, one extension, the name list.
    const message = clientHelloMessage([sniExtension('allowed.test')]);
    const extensionsAt = 4 + 2 + 32 + 1 + 2 + 2 + 2;
    for (const [what, at, delta] of [
      ['extensions length', extensionsAt, 1],
      ['extension length', extensionsAt + 4, 5],
      ['name list length', extensionsAt + 6, 3],
      ['name length', extensionsAt + 9, 40],
    ] as const) {
      const broken = Buffer.from(message);
      broken.writeUInt16BE(broken.readUInt16BE(at) + delta, at);
      refusals.push([`a wrong ${what}`, inRecords(broken)]);
    }
    for (const [what, bytes] of refusals) assert.equal(readClientHello(bytes).status, 'refused', what);
  });
});

describe('the HTTP/1.x Host', () => {
  const request = (head: string, body = '') => Buffer.from(`${head}\r\n\r\n${body}`, 'latin1');

  it('reads the Host and replays the request with Connection: close in place of connection headers', () => {
    const read = readHttpHost(
      request('POST /api?x=1 HTTP/1.1\r\nHost: Allowed.test:8080\r\nConnection: keep-alive\r\nUpgrade: h2c\r\nContent-Length: 4', 'body'),
    );
    assert.equal(read.status, 'name');
    assert.equal(read.name, 'Allowed.test');
    assert.equal(read.replay.toString('latin1'), 'POST /api?x=1 HTTP/1.1\r\nHost: Allowed.test:8080\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody');
  });

  it('asks for more until the head is whole', () => {
    const whole = request('GET / HTTP/1.1\r\nHost: allowed.test');
    for (let cut = 1; cut < whole.length; cut += 1) assert.deepEqual(readHttpHost(whole.subarray(0, cut)), { status: 'more' }, `cut at ${cut}`);
    assert.equal(readHttpHost(whole).name, 'allowed.test');
  });

  it('refuses what could reach another name than Host, beside the plain request', () => {
    assert.equal(readHttpHost(request('GET / HTTP/1.1\r\nHost: allowed.test')).status, 'name');
    const refusals: [string, Buffer][] = [
      ['no Host', request('GET / HTTP/1.1\r\nAccept: */*')],
      ['two Hosts', request('GET / HTTP/1.1\r\nHost: allowed.test\r\nHost: other.test')],
      ['absolute form', request('GET http://other.test/ HTTP/1.1\r\nHost: allowed.test')],
      ['CONNECT', request('CONNECT other.test:443 HTTP/1.1\r\nHost: allowed.test')],
      ['HTTP/2 preface', request('PRI * HTTP/2.0', 'SM\r\n\r\n')],
      ['a Host that is no name', request('GET / HTTP/1.1\r\nHost: allowed.test@other.test')],
      ['an IPv6 Host', request('GET / HTTP/1.1\r\nHost: [::1]:80')],
      ['a folded header', request('GET / HTTP/1.1\r\nHost: allowed.test\r\n other.test')],
      ['neither TLS nor HTTP', Buffer.from('SSH-2.0-OpenSSH_9.6\r\n')],
      ['a head beyond 16 KB', Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(17000)}`)],
    ];
    for (const [what, bytes] of refusals) assert.equal(readHttpHost(bytes).status, 'refused', what);
  });
});
