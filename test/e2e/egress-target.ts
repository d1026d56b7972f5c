/**
 * The by-name egress target (issue 23) and the items every template runs
 * against it: one HTTPS/HTTP container of the test's own, on a network the
 * test creates, answering `allowed.test`, `other.test`, `wild.test` and
 * `a.wild.test` on ONE address (network aliases, one self-signed certificate
 * with every name). The probe server runs a small Node.js client inside the
 * instance (as "mcp", like any MCP server). No traffic leaves the test's network.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { execa } from 'execa';
import { addressOf, TARGET_IMAGE } from './battery.js';
import { callJson } from './harness.js';

export const TARGET_NAMES = ['allowed.test', 'other.test', 'wild.test', 'a.wild.test'];

// HTTPS on 443 and HTTP on 80, each answering with what it was asked (the TLS
// server name it saw, the Host header) and its own container name; a UDP echo on 9999.
const TARGET_SERVER = `
const fs = require('fs'), https = require('https'), http = require('http');
const answer = (req, res) => res.end(JSON.stringify({ who: process.env.WHO, sni: req.socket.servername || null, host: req.headers.host }));
https.createServer({ cert: fs.readFileSync('/certs/cert.pem'), key: fs.readFileSync('/certs/key.pem') }, answer).listen(443);
http.createServer(answer).listen(80);
const udp = require('dgram').createSocket('udp4');
udp.on('message', (m, from) => udp.send('echo', from.port, from.address));
udp.bind(9999);
`;

/**
 * Run inside the instance by the probe server (as the MCP server's user):
 *   https HOST SNI|'' HOSTHEADER   http HOST HOSTHEADER   dns NAME   udp HOST PORT
 * Prints one JSON line: { ok: true, ... } or { ok: false, code }.
 */
export const NAME_CLIENT = `
const [kind, host, a, b] = process.argv.slice(1);
const done = (r) => { console.log(JSON.stringify(r)); process.exit(0); };
setTimeout(() => done({ ok: false, code: 'TIMEOUT' }), 12000);
if (kind === 'udp') {
  const socket = require('dgram').createSocket('udp4');
  socket.on('message', (m) => done({ ok: true, text: String(m) }));
  socket.on('error', (e) => done({ ok: false, code: e.code }));
  socket.send('ping', Number(a), host);
  setTimeout(() => done({ ok: false, code: 'NO_ANSWER' }), 3000);
} else if (kind === 'dns') {
  require('dns').promises.lookup(host).then((r) => done({ ok: true, address: r.address }), (e) => done({ ok: false, code: e.code }));
} else {
  const mod = require(kind);
  const options = kind === 'https'
    ? { host, port: 443, servername: a, rejectUnauthorized: false, headers: { host: b } }
    : { host, port: 80, headers: { host: a } };
  const req = mod.get(options, (res) => { let body = ''; res.on('data', (d) => (body += d)); res.on('end', () => done({ ok: true, status: res.statusCode, ...JSON.parse(body) })); });
  req.on('error', (e) => done({ ok: false, code: e.code }));
}
`;

/** A folder with cert.pem and key.pem for every target name (the client does not check it: the name is what is tested). */
export async function makeTargetCertificates(): Promise<string> {
  const certs = mkdtempSync(join(tmpdir(), 'mcps-e2e-names-certs-'));
  await execa('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'],
    ...['-keyout', join(certs, 'key.pem'), '-out', join(certs, 'cert.pem')],
    ...['-subj', '/CN=allowed.test', '-addext', `subjectAltName=${TARGET_NAMES.map((n) => `DNS:${n}`).join(',')}`],
  ]);
  await execa('chmod', ['0644', join(certs, 'key.pem')]);
  return certs;
}

/**
 * The target on NETWORK under every name (its container name in WHO); returns its IPv4 address there.
 * On Podman's own CLI (kube-play.test.ts) the base image is in Podman's store as localhost/.
 */
