// @ts-check
// The name-checking proxy. The firewall redirects the MCP server's TCP
// connections on name ports to it (one listener per destination port, so the
// listener that accepts a connection says which port the server dialled; the
// address it dialled is never used). For each connection it reads the first
// bytes, takes the name from the TLS ClientHello (SNI) or the HTTP Host,
// checks it against the policy, resolves the name itself, now, through the
// engine's resolver, connects to the result, replays the bytes it read and
// then pipes both ways (pipe() honours backpressure). Anything refused is
// reset (RST) and reported once through onEvent.
//
// Bounded: at most maxConnections at once (more are reset), a first-bytes
// deadline (handshakeTimeoutMs), an upstream connect deadline, and an idle
// deadline on both sides once piped.
import net from 'node:net';
import { MAX_BUFFERED_BYTES, readClientHello } from './client-hello.mjs';
import { looksLikeHttp, readHttpHost } from './http-host.mjs';
import { isForbiddenUpstream } from './upstream-guard.mjs';

/**
 * @typedef {{ type: 'refused', name?: string, port: number, reason: string }
 *   | { type: 'allowed', name: string, port: number, address: string }} ProxyEvent
 * @typedef {(name: string) => Promise<string[]>} Resolve  addresses for a name, now
 * @typedef {{
 *   allows: (name: string, port: number) => boolean,
 *   owner?: (port: number) => string | undefined,
 *   ownerSilenceMs?: number,
 *   resolve: Resolve,
 *   onEvent?: (event: ProxyEvent) => void,
 *   maxConnections?: number,
 *   handshakeTimeoutMs?: number,
 *   connectTimeoutMs?: number,
 *   idleTimeoutMs?: number,
 *   forbiddenUpstream?: (address: string) => boolean,
 * }} ProxyOptions
 * @typedef {{ destinationPort: number, listenPort: number, host?: string }} Listener
 *   listenPort 0 takes a free port (tests); the bound port is in `ports` of the result.
 */

// ownerSilenceMs: on a port one name owns (grammar.cjs, portOwner), a client that
// sends nothing this long is taken to wait for the server to speak first (MySQL,
// SMTP) and is connected to the owner. TLS and HTTP clients speak at once.
export const DEFAULTS = Object.freeze({
  maxConnections: 512,
  handshakeTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 15 * 60_000,
  ownerSilenceMs: 300,
  /** @type {(port: number) => string | undefined} */
  owner: () => undefined,
});

/**
 * Opens one listener per destination port.
 * @param {readonly Listener[]} listeners
 * @param {ProxyOptions} options
 * @returns {Promise<{ ports: Map<number, number>, connections: () => number, close: () => Promise<void> }>}
 *   ports: destination port → bound listen port
 */
export async function startProxy(listeners, options) {
  const settings = { ...DEFAULTS, forbiddenUpstream: isForbiddenUpstream, onEvent: () => {}, ...options };
  /** @type {Set<net.Socket>} */
  const open = new Set();
  /** @type {net.Server[]} */
  const servers = [];
  /** @type {Map<number, number>} */
  const ports = new Map();
  for (const { destinationPort, listenPort, host = '127.0.0.1' } of listeners) {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (client) => {
      if (open.size >= settings.maxConnections) {
        settings.onEvent({ type: 'refused', port: destinationPort, reason: `more than ${settings.maxConnections} connections at once` });
        client.resetAndDestroy();
        return;
      }
      open.add(client);
      client.once('close', () => open.delete(client));
      handle(client, destinationPort, settings, open);
    });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, host, () => resolve(undefined));
    });
    servers.push(server);
    ports.set(destinationPort, /** @type {net.AddressInfo} */ (server.address()).port);
  }
  return {
    ports,
    connections: () => open.size,
    close: async () => {
      for (const socket of open) socket.destroy();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(() => resolve(undefined)))));
    },
  };
}

/**
 * @param {net.Socket} client
 * @param {number} port the destination port (the listener's)
 * @param {Required<ProxyOptions>} settings
 * @param {Set<net.Socket>} open sockets to close with the proxy
 */
