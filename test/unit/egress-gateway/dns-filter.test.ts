/**
 * The DNS filter (dns-filter.mjs) in front of a fake upstream resolver on
 * loopback: allowed names are forwarded at query time with the upstream's
 * TTLs and CNAME chains; other names get NXDOMAIN without the upstream ever
 * seeing them (so a lookup is no side channel); nothing is cached.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { startFakeDns, type FakeDns } from './net-fixture.js';
import { egressModule, grammar, rulesOf } from './module.js';

const { startDnsFilter } = await egressModule('dns-filter.mjs');
const { createRefusalLog } = await egressModule('refusal-log.mjs');

/** One question over UDP to the filter; the decoded answer and its size. */
function askUdp(port: number, name: string, type: dnsPacket.RecordType = 'A', raw?: Buffer): Promise<{ packet: dnsPacket.Packet; size: number }> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no answer for ${name}`));
    }, 3000);
    socket.on('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolve({ packet: dnsPacket.decode(message), size: message.length });
    });
    socket.send(
      raw ?? dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] }),
      port,
      '127.0.0.1',
    );
  });
}

/** One question over TCP (length-prefixed) to the filter. */
function askTcp(port: number, name: string): Promise<dnsPacket.Packet> {
  return new Promise((resolve, reject) => {
    const query = dnsPacket.encode({ type: 'query', id: 77, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }] });
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(Buffer.concat([Buffer.from([query.length >> 8, query.length & 0xff]), query])));
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        socket.destroy();
        resolve(dnsPacket.decode(buffered.subarray(2)));
      }
    });
    socket.on('error', reject);
  });
}

const rcodeOf = (packet: dnsPacket.Packet) => (packet.flags ?? 0) & 0x0f;
const addresses = (packet: dnsPacket.Packet) => (packet.answers ?? []).flatMap((answer) => (answer.type === 'A' ? [answer.data] : []));

describe('the DNS filter, MCP_EGRESS=allowed.test,*.wild.test', () => {
  let upstream: FakeDns;
  let filter: { port: number; close: () => Promise<void> };
  const lines: string[] = [];
  const big = Array.from({ length: 40 }, (_, i) => `10.9.0.${i + 1}`);

  before(async () => {
    upstream = await startFakeDns(
      {
        'allowed.test': ['127.0.0.1'],
        'other.test': ['127.0.0.1'],
        'a.b.wild.test': ['cname:edge.cdn.test'],
        'edge.cdn.test': ['127.0.0.7', '127.0.0.8'],
        'wild.test': ['127.0.0.1'],
        'big.wild.test': big,
      },
      37,
    );
    const rules = rulesOf('allowed.test,*.wild.test');
    const log = createRefusalLog({ write: (line: string) => lines.push(line) });
    filter = await startDnsFilter(
      { host: '127.0.0.1', port: 0 },
      {
        allowsName: (name: string) => grammar.allowsName(rules, name),
        upstream: { host: '127.0.0.1', port: upstream.port },
        onEvent: (event: any) => log.report(event),
      },
    );
  });
  after(async () => {
    await Promise.all([filter.close(), upstream.close()]);
  });

  it("answers an allowed name from the upstream, with the upstream's TTL and the client's id (control)", async () => {
    const { packet } = await askUdp(filter.port, 'allowed.test');
    assert.equal(packet.id, 4242);
    assert.equal(rcodeOf(packet), 0);
    assert.deepEqual(addresses(packet), ['127.0.0.1']);
    assert.equal((packet.answers?.[0] as dnsPacket.StringAnswer | undefined)?.ttl, 37);
    assert.ok(upstream.asked.includes('allowed.test'));
  });

  it('answers NXDOMAIN for other.test and never asks the upstream', async () => {
    const { packet } = await askUdp(filter.port, 'other.test');
    assert.equal(rcodeOf(packet), 3, 'NXDOMAIN');
    assert.deepEqual(packet.answers, []);
    assert.ok(!upstream.asked.includes('other.test'));
    assert.ok(lines.includes('egress refused: other.test (DNS name not in MCP_EGRESS)'), lines.join('\n'));
  });

  it('a random name under a refused domain (a DNS tunnel) is refused and never forwarded', async () => {
    const tunnel = `${randomBytes(20).toString('hex')}.other.test`;
    const { packet } = await askUdp(filter.port, tunnel);
    assert.equal(rcodeOf(packet), 3);
    assert.ok(!upstream.asked.some((name) => name.includes('other.test')), upstream.asked.join(','));
  });

  it("answers through the system's resolver client too (what getaddrinfo-style clients see)", async () => {
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${filter.port}`]);
    assert.deepEqual(await resolver.resolve4('allowed.test'), ['127.0.0.1']);
    await assert.rejects(resolver.resolve4('other.test'), { code: 'ENOTFOUND' });
  });

  it('nothing is cached: the next query sees where the name points now', async () => {
    const before = upstream.asked.filter((name) => name === 'allowed.test').length;
    upstream.records.set('allowed.test', ['127.0.0.2']);
    try {
      assert.deepEqual(addresses((await askUdp(filter.port, 'allowed.test')).packet), ['127.0.0.2']);
    } finally {
      upstream.records.set('allowed.test', ['127.0.0.1']);
    }
    assert.deepEqual(addresses((await askUdp(filter.port, 'allowed.test')).packet), ['127.0.0.1']);
    assert.equal(upstream.asked.filter((name) => name === 'allowed.test').length, before + 2);
  });

  it('a wildcard name is answered with its CNAME chain; the wildcard domain itself is not allowed', async () => {
    const { packet } = await askUdp(filter.port, 'a.b.wild.test');
    assert.equal(rcodeOf(packet), 0);
    assert.deepEqual(
      packet.answers?.map((answer) => [answer.type, (answer as dnsPacket.StringAnswer).data]),
      [
        ['CNAME', 'edge.cdn.test'],
        ['A', '127.0.0.7'],
        ['A', '127.0.0.8'],
      ],
    );
    const bare = await askUdp(filter.port, 'wild.test');
    assert.equal(rcodeOf(bare.packet), 3);
    assert.ok(!upstream.asked.includes('wild.test'));
  });

  it('other record types of an allowed name (TXT, HTTPS with its ECH keys) get an empty answer, not forwarded', async () => {
    const asked = upstream.asked.length;
    for (const type of ['TXT', 'HTTPS', 'MX'] as dnsPacket.RecordType[]) {
      const { packet } = await askUdp(filter.port, 'allowed.test', type);
      assert.equal(rcodeOf(packet), 0, type);
      assert.deepEqual(packet.answers, [], type);
    }
    assert.equal(upstream.asked.length, asked);
  });

  it('answers over TCP as over UDP: allowed forwarded, other NXDOMAIN', async () => {
    assert.deepEqual(addresses(await askTcp(filter.port, 'allowed.test')), ['127.0.0.1']);
    assert.equal(rcodeOf(await askTcp(filter.port, 'other.test')), 3);
  });

  it('an answer too long for UDP comes back truncated over UDP, and whole over TCP', async () => {
    const udp = await askUdp(filter.port, 'big.wild.test');
    assert.ok(udp.size <= 512);
    assert.equal((udp.packet.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE, dnsPacket.TRUNCATED_RESPONSE);
    assert.deepEqual(addresses(await askTcp(filter.port, 'big.wild.test')), big);
  });

  it('answers FORMERR to two questions in one query, and to garbage with an id', async () => {
    const two = dnsPacket.encode({
      type: 'query',
      id: 9,
      questions: [
        { name: 'allowed.test', type: 'A', class: 'IN' },
        { name: 'other.test', type: 'A', class: 'IN' },
      ],
    });
    assert.equal(rcodeOf((await askUdp(filter.port, '', 'A', two)).packet), 1);
    assert.equal(rcodeOf((await askUdp(filter.port, '', 'A', Buffer.from([0, 9, 1, 0, 0, 1, 0xff]))).packet), 1);
    assert.ok(!upstream.asked.includes('other.test'));
  });
});