export async function startNameTarget(container: string, network: string, certs: string, engine: 'docker' | 'podman' = 'docker'): Promise<string> {
  const run = (args: string[]) => execa(engine, args, { reject: false });
  await run(['rm', '-f', container]);
  const aliases = TARGET_NAMES.flatMap((n) => ['--network-alias', n]);
  const started = await run([
    ...['run', '-d', '--name', container, '--network', network, ...aliases],
    ...['-e', `WHO=${container}`, '-v', `${certs}:/certs:ro`],
    ...[engine === 'podman' ? `localhost/${TARGET_IMAGE}` : TARGET_IMAGE, 'node', '-e', TARGET_SERVER],
  ]);
  assert.equal(started.exitCode, 0, started.stderr);
  if (engine === 'docker') return addressOf(container, network);
  const inspected = await run(['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container]);
  assert.match(inspected.stdout.trim(), /^\d+\.\d+\.\d+\.\d+$/, `${container} on ${network}: ${inspected.stderr}`);
  return inspected.stdout.trim();
}

/** NAME_CLIENT run inside the instance through the probe server's run_binary tool. */
export async function inside(client: Client, ...args: string[]): Promise<any> {
  const run = await callJson(client, 'run_binary', { path: '/usr/local/bin/node', args: ['-e', NAME_CLIENT, ...args] });
  assert.equal(run.status, 0, JSON.stringify(run));
  return JSON.parse(run.stdout.trim());
}

/**
 * NAME_CLIENT run inside CONTAINER by `ENGINE exec --user mcp` (the MCP server's user, whose
 * connections the firewall hands to the enforcer): for instances started by Compose or
 * `podman kube play`, whose default server has no tool that runs a program.
 */
export async function insideAsServerUser(engine: 'docker' | 'podman', container: string, ...args: string[]): Promise<any> {
  const run = await execa(engine, ['exec', '--user', 'mcp', container, 'node', '-e', NAME_CLIENT, ...args], { reject: false });
  assert.equal(run.exitCode, 0, run.stderr);
  return JSON.parse(run.stdout.trim());
}

export interface NameItemsContext {
  /** A client of an instance started with MCP_EGRESS=allowed.test, on the target's network. */
  client: Client;
  /** The target's address (which allowed.test resolves to). */
  targetAddress: string;
}

/**
 * The by-name items of the escape battery, for every template: the allowed
 * name reached (control); another name on the same address refused by its TLS
 * name; a ClientHello without a name refused; the other name not resolved.
 */
export function egressByNameItems(context: () => NameItemsContext): void {
  test('E1. MCP_EGRESS=allowed.test: the allowed name resolves inside and is reached over HTTPS with its TLS name (control)', async () => {
    const { client, targetAddress } = context();
    assert.deepEqual(await inside(client, 'dns', 'allowed.test'), { ok: true, address: targetAddress });
    const tls = await inside(client, 'https', 'allowed.test', 'allowed.test', 'allowed.test');
    assert.deepEqual([tls.ok, tls.status, tls.sni], [true, 200, 'allowed.test'], JSON.stringify(tls));
  });

  test('E2. another name on the same address is refused by its TLS name, even dialling the allowed address (control: the allowed name there passes)', async () => {
    const { client, targetAddress } = context();
    const refused = await inside(client, 'https', targetAddress, 'other.test', 'other.test');
    assert.equal(refused.ok, false, JSON.stringify(refused));
    const control = await inside(client, 'https', targetAddress, 'allowed.test', 'allowed.test');
    assert.deepEqual([control.ok, control.sni], [true, 'allowed.test'], JSON.stringify(control));
  });

  test('E3. a ClientHello without a server name is refused (control: E2, the same address with one)', async () => {
    const { client, targetAddress } = context();
    const refused = await inside(client, 'https', targetAddress, '', 'allowed.test');
    assert.equal(refused.ok, false, JSON.stringify(refused));
  });

  test('E4. the other name does not resolve inside, nor does a made-up name under it (control: E1)', async () => {
    const { client } = context();
    assert.deepEqual(await inside(client, 'dns', 'other.test'), { ok: false, code: 'ENOTFOUND' });
    assert.deepEqual(await inside(client, 'dns', `x${Date.now()}.other.test`), { ok: false, code: 'ENOTFOUND' });
    assert.equal((await inside(client, 'dns', 'allowed.test')).ok, true);
  });
}
