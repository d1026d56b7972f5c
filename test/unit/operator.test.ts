import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { progressWriter } from '../../package_scripts/context.js';
import { inspectContainersArgs, listInstancesArgs, readPublicUrlArgs, showLogsArgs } from '../../package_scripts/docker/argv.js';
import {
  baseImageCheck,
  caCheck,
  diskCheck,
  engineCheck,
  envFileModeCheck,
  formatChecks,
  GIB,
  portCheck,
  tokenCheck,
} from '../../package_scripts/doctor/checks.js';
import {
  claudeCodeArgv,
  claudeDesktopConfig,
  clientSnippets,
  compareVersions,
  cursorConfig,
  inspectorArgv,
  MCP_REMOTE_VERSION,
  shellLine,
  vscodeConfig,
  type Endpoint,
} from '../../package_scripts/clients/clients.js';
import { shellQuote } from '../../package_scripts/shell.js';
import { dockerEngine } from '../../package_scripts/engines/docker.js';
import { podmanEngine } from '../../package_scripts/engines/podman.js';
import { describeEngine } from '../../package_scripts/engines/registry.js';
import { dialHost, servesOwnCertificate, tunnelUrl, urlSource } from '../../package_scripts/instance/endpoint.js';
import { credentialFor } from '../../package_scripts/templates/registry.js';
import { formatDuration, formatStatusTable, instanceStatus, publishedUrl, type ContainerInspect } from '../../package_scripts/instance/instances.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TOKEN = 'ab'.repeat(32);
const endpoint: Endpoint = {
  serverName: 'mcp-sandbox',
  url: 'https://127.0.0.1:8443/mcp',
  authorization: `Bearer ${TOKEN}`,
  caFile: '/home/me/p/.mcp-sandbox/mcp-sandbox/cert.pem',
};

describe('endpoint by template', () => {
  it('nginx is reached on its published port and serves its own certificate; tunnels write their URL to a file', () => {
    assert.deepEqual(urlSource('nginx'), { kind: 'published-port' });
    assert.deepEqual(urlSource('ngrok'), { kind: 'tunnel-file', path: '/run/sandbox/public-url' });
    assert.deepEqual(urlSource('pinggy'), { kind: 'tunnel-file', path: '/run/sandbox/public-url' });
    assert.equal(servesOwnCertificate('nginx'), true);
    assert.equal(servesOwnCertificate('ngrok'), false);
    assert.equal(servesOwnCertificate('pinggy'), false);
  });

  it('the bearer token: PINGGY_BEARER_TOKEN for pinggy when set, else ACCESS_TOKEN', () => {
    assert.equal(credentialFor('nginx', { ACCESS_TOKEN: 'a', PINGGY_BEARER_TOKEN: 'p', NGROK_BASIC_AUTH: 'u:pw' }).authorization, 'Bearer a');
    assert.equal(credentialFor('ngrok', { ACCESS_TOKEN: 'a', PINGGY_BEARER_TOKEN: 'p' }).authorization, 'Bearer a');
    assert.equal(
      credentialFor('ngrok', { ACCESS_TOKEN: 'a', NGROK_BASIC_AUTH: 'me:long-password' }).authorization,
      `Basic ${Buffer.from('me:long-password').toString('base64')}`,
    );
    assert.equal(credentialFor('pinggy', { ACCESS_TOKEN: 'a', PINGGY_BEARER_TOKEN: 'p' }).authorization, 'Bearer p');
    assert.equal(credentialFor('pinggy', { ACCESS_TOKEN: 'a', PINGGY_BEARER_TOKEN: '' }).authorization, 'Bearer a');
  });

  it('wildcard binds are dialled on loopback; IPv6 is bracketed', () => {
    assert.equal(dialHost('0.0.0.0'), '127.0.0.1');
    assert.equal(dialHost('::'), '127.0.0.1');
    assert.equal(dialHost(''), '127.0.0.1');
    assert.equal(dialHost('192.0.2.7'), '192.0.2.7');
    assert.equal(dialHost('::1'), '[::1]');
  });

  it("a tunnel file's URL gets /mcp when it holds only the origin; anything but one http(s) URL is refused", () => {
    assert.equal(tunnelUrl('https://abc.ngrok.app\n'), 'https://abc.ngrok.app/mcp');
    assert.equal(tunnelUrl('https://abc.ngrok.app/'), 'https://abc.ngrok.app/mcp');
    assert.equal(tunnelUrl('https://x.a.pinggy.link/mcp'), 'https://x.a.pinggy.link/mcp');
    assert.equal(tunnelUrl(''), undefined);
    assert.equal(tunnelUrl('http://stand-in:41565'), 'http://stand-in:41565/mcp', 'a plain SSH server in place of Pinggy');
    assert.equal(tunnelUrl('ftp://plain.example'), undefined);
    assert.equal(tunnelUrl('https://a.example https://b.example'), undefined);
  });
});

