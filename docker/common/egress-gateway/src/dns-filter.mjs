// @ts-check
// The MCP server's resolver (UDP and TCP; the firewall redirects its port 53
// here). It answers only names the allowlist allows, and only from the
// engine's resolver at query time: nothing is cached or pinned here, and the
// upstream's TTLs reach the client unchanged.
//
//  - A name no rule allows: NXDOMAIN, decided here and never forwarded, so a
//    lookup of <data>.attacker.example is no side channel. NXDOMAIN rather than
//    REFUSED because resolvers take NXDOMAIN as final (glibc answers ENOTFOUND
//    at once), where REFUSED reads as "try again" and clients retry for
//    seconds before failing.
//  - An allowed name, type A or AAAA: a clean query of our own (fresh id, the
//    one question, nothing else the client put in it) goes upstream; its
//    answer, CNAME chain included, comes back with the client's id. The proxy
//    checks each connection's name again, so the chain's targets need no rule.
//  - An allowed name, any other type (HTTPS, SVCB, TXT, MX...): NOERROR with
//    no answer, not forwarded. Withholding HTTPS/SVCB records also withholds
//    the ECH configurations clients would use to hide the name from the proxy.
//  - Anything malformed, or not one question of class IN: FORMERR.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';

/**
 * @typedef {{ type: 'refused', name: string, qtype: string, reason: string }
 *   | { type: 'answered', name: string, qtype: string, rcode: string }} DnsEvent
 * @typedef {{ host: string, port: number }} Upstream
 * @typedef {{
 *   allowsName: (name: string) => boolean,
 *   upstream: Upstream,
 *   onEvent?: (event: DnsEvent) => void,
 *   timeoutMs?: number,
 *   maxInFlight?: number,
 * }} DnsOptions
 */

const FORWARDED = new Set(['A', 'AAAA']);
/** @type {Record<number, string>} */
const RCODE_NAMES = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 5: 'REFUSED' };

/**
 * The answer to one query message, or undefined to stay silent. Over UDP
 * (maxSize 512) a longer answer is replaced by a truncated one (TC), so the
 * client asks again over TCP, as it would of any resolver.
 * @param {Buffer} message
 * @param {Required<DnsOptions>} options
 * @param {number} [maxSize]
 * @returns {Promise<Buffer | undefined>}
 */
export async function answer(message, options, maxSize = 65535) {
  let query;
  try {
    query = dnsPacket.decode(message);
  } catch {
    return message.length >= 2 ? reply(message.readUInt16BE(0), [], 'FORMERR') : undefined;
  }
  const id = query.id ?? 0;
  const question = query.questions?.[0];
  if (query.type !== 'query' || query.questions?.length !== 1 || !question || question.class !== 'IN') return reply(id, query.questions ?? [], 'FORMERR');
  const name = question.name;
  if (!options.allowsName(name)) {
    options.onEvent({ type: 'refused', name: name.toLowerCase(), qtype: question.type, reason: 'DNS name not in MCP_EGRESS' });
    return reply(id, [question], 'NXDOMAIN');
  }
  if (!FORWARDED.has(question.type)) {
    options.onEvent({ type: 'answered', name: name.toLowerCase(), qtype: question.type, rcode: 'NOERROR (withheld)' });
    return reply(id, [question], 'NOERROR');
  }
  let upstream;
  try {
    upstream = await forward(question, options.upstream, options.timeoutMs);
  } catch {
    return reply(id, [question], 'SERVFAIL');
  }
  upstream.writeUInt16BE(id, 0);
  if (upstream.length > maxSize)
    return dnsPacket.encode({
      type: 'response',
      id,
      flags: dnsPacket.TRUNCATED_RESPONSE | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: [question],
    });
  options.onEvent({ type: 'answered', name: name.toLowerCase(), qtype: question.type, rcode: RCODE_NAMES[upstream.readUInt16BE(2) & 0x000f] ?? 'other' });
  return upstream;
}

/**
 * @param {number} id @param {dnsPacket.Question[]} questions @param {string} rcode
 */
function reply(id, questions, rcode) {
  const flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcodeNumber(rcode);
  return dnsPacket.encode({ type: 'response', id, flags, questions });
}

/** @param {string} rcode */
function rcodeNumber(rcode) {
  return { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 }[rcode] ?? 2;
}

/**
 * Asks the upstream over UDP (over TCP when the answer comes back truncated).
 * Checks that the answer is to our question (id and name), else keeps waiting.
 * @param {dnsPacket.Question} question @param {Upstream} upstream @param {number} timeoutMs
 * @returns {Promise<Buffer>}
 */
