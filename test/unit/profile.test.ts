import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { instanceNames } from '../../package_scripts/docker/names.js';
import { bindArgs, dockerRunArgs, mountField } from '../../package_scripts/sandbox/docker-run.js';
import { sandboxProfile, type SandboxProfile } from '../../package_scripts/sandbox/profile.js';
import { resolveSettings, type Settings } from '../../package_scripts/settings/load.js';
import { repoRoot } from './project-fixture.js';
import { DEFAULT_NGINX_ENV } from './expected.js';

const TOKEN = 'cd34'.repeat(16);
const root = mkdtempSync(join(tmpdir(), 'mcp-profile-test-'));
const envDir = join(root, 'instance');
// A comma and a quote in a host path: legal on Linux, and they must not break --mount's list.
const oddDir = join(envDir, 'a,b"c');
mkdirSync(join(oddDir, 'data'), { recursive: true });
after(() => rmSync(root, { recursive: true, force: true }));

// The real project folder: tunnel settings are checked by the gateway modules it holds.
function settings(raw: Record<string, string> = {}): Settings {
  return resolveSettings({ ACCESS_TOKEN: TOKEN, ...raw }, join(envDir, '.env'), { hostEnv: { HOME: join(root, 'home') }, projectDir: repoRoot });
}

function profileOf(s: Settings, detached = true): SandboxProfile {
  return sandboxProfile(s, instanceNames(s.NAME), { detached, egress: s.MCP_EGRESS });
}