const NOW = new Date('2026-11-25T12:00:00Z');
const nginxInspect: ContainerInspect = {
  Name: '/mcp-github',
  RestartCount: 2,
  Config: { Image: 'mcp-github:latest', Labels: { 'io.mcp-sandbox.instance': 'mcp-github', 'io.mcp-sandbox.template': 'nginx' } },
  State: { Status: 'running', Running: true, StartedAt: '2026-11-25T10:58:30Z', Health: { Status: 'healthy' } },
  NetworkSettings: { Ports: { '8443/tcp': [{ HostIp: '127.0.0.1', HostPort: '8444' }] } },
};

describe('instance status from docker inspect', () => {
  it('reads name, template, health, uptime, restarts, URL and image of an nginx instance', () => {
    assert.deepEqual(instanceStatus(nginxInspect, NOW), {
      name: 'mcp-github',
      template: 'nginx',
      health: 'healthy',
      state: 'running',
      uptimeSeconds: 3690,
      restarts: 2,
      url: 'https://127.0.0.1:8444/mcp',
      image: 'mcp-github:latest',
      container: 'mcp-github',
    });
  });

  it('a stopped container shows its state, no uptime; a tunnel takes the URL its file gave, or none yet', () => {
    const exited: ContainerInspect = {
      ...nginxInspect,
      State: { Status: 'exited', Running: false, StartedAt: '2026-11-25T10:00:00Z', Health: { Status: 'unhealthy' } },
    };
    const row = instanceStatus(exited, NOW);
    assert.equal(row.health, 'exited');
    assert.equal(row.uptimeSeconds, undefined);
    const tunnel: ContainerInspect = {
      Name: '/mcp-ngrok',
      Config: { Image: 'mcp-ngrok:latest', Labels: { 'io.mcp-sandbox.instance': 'mcp-ngrok', 'io.mcp-sandbox.template': 'ngrok' } },
      State: { Status: 'running', Running: true, StartedAt: '2026-11-25T11:59:50Z' },
      NetworkSettings: { Ports: {} },
    };
    assert.equal(instanceStatus(tunnel, NOW, { 'mcp-ngrok': 'https://abc.ngrok.app/mcp' }).url, 'https://abc.ngrok.app/mcp');
    const connecting = instanceStatus(tunnel, NOW);
    assert.equal(connecting.url, undefined);
    assert.equal(connecting.health, 'running', 'no health check: the state');
    assert.match(formatStatusTable([connecting]), /\(tunnel connecting\)/);
  });

  it('publishedUrl: wildcard host addresses become loopback; no binding, no URL', () => {
    const wildcard = { ...nginxInspect, NetworkSettings: { Ports: { '8443/tcp': [{ HostIp: '0.0.0.0', HostPort: '443' }] } } };
    assert.equal(publishedUrl(wildcard), 'https://127.0.0.1:443/mcp');
    assert.equal(publishedUrl({ ...nginxInspect, NetworkSettings: { Ports: { '8443/tcp': null } } }), undefined);
    assert.equal(publishedUrl({ Name: '/x' }), undefined);
  });

  it('durations keep the two largest units', () => {
    assert.deepEqual([0, 59, 61, 3600, 3690, 90061].map(formatDuration), ['0s', '59s', '1m 1s', '1h', '1h 1m', '1d 1h']);
  });

  it('the table is sorted by name, aligned, with - for unknown values', () => {
    const other = instanceStatus(
      {
        ...nginxInspect,
        Name: '/alpha',
        Config: { Image: 'alpha:latest', Labels: { 'io.mcp-sandbox.instance': 'alpha', 'io.mcp-sandbox.template': 'nginx' } },
        State: { Status: 'created', Running: false },
      },
      NOW,
    );
    assert.equal(
      formatStatusTable([instanceStatus(nginxInspect, NOW), other]),
      [
        'NAME        TEMPLATE  HEALTH   UPTIME  RESTARTS  URL                         IMAGE',
        'alpha       nginx     created  -       2         https://127.0.0.1:8444/mcp  alpha:latest',
        'mcp-github  nginx     healthy  1h 1m   2         https://127.0.0.1:8444/mcp  mcp-github:latest',
      ].join('\n'),
    );
  });

  it('argv: instances by label, inspect, the tunnel URL file, logs with --follow and --tail', () => {
    assert.deepEqual(listInstancesArgs(), ['ps', '--all', '--quiet', '--no-trunc', '--filter', 'label=io.mcp-sandbox.instance']);
    assert.deepEqual(listInstancesArgs('mcp-github'), ['ps', '--all', '--quiet', '--no-trunc', '--filter', 'label=io.mcp-sandbox.instance=mcp-github']);
    assert.deepEqual(inspectContainersArgs(['a1', 'b2']), ['container', 'inspect', 'a1', 'b2']);
    assert.deepEqual(readPublicUrlArgs('mcp-ngrok'), ['exec', 'mcp-ngrok', 'cat', '/run/sandbox/public-url']);
    assert.deepEqual(showLogsArgs('x', { follow: true, tail: 20 }), ['logs', '--follow', '--tail', '20', 'x']);
    assert.deepEqual(showLogsArgs('x', { follow: false }), ['logs', '--tail', 'all', 'x']);
  });
});