async function forward(question, upstream, timeoutMs) {
  const id = randomInt(0, 65536);
  const query = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name: question.name, type: question.type, class: 'IN' }],
  });
  const udp = await askUdp(query, id, question.name, upstream, timeoutMs);
  if ((udp.readUInt16BE(2) & 0x0200) === 0) return udp; // not truncated
  return askTcp(query, id, question.name, upstream, timeoutMs);
}

/**
 * @param {Buffer} response @param {number} id @param {string} name
 */
function isAnswerTo(response, id, name) {
  try {
    const decoded = dnsPacket.decode(response);
    return decoded.type === 'response' && decoded.id === id && decoded.questions?.[0]?.name.toLowerCase() === name.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * @param {Buffer} query @param {number} id @param {string} name @param {Upstream} upstream @param {number} timeoutMs
 * @returns {Promise<Buffer>}
 */
function askUdp(query, id, name, upstream, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(upstream.host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish(new Error('upstream DNS timed out')), timeoutMs);
    /** @param {Error | undefined} error @param {Buffer} [response] */
    const finish = (error, response) => {
      clearTimeout(timer);
      socket.close();
      if (error || !response) reject(error);
      else resolve(response);
    };
    socket.on('error', (error) => finish(error));
    socket.on('message', (response, from) => {
      if (from.port === upstream.port && isAnswerTo(response, id, name)) finish(undefined, response);
    });
    socket.send(query, upstream.port, upstream.host);
  });
}

/**
 * @param {Buffer} query @param {number} id @param {string} name @param {Upstream} upstream @param {number} timeoutMs
 * @returns {Promise<Buffer>}
 */
function askTcp(query, id, name, upstream, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: upstream.host, port: upstream.port });
    const framed = new TcpFramer();
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('upstream DNS timed out')));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      for (const response of framed.push(chunk)) {
        if (isAnswerTo(response, id, name)) {
          socket.destroy();
          resolve(response);
        }
      }
    });
    socket.on('close', () => reject(new Error('upstream DNS closed')));
    const length = Buffer.alloc(2);
    length.writeUInt16BE(query.length);
    socket.end(Buffer.concat([length, query]));
  });
}

/** Splits a DNS-over-TCP stream into messages (each after a 2-byte length). */
export class TcpFramer {
  buffered = Buffer.alloc(0);
  /** @param {Buffer} chunk @returns {Buffer[]} the whole messages so far */
  push(chunk) {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    /** @type {Buffer[]} */
    const messages = [];
    while (this.buffered.length >= 2) {
      const length = this.buffered.readUInt16BE(0);
      if (this.buffered.length < 2 + length) break;
      messages.push(this.buffered.subarray(2, 2 + length));
      this.buffered = this.buffered.subarray(2 + length);
    }
    return messages;
  }
}

/**
 * Serves the filter on UDP and TCP at host:port (port 0: a free port, the same for both).
 * @param {{ host?: string, port?: number }} where
 * @param {DnsOptions} options
 * @returns {Promise<{ port: number, close: () => Promise<void> }>}
 */
export async function startDnsFilter({ host = '127.0.0.1', port = 0 }, options) {
  const settings = { onEvent: () => {}, timeoutMs: 3000, maxInFlight: 256, ...options };
  let inFlight = 0;
  /** @param {Buffer} message @param {number} maxSize */
  const bounded = async (message, maxSize) => {
    if (inFlight >= settings.maxInFlight) return undefined; // dropped: the client retries
    inFlight += 1;
    try {
      return await answer(message, settings, maxSize);
    } finally {
      inFlight -= 1;
    }
  };
  const tcp = net.createServer((socket) => {
    const framer = new TcpFramer();
    socket.setTimeout(settings.timeoutMs * 3, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      if (framer.buffered.length + chunk.length > 70_000) return socket.destroy();
      for (const message of framer.push(chunk)) {
        void bounded(message, 65535).then((response) => {
          if (!response || socket.destroyed) return;
          const length = Buffer.alloc(2);
          length.writeUInt16BE(response.length);
          socket.write(Buffer.concat([length, response]));
        });
      }
    });
  });
  await new Promise((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, host, () => resolve(undefined));
  });
  const bound = /** @type {net.AddressInfo} */ (tcp.address()).port;
  const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  udp.on('message', (message, from) => {
    void bounded(message, 512).then((response) => {
      if (response) udp.send(response, from.port, from.address);
    });
  });
  await new Promise((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(bound, host, () => resolve(undefined));
  });
  return {
    port: bound,
    close: async () => {
      await new Promise((resolve) => udp.close(() => resolve(undefined)));
      await new Promise((resolve) => tcp.close(() => resolve(undefined)));
    },
  };
}
