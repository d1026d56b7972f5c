/**
 * The local CA and `npm run trust`, end to end. An nginx instance started by
 * the real CLI serves a certificate signed by the tests' local CA. A
 * throw-away Debian container (node:22-bookworm-slim with ca-certificates,
 * openssl, curl and NSS's certutil from Debian's mirror; host network, so
 * that it reaches the instance on loopback as a local client does) runs the
 * same CLI's `trust` and `untrust`:
 *   - before: curl and Node refuse the instance's certificate;
 *   - `trust` without a terminal prints the commands and changes nothing;
 *   - `trust --yes`: curl and Node (NODE_USE_SYSTEM_CA=1) complete an MCP
 *     initialize with no --cacert and no NODE_EXTRA_CA_CERTS; the CA is in
 *     the NSS database too;
 *   - the name constraint holds against the trusted CA: a certificate for
 *     example.com signed with the CA's key is refused by `openssl verify` and
 *     by Node, while one for a permitted name, forged the same way, passes;
 *   - `untrust --yes` undoes all of it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { findCa, type LocalCa } from '../../package_scripts/tls/ca.js';
import { forgeCertificate } from '../forge-certificate.js';
import { cli, createInstance, docker, projectDir, removeInstance, type Instance } from './harness.js';

const CLIENT_IMAGE = 'mcps-e2e-trust-client';
const CLIENT = 'mcps-e2e-trust-client';
const DOCKERFILE = `FROM node:22-bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates openssl curl libnss3-tools && rm -rf /var/lib/apt/lists/*
`;

/** What a client sends first: an MCP initialize. */
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'trust-e2e', version: '1.0.0' } },
});

/** Node inside the client: an MCP initialize through the system store only (the token comes from the environment). */
const NODE_CLIENT = `
const response = await fetch(process.env.URL, {
  method: 'POST',
  headers: { Authorization: 'Bearer ' + process.env.TOKEN, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
  body: process.env.BODY,
}).catch((error) => { console.log('refused: ' + (error.cause?.message ?? error.message)); process.exit(3); });
console.log('status ' + response.status + ' ' + (await response.text()).includes('serverInfo'));
`;

/** Node inside the client: a TLS server with the forged certificate, and a client trusting only the system store, for that name. */
const NODE_FORGED = `
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:tls';
const [cert, key, name] = process.argv.slice(2);
const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (s) => s.end());
server.listen(0, '127.0.0.1', () => {
  const socket = connect({ host: '127.0.0.1', port: server.address().port, servername: name });
  socket.once('secureConnect', () => { console.log(socket.authorized ? 'accepted' : 'unauthorized'); socket.destroy(); server.close(); });
  socket.once('error', (error) => { console.log('refused: ' + error.message); server.close(); });
});
`;