describe('the sandbox profile as data', () => {
  it('nginx with the defaults: every control in one object', () => {
    assert.deepEqual(profileOf(settings()), {
      container: 'mcp-sandbox',
      image: 'mcp-sandbox:latest',
      labels: { 'io.mcp-sandbox.instance': 'mcp-sandbox', 'io.mcp-sandbox.template': 'nginx' },
      lifecycle: 'restart-unless-stopped',
      capabilities: { drop: ['ALL'], add: ['CHOWN', 'NET_ADMIN', 'SETGID', 'SETPCAP', 'SETUID'] },
      noNewPrivileges: true,
      seccompProfile: join(repoRoot, 'profiles', 'seccomp.json'),
      readOnlyRoot: true,
      tmpfs: [
        { target: '/tmp', size: '64m', options: ['rw', 'nosuid', 'nodev', 'noexec'], mode: '1777' },
        { target: '/run', size: '16m', options: ['rw', 'nosuid', 'nodev', 'noexec'], mode: '0755' },
      ],
      limits: { pids: 256, memory: '1g', cpus: '1', coreFileSize: 0 },
      log: { driver: 'json-file', maxSize: '10m', maxFiles: 3 },
      network: 'mcp-sandbox-net',
      extraNetworks: [],
      publish: { hostAddress: '127.0.0.1', hostPort: 443, containerPort: 8443 },
      volumes: [
        { name: 'mcp-sandbox-tls', target: '/var/lib/mcp-sandbox/tls' },
        { name: 'mcp-sandbox-warden', target: '/var/lib/mcp-sandbox/warden', persistent: true },
      ],
      binds: [],
      egress: { mode: 'none' },
      env: { ...DEFAULT_NGINX_ENV, ACCESS_TOKEN: TOKEN },
    });
  });

  it('a tunnel: no publish, no certificate volume, no CERT_FILE binds; the same kernel controls', () => {
    const tunnel = profileOf(settings({ TEMPLATE: 'ngrok', NGROK_AUTHTOKEN: '2abcDEF_ghi-123' }), false);
    const nginx = profileOf(settings(), false);
    assert.equal(tunnel.publish, undefined);
    assert.deepEqual(tunnel.volumes, [{ name: 'mcp-sandbox-warden', target: '/var/lib/mcp-sandbox/warden', persistent: true }]);
    assert.deepEqual(tunnel.binds, []);
    assert.equal(tunnel.lifecycle, 'remove-on-exit');
    for (const key of ['capabilities', 'noNewPrivileges', 'seccompProfile', 'readOnlyRoot', 'tmpfs', 'limits'] as const) {
      assert.deepEqual(tunnel[key], nginx[key], key);
    }
  });

  it('AUTH=oauth: the auth volume, the resource decided on the host, and the OAuth settings; none of it with AUTH=bearer', () => {
    const s = settings({
      AUTH: 'oauth',
      OAUTH_OWNER_PASSPHRASE: 'correct horse battery',
      OAUTH_ACCESS_TTL: '10m',
      OAUTH_CIMD_ALLOW: 'docs.corp.example,10.20.0.0/16',
      HOST_PORT: '8443',
    });
    const p = sandboxProfile(s, instanceNames(s.NAME), { detached: true, egress: { mode: 'none' }, oauthResource: 'https://127.0.0.1:8443/mcp' });
    assert.deepEqual(p.volumes, [
      { name: 'mcp-sandbox-tls', target: '/var/lib/mcp-sandbox/tls' },
      { name: 'mcp-sandbox-auth', target: '/var/lib/mcp-sandbox/auth' },
      { name: 'mcp-sandbox-warden', target: '/var/lib/mcp-sandbox/warden', persistent: true },
    ]);
    assert.equal(p.env.AUTH, 'oauth');
    assert.equal(p.env.AUTH_RESOURCE, 'https://127.0.0.1:8443/mcp');
    assert.equal(p.env.OAUTH_ACCESS_TTL, '600');
    assert.equal(p.env.OAUTH_OWNER_PASSPHRASE, 'correct horse battery');
    assert.equal(p.env.OAUTH_CIMD_ALLOW, 'docs.corp.example,10.20.0.0/16');
    assert.ok(s.secrets.includes('correct horse battery'), 'the passphrase is masked like a token');
    // A tunnel keeps its auth volume, and reads its resource from the URL it published (no AUTH_RESOURCE).
    const tunnel = profileOf(settings({ TEMPLATE: 'pinggy', PINGGY_ACCESS_TOKEN: 'tok3n', AUTH: 'oauth' }));
    assert.deepEqual(tunnel.volumes, [
      { name: 'mcp-sandbox-auth', target: '/var/lib/mcp-sandbox/auth' },
      { name: 'mcp-sandbox-tunnel', target: '/var/lib/mcp-sandbox/tunnel' },
      { name: 'mcp-sandbox-warden', target: '/var/lib/mcp-sandbox/warden', persistent: true },
    ]);
    assert.equal(tunnel.env.AUTH_RESOURCE, undefined);
    // Control: AUTH=bearer (the default) adds nothing.
    const bearer = profileOf(settings({ OAUTH_ACCESS_TTL: '10m', OAUTH_CIMD_ALLOW: 'docs.corp.example' }));
    assert.ok(!Object.keys(bearer.env).some((name) => name.startsWith('AUTH') || name.startsWith('OAUTH')), Object.keys(bearer.env).join(','));
  });

  it('MCP_EGRESS reaches the profile as parsed (nothing resolved on the host), and the container env in the canonical form', () => {
    const p = profileOf(settings({ MCP_EGRESS: 'API.github.com:443, 10.1.2.0/24:5432' }));
    assert.deepEqual(p.egress, {
      mode: 'allowlist',
      rules: [
        { kind: 'name', name: 'api.github.com', wildcard: false, ports: [443] },
        { kind: 'network', family: 4, address: '10.1.2.0', prefix: 24, port: 5432 },
      ],
    });
    assert.equal(p.env.MCP_EGRESS, 'api.github.com:443,10.1.2.0/24:5432');
  });
});

describe('rendering binds for --mount (a comma-separated list of its own)', () => {
  it('plain paths stay as they are', () => {
    assert.deepEqual(bindArgs({ source: '/home/me/data', target: '/workspace', readOnly: true }), [
      '--mount',
      'type=bind,source=/home/me/data,target=/workspace,readonly',
    ]);
  });

  it('a comma or a quote in a path is quoted the CSV way the docker CLI reads (it used to split the list)', () => {
    assert.equal(mountField('source', '/tmp/a,b"c'), '"source=/tmp/a,b""c"');
    // The env file's own folder holds the comma: MCP_MOUNTS=./data resolves under it.
    const s = resolveSettings({ ACCESS_TOKEN: TOKEN, MCP_MOUNTS: './data:/workspace:rw' }, join(oddDir, '.env'), {
      hostEnv: { HOME: join(root, 'home') },
      projectDir: repoRoot,
    });
    const run = dockerRunArgs(profileOf(s));
    const at = run.args.indexOf('--mount');
    assert.equal(run.args[at + 1], `type=bind,"source=${join(oddDir, 'data').replace(/"/g, '""')}",target=/workspace`);
  });
});
