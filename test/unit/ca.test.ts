/**
 * The local CA with the real openssl on this machine: made once with 0600/0700
 * modes, an instance's certificate kept and reused, renewed when its names
 * change or it nears expiry, refused when TLS_HOSTNAMES leaves the CA's name
 * constraints; and the constraints honoured by OpenSSL and Node: a
 * certificate for another name, signed by the CA key, is refused by both
 * (with a localhost certificate from the same CA accepted beside it).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, connect, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { UsageError } from '../../package_scripts/errors.js';
import { forgeCertificate } from '../forge-certificate.js';
import { caPaths, ensureCa, ensureInstanceCertificate, findCa, issuedBy, type LocalCa } from '../../package_scripts/tls/ca.js';

const root = mkdtempSync(join(tmpdir(), 'ca-unit-'));
const env = { HOME: join(root, 'home'), MCP_SANDBOX_CA_DIR: join(root, 'config', 'mcp-sandbox', 'ca') };

/** A certificate for `name` signed with the CA's key by plain openssl: what a thief of the key could make. */
const signedFor = (ca: LocalCa, name: string) => forgeCertificate(ca.paths, name, mkdtempSync(join(root, 'forge-')));

/** A TLS handshake from Node to a server presenting `cert`, trusting only the CA, for `servername`. */
function handshake(cert: string, key: string, caPem: string, servername: string): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (socket) => socket.end());
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername, ca: caPem });
      const done = (outcome: string) => {
        socket.destroy();
        server.close(() => resolve(outcome));
      };
      socket.once('secureConnect', () => done(socket.authorized ? 'ok' : `unauthorized: ${socket.authorizationError}`));
      socket.once('error', (error: NodeJS.ErrnoException) => done(`${error.code}: ${error.message}`));
    });
  });
}

describe('the local CA', () => {
  let ca: LocalCa;
  before(async () => {
    const made = await ensureCa(env, 'DNS:box.example,IP:192.168.77.5');
    assert.equal(made.created, true);
    ca = made.ca;
  });
  after(() => undefined);

  it('is made once, its key 0600 in a 0700 folder; a second call finds it', async () => {
    assert.equal(statSync(ca.paths.key).mode & 0o777, 0o600);
    assert.equal(statSync(ca.paths.dir).mode & 0o777, 0o700);
    assert.equal(caPaths(env).dir, env.MCP_SANDBOX_CA_DIR);
    const again = await ensureCa(env, 'DNS:ignored.example');
    assert.equal(again.created, false);
    assert.equal(again.ca.certificate.fingerprint256, ca.certificate.fingerprint256);
    assert.deepEqual(findCa(env)!.constraints, { dns: ['localhost', '.localhost', 'box.example'], ip: ['127.0.0.0/8', '::1/128', '192.168.77.5/32'] });
    const text = (await execa('openssl', ['x509', '-in', ca.paths.cert, '-noout', '-text'])).stdout;
    assert.match(text, /Name Constraints: critical/);
    assert.match(text, /CA:TRUE, pathlen:0/);
  });

  it("without an override it lives in the user's config folder", () => {
    assert.equal(caPaths({ HOME: '/home/ada' }, 'linux').dir, '/home/ada/.config/mcp-sandbox/ca');
    assert.equal(caPaths({ HOME: '/home/ada', XDG_CONFIG_HOME: '/xdg' }, 'linux').dir, '/xdg/mcp-sandbox/ca');
    assert.equal(caPaths({ HOME: '/Users/ada' }, 'darwin').dir, '/Users/ada/Library/Application Support/mcp-sandbox/ca');
  });

  it("signs an instance's certificate for loopback and TLS_HOSTNAMES, kept and reused across starts", async () => {
    const dir = join(root, 'instance-a');
    const first = await ensureInstanceCertificate(ca, dir, 'DNS:box.example');
    assert.equal(first.issued, true);
    assert.equal(statSync(first.keyFile).mode & 0o777, 0o600);
    const chain = readFileSync(first.certFile, 'utf8');
    assert.equal((chain.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'the instance certificate, then the CA');
    const leaf = new X509Certificate(chain);
    assert.ok(issuedBy(leaf, ca));
    assert.equal(leaf.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:box.example');
    assert.equal((await execa('openssl', ['verify', '-CAfile', ca.paths.cert, first.certFile], { reject: false })).exitCode, 0);

    const second = await ensureInstanceCertificate(ca, dir, 'DNS:box.example');
    assert.deepEqual(second, { ...first, issued: false });

    const renamed = await ensureInstanceCertificate(ca, dir, '');
    assert.equal(renamed.issued, true, 'new names, new certificate');
    assert.notEqual(renamed.fingerprint, first.fingerprint);
    const nearExpiry = await ensureInstanceCertificate(ca, dir, '', Date.now() + 380 * 24 * 3600 * 1000);
    assert.equal(nearExpiry.issued, true, 'renewed when fewer than 30 days remain');
  });

  it('refuses a TLS_HOSTNAMES name added after the CA was made, naming the setting and the ways out', async () => {
    await assert.rejects(ensureInstanceCertificate(ca, join(root, 'instance-b'), 'DNS:later.example'), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /TLS_HOSTNAMES names DNS:later\.example, which the local CA .* may not sign/);
      assert.match(error.hint!, /npm run untrust -- --delete/);
      assert.match(error.hint!, /CERT_FILE and KEY_FILE/);
      return true;
    });
  });

  it('its name constraints hold: a certificate for example.com signed with its key is refused by OpenSSL and Node', async () => {
    const forged = await signedFor(ca, 'example.com');
    const verify = await execa('openssl', ['verify', '-CAfile', ca.paths.cert, forged.cert], { reject: false });
    assert.notEqual(verify.exitCode, 0);
    assert.match(`${verify.stdout}\n${verify.stderr}`, /permitted subtree violation/);
    const caPem = readFileSync(ca.paths.cert, 'utf8');
    // Node 20 reports OpenSSL's reason with the code UNSPECIFIED; newer ones may name it.
    assert.match(await handshake(forged.cert, forged.key, caPem, 'example.com'), /permitted subtree violation/i);

    // Positive controls: the same forging path for a permitted name, and a real instance certificate.
    const allowed = await signedFor(ca, 'tool.localhost');
    assert.equal((await execa('openssl', ['verify', '-CAfile', ca.paths.cert, allowed.cert], { reject: false })).exitCode, 0);
    assert.equal(await handshake(allowed.cert, allowed.key, caPem, 'tool.localhost'), 'ok');
    const instance = await ensureInstanceCertificate(ca, join(root, 'instance-c'), '');
    assert.equal(await handshake(instance.certFile, instance.keyFile, caPem, 'localhost'), 'ok');
  });
});
