/**
 * ClientHellos for the tests: real ones, as Node's TLS client sends them to a
 * loopback listener, and synthetic ones built byte by byte, for the shapes a
 * real client rarely sends (a hello across records, two names, padding).
 */
import net from 'node:net';
import tls from 'node:tls';

/** The first bytes Node's TLS client sends (its whole ClientHello), for these connect options. */
export async function realClientHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    return await new Promise<Buffer>((resolve) => {
      server.once('connection', (socket) => {
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          const bytes = Buffer.concat(chunks);
          // The record's own length says when the hello is whole (one record from Node).
          if (bytes.length >= 5 && bytes.length >= 5 + bytes.readUInt16BE(3)) {
            socket.destroy();
            resolve(bytes);
          }
        });
      });
      const client = tls.connect({ host: '127.0.0.1', port, ...options });
      client.on('error', () => undefined);
    });
  } finally {
    server.close();
  }
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);

function extension(type: number, data: Buffer): Buffer {
  return Buffer.concat([u16(type), u16(data.length), data]);
}

/** A server_name extension with these host names (RFC 6066). */
export function sniExtension(...names: string[]): Buffer {
  const list = Buffer.concat(names.map((name) => Buffer.concat([Buffer.from([0]), u16(Buffer.byteLength(name)), Buffer.from(name, 'latin1')])));
  return extension(0, Buffer.concat([u16(list.length), list]));
}

/** A handshake message: a ClientHello body with these extensions (none: no extensions block at all). */
export function clientHelloMessage(extensions: Buffer[] | undefined): Buffer {
  const body = Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32, 7), // random
    Buffer.from([0]), // session id
    u16(2),
    u16(0x1301), // one cipher suite
    Buffer.from([1, 0]), // compression: null
    ...(extensions === undefined ? [] : [u16(Buffer.concat(extensions).length), ...extensions]),
  ]);
  return Buffer.concat([Buffer.from([1]), u24(body.length), body]);
}

/** Options for the synthetic hello. */
export interface HelloShape {
  names?: string[];
  /** Bytes of a padding extension (type 21), to make the hello large. */
  padding?: number;
  ech?: boolean;
  /** Split the handshake message into records of at most this many bytes. */
  recordSize?: number;
}

/** A ClientHello in TLS records. */
export function syntheticClientHello({ names = ['allowed.test'], padding = 0, ech = false, recordSize = 16384 }: HelloShape = {}): Buffer {
  const extensions = [
    ...(names.length > 0 ? [sniExtension(...names)] : []),
    ...(ech ? [extension(0xfe0d, Buffer.alloc(40, 1))] : []),
    ...(padding > 0 ? [extension(21, Buffer.alloc(padding))] : []),
  ];
  return inRecords(clientHelloMessage(extensions), recordSize);
}

/** A handshake message cut into TLS handshake records. */
export function inRecords(message: Buffer, recordSize = 16384): Buffer {
  const records: Buffer[] = [];
  for (let at = 0; at < message.length; at += recordSize) {
    const fragment = message.subarray(at, at + recordSize);
    records.push(Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(fragment.length), fragment]));
  }
  return Buffer.concat(records);
}
