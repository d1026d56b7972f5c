// @ts-check
// The server name (SNI) of a TLS ClientHello, read from the first bytes of a
// connection without terminating TLS. The ClientHello may arrive in several TCP
// chunks and span several TLS records (post-quantum key shares make it larger
// than one packet; RFC 8446 lets a handshake message span records), so the
// caller feeds everything read so far and gets "need more" until it is whole.
// Bounded: more than MAX_HELLO_BYTES without a whole ClientHello is refused.
// No server name, or anything malformed, is refused: a name is the only thing
// the enforcer lets through on a name port.

/** The largest ClientHello accepted (its handshake message, without record headers). */
export const MAX_HELLO_BYTES = 16 * 1024;
/** The most bytes buffered while waiting for it: the hello and a few record headers. */
export const MAX_BUFFERED_BYTES = MAX_HELLO_BYTES + 1024;

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXTENSION_SERVER_NAME = 0x0000;
const EXTENSION_ECH = 0xfe0d;
const NAME_TYPE_HOST = 0x00;

/**
 * @typedef {{ status: 'more' }} NeedMore
 * @typedef {{ status: 'name', name: string, ech: boolean }} Named
 *   `ech`: the hello carries an encrypted_client_hello extension (real or GREASE);
 *   the name is then the outer, public name, and that is what is checked.
 * @typedef {{ status: 'refused', reason: string }} Refused
 * @typedef {NeedMore | Named | Refused} HelloResult
 */

/** @param {string} reason @returns {Refused} */
const refused = (reason) => ({ status: 'refused', reason });

/**
 * @param {Buffer} bytes everything the client has sent so far
 * @returns {HelloResult}
 */
export function readClientHello(bytes) {
  // 1. Join the handshake records' fragments until the ClientHello is whole.
  /** @type {Buffer[]} */
  const fragments = [];
  let handshakeBytes = 0;
  let offset = 0;
  let helloLength = -1;
  for (;;) {
    if (helloLength >= 0 && handshakeBytes >= helloLength + 4) break;
    if (bytes.length < offset + 5) return moreOrTooBig(bytes);
    if (bytes[offset] !== RECORD_HANDSHAKE) return refused(offset === 0 ? 'not TLS' : 'a non-handshake record inside the ClientHello');
    if (bytes[offset + 1] !== 0x03) return refused('not TLS (record version)');
    const recordLength = bytes.readUInt16BE(offset + 3);
    if (recordLength === 0 || recordLength > 16384 + 256) return refused('malformed TLS record length');
    if (offset === 0 && recordLength >= 4 && bytes.length >= 9) {
      // The handshake header, as soon as it is in: a hello too large is refused before it is read.
      if (bytes[5] !== HANDSHAKE_CLIENT_HELLO) return refused('the first handshake message is not a ClientHello');
      if (bytes.readUIntBE(6, 3) + 4 > MAX_HELLO_BYTES) return refused(`ClientHello larger than ${MAX_HELLO_BYTES} bytes`);
    }
    if (bytes.length < offset + 5 + recordLength) return moreOrTooBig(bytes);
    fragments.push(bytes.subarray(offset + 5, offset + 5 + recordLength));
    handshakeBytes += recordLength;
    offset += 5 + recordLength;
    if (helloLength < 0 && handshakeBytes >= 4) {
      const head = Buffer.concat(fragments).subarray(0, 4);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return refused('the first handshake message is not a ClientHello');
      helloLength = head.readUIntBE(1, 3);
      if (helloLength + 4 > MAX_HELLO_BYTES) return refused(`ClientHello larger than ${MAX_HELLO_BYTES} bytes`);
    }
  }
  const hello = Buffer.concat(fragments).subarray(4, 4 + helloLength);
  try {
    return serverName(hello);
  } catch {
    return refused('malformed ClientHello');
  }
}

/** @param {Buffer} bytes @returns {HelloResult} */
function moreOrTooBig(bytes) {
  return bytes.length >= MAX_BUFFERED_BYTES ? refused(`no whole ClientHello in ${MAX_BUFFERED_BYTES} bytes`) : { status: 'more' };
}

/**
 * The body of a ClientHello (after its 4-byte handshake header) to its server name.
 * Reads past the end throw (RangeError), which the caller turns into "malformed".
 * @param {Buffer} hello
 * @returns {HelloResult}
 */
function serverName(hello) {
  let at = 2 + 32; // legacy_version, random
  at += 1 + need(hello, at, 1).readUInt8(at); // session id
  at += 2 + need(hello, at, 2).readUInt16BE(at); // cipher suites
  at += 1 + need(hello, at, 1).readUInt8(at); // compression methods
  if (at === hello.length) return refused('no server name (SNI)');
  const extensionsEnd = at + 2 + need(hello, at, 2).readUInt16BE(at);
  if (extensionsEnd !== hello.length) return refused('malformed ClientHello (extensions length)');
  at += 2;
  /** @type {string | undefined} */
  let name;
  let ech = false;
  /** @type {Set<number>} */
  const seen = new Set();
  while (at < extensionsEnd) {
    const type = need(hello, at, 4).readUInt16BE(at);
    const length = hello.readUInt16BE(at + 2);
    const data = need(hello, at + 4, length).subarray(at + 4, at + 4 + length);
    if (seen.has(type)) return refused('malformed ClientHello (an extension twice)');
    seen.add(type);
    if (type === EXTENSION_ECH) ech = true;
    if (type === EXTENSION_SERVER_NAME) {
      const found = hostName(data);
      if (typeof found !== 'string') return found;
      name = found;
    }
    at += 4 + length;
  }
  if (at !== extensionsEnd) return refused('malformed ClientHello (extensions)');
  return name === undefined ? refused('no server name (SNI)') : { status: 'name', name, ech };
}

/**
 * The one host_name of a server_name extension (RFC 6066 §3: at most one per type).
 * @param {Buffer} data
 * @returns {string | Refused}
 */
function hostName(data) {
  const listEnd = 2 + data.readUInt16BE(0);
  if (listEnd !== data.length) return refused('malformed server name extension');
  /** @type {string | undefined} */
  let name;
  for (let at = 2; at < listEnd;) {
    const type = need(data, at, 3).readUInt8(at);
    const length = data.readUInt16BE(at + 1);
    const value = need(data, at + 3, length).subarray(at + 3, at + 3 + length);
    if (type === NAME_TYPE_HOST) {
      if (name !== undefined) return refused('two server names');
      // Printable ASCII only: anything else is no host name (the matcher checks the rest).
      if (!/^[\x21-\x7e]+$/.test(value.toString('latin1'))) return refused('a server name that is not ASCII');
      name = value.toString('ascii');
    }
    at += 3 + length;
  }
  return name === undefined ? refused('no server name (SNI)') : name;
}

/**
 * The buffer itself when `length` bytes from `at` are inside it; throws otherwise.
 * @param {Buffer} buffer @param {number} at @param {number} length
 */
function need(buffer, at, length) {
  if (at + length > buffer.length) throw new RangeError('past the end');
  return buffer;
}