function handle(client, port, settings, open) {
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  let done = false;
  let named = false;
  /** @param {string} reason @param {string} [name] */
  const refuse = (reason, name) => {
    if (done) return;
    done = true;
    clearTimeout(deadline);
    clearTimeout(silence);
    settings.onEvent({ type: 'refused', ...(name === undefined ? {} : { name }), port, reason });
    client.resetAndDestroy();
  };
  const deadline = setTimeout(() => refuse('no TLS server name or HTTP Host in time'), settings.handshakeTimeoutMs);
  // A port one name owns also carries protocols that name nothing: to that name only.
  const owner = settings.owner(port);
  /** @param {Buffer} replay */
  const toOwner = (replay) => {
    if (done || named || owner === undefined) return;
    clearTimeout(silence);
    client.off('data', onData);
    client.pause();
    named = true;
    void forward(client, owner, port, replay, settings, open, refuse).then((ok) => {
      if (ok) {
        done = true;
        clearTimeout(deadline);
      }
    });
  };
  const silence = owner === undefined ? undefined : setTimeout(() => toOwner(Buffer.alloc(0)), settings.ownerSilenceMs);
  client.on('error', () => refuse('client error'));
  // A FIN after the name is a half-close (HTTP/1.0 style): passed on once piped.
  client.on('end', () => (named ? undefined : refuse('closed before sending a name')));
  /** @param {Buffer} chunk */
  const onData = (chunk) => {
    chunks.push(chunk);
    size += chunk.length;
    const bytes = Buffer.concat(chunks, size);
    if (owner !== undefined && bytes[0] !== 0x16 && !looksLikeHttp(bytes)) return toOwner(bytes);
    clearTimeout(silence);
    const read = bytes[0] === 0x16 ? readClientHello(bytes) : readHttpHost(bytes);
    if (read.status === 'more') {
      if (size >= MAX_BUFFERED_BYTES) refuse('too many bytes without a name');
      return;
    }
    client.off('data', onData);
    client.pause();
    if (read.status === 'refused') return refuse(read.reason);
    named = true;
    const kind = bytes[0] === 0x16 ? 'TLS name' : 'HTTP Host';
    if (!settings.allows(read.name, port)) return refuse(`${kind} not in MCP_EGRESS`, read.name.toLowerCase());
    const replay = 'replay' in read ? read.replay : bytes;
    void forward(client, read.name.toLowerCase(), port, replay, settings, open, refuse).then((ok) => {
      if (ok) {
        done = true;
        clearTimeout(deadline);
      }
    });
  };
  client.on('data', onData);
}

/**
 * Resolves the name now, connects to the first address that answers, replays
 * and pipes. Resolves false when it refused instead.
 * @param {net.Socket} client
 * @param {string} name
 * @param {number} port
 * @param {Buffer} replay
 * @param {Required<ProxyOptions>} settings
 * @param {Set<net.Socket>} open
 * @param {(reason: string, name?: string) => void} refuse
 */
async function forward(client, name, port, replay, settings, open, refuse) {
  let addresses;
  try {
    addresses = await settings.resolve(name);
  } catch (error) {
    refuse(`does not resolve (${/** @type {NodeJS.ErrnoException} */ (error).code ?? 'error'})`, name);
    return false;
  }
  const usable = addresses.filter((address) => !settings.forbiddenUpstream(address));
  if (usable.length === 0) {
    refuse(addresses.length === 0 ? 'has no address' : `resolves only to addresses the sandbox never dials (${addresses.join(', ')})`, name);
    return false;
  }
  for (const address of usable) {
    const upstream = await connectWithin(address, port, settings.connectTimeoutMs);
    if (!upstream) continue;
    if (client.destroyed) {
      upstream.destroy();
      return false;
    }
    open.add(upstream);
    upstream.once('close', () => open.delete(upstream));
    settings.onEvent({ type: 'allowed', name, port, address });
    pipeBoth(client, upstream, replay, settings.idleTimeoutMs);
    return true;
  }
  refuse(`no address answered on port ${port} (${usable.join(', ')})`, name);
  return false;
}

/**
 * @param {string} address @param {number} port @param {number} timeoutMs
 * @returns {Promise<net.Socket | undefined>}
 */
function connectWithin(address, port, timeoutMs) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port, allowHalfOpen: true });
    const fail = () => {
      socket.destroy();
      resolve(undefined);
    };
    socket.setTimeout(timeoutMs, fail);
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/**
 * @param {net.Socket} client @param {net.Socket} upstream @param {Buffer} replay @param {number} idleTimeoutMs
 */
function pipeBoth(client, upstream, replay, idleTimeoutMs) {
  client.removeAllListeners('error');
  client.removeAllListeners('end');
  const teardown = () => {
    client.destroy();
    upstream.destroy();
  };
  // A reset on one side resets the other, so an error is never passed on as a clean end.
  client.on('error', () => upstream.resetAndDestroy());
  upstream.on('error', () => client.resetAndDestroy());
  // A clean end (FIN) is passed on by pipe(); each socket closes once both
  // directions have ended. A side that never ends is closed when idle.
  client.setTimeout(idleTimeoutMs, teardown);
  upstream.setTimeout(idleTimeoutMs, teardown);
  upstream.pipe(client);
  if (client.readableEnded) {
    upstream.end(replay); // the client half-closed right after its request
  } else {
    upstream.write(replay);
    client.pipe(upstream);
    client.resume();
  }
}
