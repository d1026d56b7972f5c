/**
 * Slow clients for nginx's connection limits: TLS connections that send part of
 * a request and then stall (or trickle a byte now and then), each reporting the
 * status nginx answered, if any, and when nginx closed it.
 */
import { connect, type TLSSocket } from 'node:tls';

export interface SlowClient {
  /** Resolves when the server closed the connection: the status it answered (0 if none) and when it closed (epoch ms). */
  closed: Promise<{ status: number; at: number }>;
  /** Resolves with the status as soon as the server answers (the connection may stay open). */
  answered: Promise<number>;
  socket: TLSSocket;
  /** Send one more byte of the body every `everyMs` until stop(). */
  trickle(everyMs: number): void;
  stop(): void;
}

export function slowClient(port: number, certificate: string, opening: string): SlowClient {
  const socket = connect({ host: '127.0.0.1', port, ca: certificate, servername: 'localhost' });
  let answer = '';
  let timer: NodeJS.Timeout | undefined;
  socket.setEncoding('utf8');
  socket.on('secureConnect', () => socket.write(opening));
  let answeredWith: (status: number) => void = () => undefined;
  const answered = new Promise<number>((resolve) => (answeredWith = resolve));
  const status = () => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
  socket.on('data', (chunk: string) => {
    answer += chunk;
    if (status()) answeredWith(status());
  });
  socket.on('error', () => undefined);
  const closed = new Promise<{ status: number; at: number }>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ status: status(), at: Date.now() });
    }),
  );
  return {
    closed,
    answered,
    socket,
    trickle(everyMs) {
      timer = setInterval(() => socket.write('x'), everyMs);
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** The headers of a request whose body (of `length` bytes) is still to come. */
export const slowBodyOpening = (path: string, length = 1000) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n\r\nx`;
/** Half a request head: the blank line that would end it never comes. */
export const slowHeaderOpening = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
