/**
 * The race against the consent limiter (issue 28, finding 1), shared by the
 * in-process test and the e2e tests through nginx and a tunnel: many consent
 * posts, each sends its headers and the first part of its body, and only when
 * all have done so (and the server has had time to see them) the rest. A
 * limiter that is asked on arrival and told of a wrong secret only after the
 * body was read lets every one of them be compared.
 */
import type { Duplex } from 'node:stream';

export interface RaceOptions {
  /** A new connection to the server (net.connect, tls.connect, ...). */
  connect: () => Duplex;
  /** The Host header. */
  host: string;
  origin: string;
  /** The consent page's CSRF cookie (name=value). */
  cookie: string;
  /** The consent page's hidden fields. */
  fields: Record<string, string>;
  count: number;
  secret: (index: number) => string;
  /** Resolves once the server has the first halves (default: 500 ms). */
  settle?: () => Promise<void>;
  /** Extra request headers (e.g. a made-up Authorization). */
  headers?: Record<string, string>;
}

/** The HTTP status each post was answered with (0: no answer, the connection closed or failed). */
export async function racedConsentPosts(options: RaceOptions): Promise<number[]> {
  const sockets = Array.from({ length: options.count }, (_, index) => {
    const body = new URLSearchParams({ ...options.fields, owner_secret: options.secret(index), decision: 'allow' }).toString();
    const head = [
      'POST /authorize HTTP/1.1',
      `Host: ${options.host}`,
      `Origin: ${options.origin}`,
      `Cookie: ${options.cookie}`,
      'Content-Type: application/x-www-form-urlencoded',
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
      'Connection: close',
      '',
      '',
    ].join('\r\n');
    const socket = options.connect();
    let answer = '';
    const status = new Promise<number>((resolve) => {
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.on('error', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
      socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    });
    const half = Math.floor(body.length / 2);
    socket.write(head + body.slice(0, half));
    return { socket, rest: body.slice(half), status };
  });
  await (options.settle ? options.settle() : new Promise((resolve) => setTimeout(resolve, 500)));
  for (const { socket, rest } of sockets) socket.write(rest);
  return Promise.all(sockets.map(({ status }) => status));
}