describe('client configurations', () => {
  it('Claude Desktop: pinned mcp-remote, the header through AUTH_HEADER (no space after the colon), the certificate in NODE_EXTRA_CA_CERTS', () => {
    assert.deepEqual(claudeDesktopConfig(endpoint), {
      mcpServers: {
        'mcp-sandbox': {
          command: 'npx',
          args: ['-y', `mcp-remote@${MCP_REMOTE_VERSION}`, 'https://127.0.0.1:8443/mcp', '--header', 'Authorization:${AUTH_HEADER}'],
          env: { AUTH_HEADER: `Bearer ${TOKEN}`, NODE_EXTRA_CA_CERTS: endpoint.caFile },
        },
      },
    });
    const { caFile: _, ...publicCert } = endpoint;
    assert.deepEqual(claudeDesktopConfig(publicCert).mcpServers['mcp-sandbox']!.env, { AUTH_HEADER: `Bearer ${TOKEN}` });
  });

  it('the pinned mcp-remote is the devDependency the end-to-end test launches offline', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    assert.equal(pkg.devDependencies['mcp-remote'], MCP_REMOTE_VERSION);
  });

  it('VS Code (type http) and Cursor (url) carry the header as is', () => {
    assert.deepEqual(vscodeConfig(endpoint), {
      servers: { 'mcp-sandbox': { type: 'http', url: endpoint.url, headers: { Authorization: `Bearer ${TOKEN}` } } },
    });
    assert.deepEqual(cursorConfig(endpoint), { mcpServers: { 'mcp-sandbox': { url: endpoint.url, headers: { Authorization: `Bearer ${TOKEN}` } } } });
  });

  it('Claude Code and the Inspector: argv, quoted for a POSIX shell', () => {
    assert.deepEqual(claudeCodeArgv(endpoint), [
      'claude',
      'mcp',
      'add',
      '--transport',
      'http',
      'mcp-sandbox',
      endpoint.url,
      '--header',
      `Authorization: Bearer ${TOKEN}`,
    ]);
    assert.equal(
      shellLine(claudeCodeArgv(endpoint)),
      `claude mcp add --transport http mcp-sandbox https://127.0.0.1:8443/mcp --header 'Authorization: Bearer ${TOKEN}'`,
    );
    assert.equal(
      shellLine(inspectorArgv(endpoint), { NODE_EXTRA_CA_CERTS: "/tmp/it's here/cert.pem" }),
      `NODE_EXTRA_CA_CERTS='/tmp/it'\\''s here/cert.pem' npx -y @modelcontextprotocol/inspector@2.12.0 --cli --server-url https://127.0.0.1:8443/mcp --transport http --header 'Authorization: Bearer ${TOKEN}' --method tools/list`,
    );
    assert.equal(shellQuote('plain-word_1.0'), 'plain-word_1.0');
    assert.equal(shellQuote('$(rm -rf ~)'), `'$(rm -rf ~)'`);
  });

  it('every client once, in order; the Inspector note names Node 22.19 and says when this Node is older', () => {
    const old = clientSnippets(endpoint, '20.20.2');
    assert.deepEqual(
      old.map((s) => s.client),
      ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'inspector'],
    );
    assert.match(old[4]!.notes[0]!, /needs Node\.js 22\.19\.0 or newer \(this one is 20\.20\.2: upgrade Node first\)/);
    assert.doesNotMatch(clientSnippets(endpoint, '22.19.0')[4]!.notes[0]!, /upgrade/);
    assert.deepEqual([compareVersions('22.19.0', '22.19.0'), compareVersions('v22.20.1', '22.19.0'), compareVersions('20.20.2', '22.19.0')], [0, 1, -1]);
  });
});

