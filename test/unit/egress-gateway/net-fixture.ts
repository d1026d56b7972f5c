/**
 * Loopback stand-ins for the world outside the sandbox: a test CA and one
 * HTTPS server per address answering two names (allowed.test, other.test),
 * a plain HTTP server, and a fake upstream DNS server whose answers the test
 * changes and whose queries it reads. Nothing leaves 127.0.0.0/8.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import dnsPacket from 'dns-packet';

export interface TestPki {
  ca: string;
  cert: string;
  key: string;
}

/** A CA and one certificate for allowed.test and other.test, made with openssl. */
export async function makeTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-pki-'));
  const file = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await execa('openssl', ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-subj', '/CN=egress test CA', '-days', '2']);
  await execa('openssl', ['req', '-new', ...ec, '-keyout', file('leaf.key'), '-out', file('leaf.csr'), '-subj', '/CN=allowed.test']);
  writeFileSync(file('ext.cnf'), '[ ext ]\nsubjectAltName = DNS:allowed.test,DNS:other.test\nextendedKeyUsage = serverAuth\n');
  await execa('openssl', [
    'x509',
    '-req',
    ...['-in', file('leaf.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-set_serial', '9', '-days', '2'],
    ...['-extfile', file('ext.cnf'), '-extensions', 'ext', '-out', file('leaf.pem')],
  ]);
  return { ca: readFileSync(file('ca.pem'), 'utf8'), cert: readFileSync(file('leaf.pem'), 'utf8'), key: readFileSync(file('leaf.key'), 'utf8') };
}

/**
 * An HTTPS server on host:port that answers `<label> <TLS server name> <Host>`,
 * and /bulk?bytes=N with N bytes.
 */
export async function startNamedHttps(pki: TestPki, host: string, port: number, label: string): Promise<https.Server> {
  const server = https.createServer({ cert: pki.cert, key: pki.key }, (request, response) => {
    const url = new URL(request.url ?? '/', 'https://x');
    if (url.pathname === '/bulk') return sendBulk(response, Number(url.searchParams.get('bytes')));
    const sni = (request.socket as import('node:tls').TLSSocket).servername || '(none)';
    response.end(`${label} ${sni} ${request.headers.host}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}

/** A plain HTTP server on host:port answering `<label> <Host> <Connection>`. */
export async function startNamedHttp(host: string, label: string): Promise<http.Server> {
  const server = http.createServer((request, response) => response.end(`${label} ${request.headers.host} ${request.headers.connection}`));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return server;
}

function sendBulk(response: http.ServerResponse, bytes: number) {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let left = bytes;
  const more = () => {
    while (left > 0) {
      const part = chunk.subarray(0, Math.min(chunk.length, left));
      left -= part.length;
      if (!response.write(part)) return void response.once('drain', more);
    }
    response.end();
  };
  more();
}

export const portOf = (server: net.Server | dgram.Socket) => ('address' in server ? (server.address() as net.AddressInfo).port : 0);

/**
 * A fake upstream resolver over UDP: answers A questions from `records` (an
 * entry `cname:<target>` answers with a CNAME and the target's addresses),
 * NXDOMAIN for names it does not know, and logs every question.
 */
export interface FakeDns {
  port: number;
  records: Map<string, string[]>;
  /** Every name asked, lowercase, in order. */
  asked: string[];
  close: () => Promise<void>;
}

export async function startFakeDns(records: Record<string, string[]>, ttl = 1): Promise<FakeDns> {
  const table = new Map(Object.entries(records));
  const asked: string[] = [];
  const socket = dgram.createSocket('udp4');
  const answersFor = (name: string, depth = 0): dnsPacket.Answer[] | undefined => {
    const found = table.get(name.toLowerCase());
    if (!found || depth > 5) return undefined;
    return found.flatMap((data): dnsPacket.Answer[] => {
      if (!data.startsWith('cname:')) return [{ type: 'A', name, ttl, class: 'IN', data }];
      const target = data.slice('cname:'.length);
      return [{ type: 'CNAME', name, ttl, class: 'IN', data: target }, ...(answersFor(target, depth + 1) ?? [])];
    });
  };
  socket.on('message', (message, from) => {
    const query = dnsPacket.decode(message);
    const question = query.questions?.[0];
    if (!question) return;
    asked.push(question.name.toLowerCase());
    const found = answersFor(question.name);
    const answers = question.type === 'A' ? (found ?? []) : [];
    const rcode = found ? 0 : 3;
    const response = dnsPacket.encode({ type: 'response', id: query.id, flags: dnsPacket.RECURSION_AVAILABLE | rcode, questions: [question], answers });
    socket.send(response, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    records: table,
    asked,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export const closeServer = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));