describe('the local CA: trust and untrust in a throw-away Debian container', { timeout: 900_000 }, () => {
  let instance: Instance;
  let ca: LocalCa;
  const scratch = mkdtempSync(join(tmpdir(), 'trust-e2e-'));

  /** A command in the client container, with the instance's URL and token in its environment (never on a command line). */
  const inClient = (command: string, env: Record<string, string> = {}) =>
    execa('docker', ['exec', ...Object.keys({ URL: '', TOKEN: '', BODY: '', ...env }).flatMap((name) => ['--env', name]), CLIENT, 'bash', '-c', command], {
      reject: false,
      all: true,
      env: { URL: `https://localhost:${instance.port}/mcp`, TOKEN: instance.token, BODY: INITIALIZE, ...env },
    });
  const curlInitialize = () =>
    inClient(
      'curl -sS -o /dev/null -w "%{http_code}" -X POST "$URL" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -H "Accept: application/json, text/event-stream" --data "$BODY"',
    );
  const nodeInitialize = () => inClient('NODE_USE_SYSTEM_CA=1 node /scratch/client.mjs');
  const cliInClient = (args: string) => inClient(`cd /app && node -- dist/package_scripts/main.js ${args} </dev/null`);

  /** A certificate for `name` signed with the CA's key by plain openssl (what a thief of the key could make), as /scratch/NAME.pem and NAME-key.pem. */
  const forge = (name: string) => forgeCertificate(ca.paths, name, scratch);

  before(async () => {
    const built = await execa('docker', ['build', '-q', '-t', CLIENT_IMAGE, '-'], { input: DOCKERFILE, reject: false, all: true });
    assert.equal(built.exitCode, 0, built.all);
    instance = await createInstance('mcps-e2e-ca');
    const image = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(image.exitCode, 0, image.all);
    writeFileSync(join(scratch, 'client.mjs'), NODE_CLIENT);
    writeFileSync(join(scratch, 'forged.mjs'), NODE_FORGED);
  });

  after(async () => {
    await docker(['rm', '-f', CLIENT]);
    if (instance) await removeInstance(instance);
  });

  test('start signs the instance certificate with the local CA, and keeps it across a restart', async () => {
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    assert.match(started.stdout, /Made the local CA/);
    assert.match(started.stdout, /Signed by the local CA .*npm run trust/);
    ca = findCa(process.env)!;
    assert.ok(ca, 'the CA is in MCP_SANDBOX_CA_DIR');
    const served = readFileSync(join(instance.dir, '.mcp-sandbox', instance.name, 'cert.pem'), 'utf8');
    assert.equal((served.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'nginx serves the certificate and the CA');
    const fingerprint = /SHA-256: +(\S+)/.exec(started.stdout)![1];
    const logs = await cli(['logs', '--env-file', instance.envFile]);
    assert.match(logs.all, /serving the certificate the local CA signed on the host/);

    const again = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(again.exitCode, 0, again.all);
    assert.doesNotMatch(again.stdout, /Signed a new certificate/);
    assert.equal(/SHA-256: +(\S+)/.exec(again.stdout)![1], fingerprint, 'the same certificate after a restart');

    const connect = JSON.parse((await cli(['connect', '--json', '--env-file', instance.envFile])).stdout);
    assert.equal(
      connect.clients['claude-desktop'].mcpServers[instance.name].env.NODE_EXTRA_CA_CERTS,
      ca.paths.cert,
      'untrusted here: the CA file, one for every instance',
    );

    const run = await docker([
      'run',
      '--detach',
      '--rm',
      ...['--name', CLIENT],
      // Loopback of this machine, where the instance is published (the CA's names: localhost, 127.0.0.1, ::1).
      ...['--network', 'host'],
      ...['--mount', `type=bind,source=${projectDir},target=/app,readonly`],
      ...['--mount', `type=bind,source=${ca.paths.dir},target=/ca,readonly`],
      ...['--mount', `type=bind,source=${scratch},target=/scratch,readonly`],
      ...['--env', 'MCP_SANDBOX_CA_DIR=/ca'],
      CLIENT_IMAGE,
      'sleep',
      '900',
    ]);
    assert.equal(run.exitCode, 0, run.stderr);
    // Chromium's NSS database, as a desktop user has it.
    const nss = await inClient('mkdir -p /root/.pki/nssdb && certutil -N --empty-password -d sql:/root/.pki/nssdb');
    assert.equal(nss.exitCode, 0, nss.all);
  });

  test('before trust: curl and Node refuse the certificate', async () => {
    const curl = await curlInitialize();
    assert.equal(curl.exitCode, 60, `curl: ${curl.all}`);
    const node = await nodeInitialize();
    assert.equal(node.exitCode, 3, node.all);
    assert.match(node.stdout, /refused: .*(issuer|self.signed)/i);
  });

  test('trust without a terminal prints the exact commands and changes nothing', async () => {
    const printed = await cliInClient('trust');
    assert.equal(printed.exitCode, 0, printed.all);
    assert.match(printed.stdout, new RegExp(`install -m 0644 /ca/ca.pem /usr/local/share/ca-certificates/mcp-sandbox-${ca.id}.crt`));
    assert.match(printed.stdout, /^ {2}update-ca-certificates /m);
    assert.match(printed.stdout, /certutil -d sql:\/root\/.pki\/nssdb -A -t C,, -n 'mcp-sandbox local CA [0-9a-f]{16}' -i \/ca\/ca.pem/);
    assert.match(printed.stdout, /Signs only: localhost and \*\.localhost, 127\.0\.0\.0\/8, ::1\/128/);
    assert.match(printed.stdout, /Nothing changed/);
    assert.equal((await curlInitialize()).exitCode, 60, 'still refused');
  });

  test('trust --yes: curl and Node reach the instance with no certificate option; the CA is in the NSS database', async () => {
    const trusted = await cliInClient('trust --yes');
    assert.equal(trusted.exitCode, 0, trusted.all);
    assert.match(trusted.stdout, /The system trust store now trusts the local CA/);
    const curl = await curlInitialize();
    assert.equal(curl.exitCode, 0, curl.all);
    assert.equal(curl.stdout, '200');
    const node = await nodeInitialize();
    assert.equal(node.exitCode, 0, node.all);
    assert.equal(node.stdout.trim(), 'status 200 true');
    const listed = await inClient(`certutil -L -d sql:/root/.pki/nssdb -n 'mcp-sandbox local CA ${ca.id}'`);
    assert.equal(listed.exitCode, 0, listed.all);
  });

  test('the name constraint holds while the CA is trusted: example.com signed with its key is refused by OpenSSL and Node', async () => {
    await forge('example.com');
    await forge('tool.localhost');
    const refused = await inClient('openssl verify /scratch/example.com.pem');
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.all, /permitted subtree violation/);
    const control = await inClient('openssl verify /scratch/tool.localhost.pem');
    assert.equal(control.exitCode, 0, `the same forging path for a permitted name passes: ${control.all}`);

    const nodeRefused = await inClient('NODE_USE_SYSTEM_CA=1 node /scratch/forged.mjs /scratch/example.com.pem /scratch/example.com-key.pem example.com');
    assert.match(nodeRefused.stdout, /refused: permitted subtree violation/, nodeRefused.all);
    const nodeControl = await inClient(
      'NODE_USE_SYSTEM_CA=1 node /scratch/forged.mjs /scratch/tool.localhost.pem /scratch/tool.localhost-key.pem tool.localhost',
    );
    assert.equal(nodeControl.stdout.trim(), 'accepted', nodeControl.all);
  });

  test('untrust --yes undoes it: curl and Node refuse again, the NSS database no longer has it', async () => {
    const undone = await cliInClient('untrust --yes');
    assert.equal(undone.exitCode, 0, undone.all);
    assert.match(undone.stdout, /no longer in the system trust store/);
    assert.equal((await curlInitialize()).exitCode, 60);
    assert.equal((await nodeInitialize()).exitCode, 3);
    const listed = await inClient(`certutil -L -d sql:/root/.pki/nssdb -n 'mcp-sandbox local CA ${ca.id}'`);
    assert.notEqual(listed.exitCode, 0);
  });
});