describe('doctor verdicts', () => {
  it('engine: Docker, Docker Desktop or Podman with its version; unreachable fails with the fix', () => {
    assert.deepEqual(describeEngine({ Server: { Version: '27.3.1', Components: [{ Name: 'Engine', Version: '27.3.1' }] } }), {
      kind: 'Docker',
      version: '27.3.1',
    });
    assert.deepEqual(describeEngine({ Server: { Version: '27.3.1', Platform: { Name: 'Docker Desktop 4.35.1 (173168)' } } }), {
      kind: 'Docker Desktop',
      version: '27.3.1',
    });
    assert.deepEqual(describeEngine({ Server: { Version: '5.2.2', Components: [{ Name: 'Podman Engine', Version: '5.2.2' }] } }), {
      kind: 'Podman',
      version: '5.2.2',
    });
    assert.equal(engineCheck({ version: { Client: { Version: '28' }, Server: { Version: '27.3.1' } } }).detail, 'Docker 27.3.1 (client 28)');
    const down = engineCheck({ error: 'The Docker engine is not reachable' });
    assert.equal(down.verdict, 'fail');
    assert.match(down.fix!, /docker info/);
    assert.equal(engineCheck({ version: { Client: { Version: '28' }, Server: null } }).verdict, 'fail');
  });

  it('token: 64 hex passes, 32 warns, a repetitive one fails', () => {
    assert.equal(tokenCheck('0123456789abcdef'.repeat(4), 'ACCESS_TOKEN').verdict, 'pass');
    assert.equal(tokenCheck('0123456789abcdef'.repeat(2), 'ACCESS_TOKEN').verdict, 'warn');
    const weak = tokenCheck('ab'.repeat(32), 'ACCESS_TOKEN');
    assert.equal(weak.verdict, 'fail');
    assert.match(weak.detail, /only 2 different characters/);
  });

  it('env file mode: group or other bits warn with chmod 600', () => {
    assert.equal(envFileModeCheck('.env', 0o100600), undefined);
    assert.equal(envFileModeCheck('.env', 0o100644)?.fix, 'chmod 600 .env');
  });

  it('port: own instance passes, another program fails, privileged ports warn only on Podman', () => {
    assert.equal(portCheck(443, '127.0.0.1', 'in-use', { ownedBy: 'mcp-sandbox' }).verdict, 'pass');
    const busy = portCheck(443, '127.0.0.1', 'in-use', {});
    assert.equal(busy.verdict, 'fail');
    assert.match(busy.fix!, /HOST_PORT/);
    assert.equal(portCheck(443, '127.0.0.1', 'denied', { engine: dockerEngine }).verdict, 'pass');
    assert.equal(portCheck(443, '127.0.0.1', 'denied', { engine: podmanEngine }).verdict, 'warn');
    assert.equal(portCheck(8443, '127.0.0.1', 'free', {}).detail, '127.0.0.1:8443 is free');
  });

  it('base image, CA bundle and disk', () => {
    assert.equal(baseImageCheck('node:22-bookworm-slim', true).verdict, 'pass');
    assert.match(baseImageCheck('node:22-bookworm-slim', false).fix!, /make-base-image\.sh/);
    assert.equal(caCheck({}).verdict, 'pass');
    assert.equal(caCheck({ proxy: 'HTTPS_PROXY' }).verdict, 'warn');
    assert.equal(caCheck({ setting: { source: 'EXTRA_CA_CERT', file: '/x.pem' }, certificates: 0 }).verdict, 'fail');
    assert.equal(caCheck({ setting: { source: 'EXTRA_CA_CERT', file: '/x.pem' }, certificates: 3 }).detail, 'EXTRA_CA_CERT: /x.pem (3 certificates)');
    assert.deepEqual(
      [1, 3, 10].map((g) => diskCheck('/var/lib/docker', g * GIB).verdict),
      ['fail', 'warn', 'pass'],
    );
  });

  it('the report: one line per check, the fix under failures and warnings, a closing count', () => {
    assert.equal(
      formatChecks([
        { name: 'engine', verdict: 'pass', detail: 'Docker 27' },
        { name: 'port', verdict: 'fail', detail: 'in use', fix: 'set HOST_PORT' },
      ]),
      ['ok    engine  Docker 27', 'FAIL  port    in use', '              fix: set HOST_PORT', '', '1 check failed.'].join('\n'),
    );
  });
});

describe('progress while waiting', () => {
  it('a terminal gets a spinner redrawn in place and cleared at the end', () => {
    const written: string[] = [];
    const progress = progressWriter({ isTTY: true, write: (t: string) => written.push(t) });
    progress.waiting('Waiting', 0.2);
    progress.waiting('Waiting', 1.7);
    progress.done();
    assert.deepEqual(written, ['\r\x1b[2K/ Waiting (0 s)', '\r\x1b[2K- Waiting (1 s)', '\r\x1b[2K']);
  });

  it('a pipe gets plain lines, at most one every 5 seconds, and nothing to clear', () => {
    const written: string[] = [];
    const progress = progressWriter({ isTTY: false, write: (t: string) => written.push(t) });
    for (const s of [0, 0.5, 4.9, 5.0, 7, 10.2]) progress.waiting('Waiting', s);
    progress.done();
    assert.deepEqual(written, ['Waiting (0 s)\n', 'Waiting (5 s)\n', 'Waiting (10 s)\n']);
  });
});
