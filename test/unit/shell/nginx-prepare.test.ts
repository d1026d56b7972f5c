/**
 * The TLS branches of docker/nginx/gateway/prepare, run for real with the real
 * openssl and a fake setpriv/install: the image's own paths live under a
 * temporary folder (SANDBOX_TEST_ROOT), RUN_DIR beside it. The e2e suite serves
 * these certificates through nginx; this covers every branch in a second.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { projectDir, runWithFakes, type Run } from './fakes.js';

const PREPARE = join(projectDir, 'docker', 'nginx', 'gateway', 'prepare');
const FIXTURES = join(projectDir, 'test', 'fixtures', 'tls');
const TOKEN = 'a'.repeat(64);

interface Instance {
  dir: string;
  root: string;
  runDir: string;
  /** The named volume's folder (/var/lib/mcp-sandbox/tls). */
  volume: string;
  /** Where CERT_FILE and KEY_FILE are mounted (/etc/mcp-sandbox/user-tls). */
  userTls: string;
  prepare(env?: Record<string, string>): Promise<Run>;
  remove(): void;
}

/** A container's filesystem as prepare sees it, with or without the certificate volume. */
function instance(options: { volume: boolean }): Instance {
  const dir = mkdtempSync(join(tmpdir(), 'mcps-prepare-'));
  const root = join(dir, 'root');
  const runDir = join(dir, 'run');
  const volume = join(root, 'var', 'lib', 'mcp-sandbox', 'tls');
  mkdirSync(join(root, 'opt', 'sandbox', 'gateway'), { recursive: true });
  copyFileSync(join(projectDir, 'docker', 'nginx', 'gateway', 'nginx.conf.template'), join(root, 'opt', 'sandbox', 'gateway', 'nginx.conf.template'));
  mkdirSync(join(runDir, 'gateway'), { recursive: true }); // made by the entrypoint
  if (options.volume) mkdirSync(volume, { recursive: true });
  return {
    dir,
    root,
    runDir,
    volume,
    userTls: join(root, 'etc', 'mcp-sandbox', 'user-tls'),
    prepare: (env = {}) => runWithFakes(PREPARE, [], { ACCESS_TOKEN: TOKEN, RUN_DIR: runDir, SANDBOX_TEST_ROOT: root, ...env }, dir),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function withInstance(options: { volume: boolean }, body: (i: Instance) => Promise<void>): Promise<void> {
  const i = instance(options);
  try {
    await body(i);
  } finally {
    i.remove();
  }
}

/** The certificate prepare published for the CLI, and the fingerprint it logged. */
function served(i: Instance, run: Run): X509Certificate {
  assert.equal(run.status, 0, run.stderr);
  const file = join(i.runDir, 'served-cert.pem');
  assert.equal(statSync(file).mode & 0o777, 0o644);
  const certificate = new X509Certificate(readFileSync(file));
  assert.match(run.stdout, new RegExp(`TLS certificate SHA-256 fingerprint: ${certificate.fingerprint256}\\n`));
  return certificate;
}

const nginxConf = (i: Instance) => readFileSync(join(i.runDir, 'gateway', 'nginx.conf'), 'utf8');

/** nginx.conf serves the certificate and key of folder `dir`. */
function assertServesFrom(i: Instance, dir: string) {
  const conf = nginxConf(i);
  const lines = conf.split('\n').map((line) => line.trim().split(/\s+/).join(' '));
  assert.ok(lines.includes(`ssl_certificate ${dir}/cert.pem;`), conf);
  assert.ok(lines.includes(`ssl_certificate_key ${dir}/key.pem;`), conf);
}

describe('nginx prepare: the self-signed certificate', { concurrency: true }, () => {
  test('is made in the volume on the first start: key 0600, certificate 0644, the loopback names and TLS_HOSTNAMES', () =>
    withInstance({ volume: true }, async (i) => {
      const run = await i.prepare({ TLS_HOSTNAMES: 'DNS:mcp.example.test,IP:192.0.2.7' });
      const certificate = served(i, run);
      assert.match(run.stdout, /created a self-signed TLS certificate/);
      assert.equal(statSync(join(i.volume, 'key.pem')).mode & 0o777, 0o600);
      assert.equal(statSync(join(i.volume, 'cert.pem')).mode & 0o777, 0o644);
      assert.equal(readFileSync(join(i.volume, 'cert.pem'), 'utf8'), readFileSync(join(i.runDir, 'served-cert.pem'), 'utf8'));
      assert.equal(certificate.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:mcp.example.test, IP Address:192.0.2.7');
      assert.ok(certificate.checkPrivateKey((await import('node:crypto')).createPrivateKey(readFileSync(join(i.volume, 'key.pem')))));
      // Made and read as "gateway"; nginx serves it from the volume, and answers the certificate's names.
      assert.ok(run.calls.some((c) => c[0] === 'setpriv' && c[1] === '--reuid=gateway' && c.includes('openssl')));
      assertServesFrom(i, i.volume);
      const conf = nginxConf(i);
      assert.ok(conf.includes('"mcp.example.test" 1;'));
      assert.ok(conf.includes('"https://mcp.example.test:443" 1;'));
      assert.ok(conf.includes(TOKEN));
    }));

  test('is kept across restarts: the second start serves the same certificate and makes none', () =>
    withInstance({ volume: true }, async (i) => {
      const first = await i.prepare();
      assert.match(first.stdout, /created a self-signed TLS certificate/); // positive control
      const before = served(i, first).fingerprint256;
      const second = await i.prepare();
      assert.doesNotMatch(second.stdout, /created/);
      assert.equal(served(i, second).fingerprint256, before);
      assert.ok(!second.calls.some((c) => c.includes('openssl')), 'no certificate made as "gateway"');
    }));

  test('without a volume (read-only root): one for this run only, in the gateway folder', () =>
    withInstance({ volume: false }, async (i) => {
      const run = await i.prepare();
      served(i, run);
      const runOnly = join(i.runDir, 'gateway', 'tls');
      assert.ok(existsSync(join(runOnly, 'key.pem')));
      assert.ok(!existsSync(i.volume));
      assert.deepEqual(
        run.calls.filter((c) => c[0] === 'install'),
        [['install', '-d', '-o', 'gateway', '-g', 'gateway', '-m', '0755', runOnly]],
      );
      assertServesFrom(i, runOnly);
    }));

  test("what reaches the session gateway: no Authorization and no Cookie header (the consent page's cookie stays at the front door)", () =>
    withInstance({ volume: true }, async (i) => {
      const run = await i.prepare({});
      assert.equal(run.status, 0, run.stderr);
      const proxied = nginxConf(i).split('location / {')[1]?.split('\n        }')[0] ?? '';
      assert.match(proxied, /proxy_pass http:\/\/session_gateway;/, 'control: this is the block that proxies to the session gateway');
      assert.match(proxied, /proxy_set_header Authorization "";/);
      assert.match(proxied, /proxy_set_header Cookie "";/);
    }));

  test('a TLS_HOSTNAMES openssl refuses: exit 78 naming the setting', () =>
    withInstance({ volume: true }, async (i) => {
      const run = await i.prepare({ TLS_HOSTNAMES: 'mcp.example.test' });
      assert.equal(run.status, 78);
      assert.match(run.stderr, /could not create the TLS certificate \(check TLS_HOSTNAMES/);
    }));
});

describe('nginx prepare: CERT_FILE and KEY_FILE', { concurrency: true }, () => {
  /** Mounts the two files (either may be left out) as the CLI does, read-only at user-tls. */
  function mount(i: Instance, cert?: string, key?: string) {
    mkdirSync(i.userTls, { recursive: true });
    if (cert !== undefined) writeFileSync(join(i.userTls, 'cert.pem'), cert);
    if (key !== undefined) writeFileSync(join(i.userTls, 'key.pem'), key, { mode: 0o600 });
  }
  const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

  test("a matching pair is served as given, read as the files' owner, and nothing is made", () =>
    withInstance({ volume: true }, async (i) => {
      mount(i, fixture('leaf.pem'), fixture('leaf-key.pem'));
      const run = await i.prepare();
      const certificate = served(i, run);
      assert.match(run.stdout, /serving the certificate from CERT_FILE/);
      assert.equal(certificate.fingerprint256, new X509Certificate(fixture('leaf.pem')).fingerprint256);
      assert.doesNotMatch(run.stdout, /created/);
      assert.equal(readFileSync(join(i.runDir, 'gateway', 'tls', 'key.pem'), 'utf8'), fixture('leaf-key.pem'));
      const uid = String(statSync(join(i.userTls, 'key.pem')).uid);
      // Through the folder closed to "mcp" (root:gateway 0710 in the image): "gateway" is the reader's only extra group.
      const read = run.calls.find((c) => c[0] === 'setpriv' && c[1] === `--reuid=${uid}` && c.at(-1) === join(i.userTls, 'key.pem'));
      assert.ok(read?.includes('--groups=gateway'), JSON.stringify(read));
      assertServesFrom(i, join(i.runDir, 'gateway', 'tls'));
    }));

  const refused: Array<[string, string | undefined, string | undefined, RegExp]> = [
    ['only the certificate', 'leaf.pem', undefined, /CERT_FILE and KEY_FILE must be given together/],
    ['only the key', undefined, 'leaf-key.pem', /CERT_FILE and KEY_FILE must be given together/],
    ['a certificate that is not PEM', 'README.md', 'leaf-key.pem', /CERT_FILE is not a PEM certificate/],
    ['a key that is not a key', 'leaf.pem', 'leaf.pem', /KEY_FILE is not an unencrypted PEM private key/],
    ['the key of another certificate', 'leaf.pem', 'other-key.pem', /KEY_FILE is not the private key of CERT_FILE/],
  ];
  for (const [name, cert, key, message] of refused) {
    test(`refuses ${name} (exit 78)`, () =>
      withInstance({ volume: true }, async (i) => {
        mount(i, cert && fixture(cert), key && fixture(key));
        const run = await i.prepare();
        assert.equal(run.status, 78, run.stdout + run.stderr);
        assert.match(run.stderr, message);
        assert.ok(!existsSync(join(i.runDir, 'served-cert.pem')), 'nothing published');
        assert.ok(!existsSync(join(i.runDir, 'gateway', 'nginx.conf')), 'no nginx.conf');
      }));
  }
});

describe('nginx prepare: the token', { concurrency: true }, () => {
  for (const [name, token, message] of [
    ['missing', '', /ACCESS_TOKEN is not set/],
    ['not hex (it is written into nginx.conf)', `${'a'.repeat(32)}";`, /ACCESS_TOKEN must be 32 to 256 hex characters/],
  ] as const) {
    test(`refuses a token ${name} (exit 78) before any certificate`, () =>
      withInstance({ volume: true }, async (i) => {
        const run = await i.prepare({ ACCESS_TOKEN: token });
        assert.equal(run.status, 78);
        assert.match(run.stderr, message);
        assert.deepEqual(run.calls, []);
      }));
  }
});

describe('nginx prepare: AUTH chooses the included auth block; AUTH=oauth needs the resource start decided', { concurrency: true }, () => {
  const included = (i: Instance) => nginxConf(i).match(/^\s*include (\S+);$/m)?.[1];

  test('AUTH unset or bearer: auth-bearer.conf (positive control)', () =>
    withInstance({ volume: true }, async (i) => {
      assert.equal((await i.prepare()).status, 0);
      assert.equal(included(i), '/opt/sandbox/gateway/auth-bearer.conf');
      assert.equal((await i.prepare({ AUTH: 'bearer' })).status, 0);
      assert.equal(included(i), '/opt/sandbox/gateway/auth-bearer.conf');
    }));

  test('AUTH=oauth with a resource: auth-oauth.conf', () =>
    withInstance({ volume: true }, async (i) => {
      for (const resource of ['https://127.0.0.1:8443/mcp', 'https://mcp.example.com/mcp', 'https://[::1]:9443/mcp']) {
        const run = await i.prepare({ AUTH: 'oauth', AUTH_RESOURCE: resource });
        assert.equal(run.status, 0, run.stderr);
        assert.equal(included(i), '/opt/sandbox/gateway/auth-oauth.conf', resource);
      }
    }));

  for (const [name, env] of [
    ['AUTH neither bearer nor oauth', { AUTH: 'sso' }],
    ['AUTH=oauth without AUTH_RESOURCE', { AUTH: 'oauth' }],
    ['AUTH=oauth with a plain http resource', { AUTH: 'oauth', AUTH_RESOURCE: 'http://127.0.0.1:8443/mcp' }],
    ['AUTH=oauth with a resource that is not /mcp', { AUTH: 'oauth', AUTH_RESOURCE: 'https://127.0.0.1:8443/other' }],
    ['AUTH=oauth with quotes in the resource', { AUTH: 'oauth', AUTH_RESOURCE: 'https://x";/mcp' }],
  ] as const) {
    test(`refuses ${name} (exit 78) before any certificate or configuration`, () =>
      withInstance({ volume: true }, async (i) => {
        const run = await i.prepare(env);
        assert.equal(run.status, 78);
        assert.match(run.stderr, /AUTH/);
        assert.deepEqual(run.calls, []);
        assert.equal(existsSync(join(i.runDir, 'gateway', 'nginx.conf')), false);
      }));
  }
});
