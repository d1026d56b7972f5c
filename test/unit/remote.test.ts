/**
 * Remote engines: which engine is selected (and how that reaches the docker
 * client), what a remote host changes for start and connect, and how an
 * unreachable engine is worded. The engine spawner is driven through a stand-in
 * docker binary that records its argv and environment.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '../../package_scripts/commands/connect.js';
import { start } from '../../package_scripts/commands/start.js';
import { refuseLocalPaths, tlsHostnamesWithRemote, loadCommand } from '../../package_scripts/instance/remote.js';
import type { CommandContext } from '../../package_scripts/context.js';
import { createDockerEngine, type DockerEngine, type DockerResult } from '../../package_scripts/docker/engine.js';
import { engineFailure } from '../../package_scripts/docker/engine-failure.js';
import { endpointOf, selectEngine, selectionEnv, sshForwardCommand, type EngineEndpoint, type EngineSelection } from '../../package_scripts/docker/target.js';
import { DockerError, UsageError } from '../../package_scripts/errors.js';
import { dockerHostIssue } from '../../package_scripts/settings/engine-address.js';
import { remoteReach } from '../../package_scripts/instance/endpoint.js';
import { remoteBaseImageCheck, remoteCertificateCheck, remotePortCheck } from '../../package_scripts/doctor/remote-checks.js';
import { loadSettings } from '../../package_scripts/settings/load.js';
import { CERT_PEM, repoRoot } from './project-fixture.js';
import { recordingOutput } from './recording-output.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-remote-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
const TOKEN = 'cd'.repeat(32);

describe('DOCKER_HOST and DOCKER_CONTEXT values', () => {
  it('accepts what the docker CLI accepts', () => {
    for (const ok of [
      'ssh://root@host',
      'ssh://me@10.0.0.5:2222',
      'tcp://host:2376',
      'unix:///run/podman/podman.sock',
      'npipe:////./pipe/docker_engine',
      'host:2375',
    ]) {
      assert.equal(dockerHostIssue(ok), undefined, ok);
    }
  });
  it('refuses a scheme the docker CLI does not support, naming the setting and the fix', () => {
    assert.match(
      dockerHostIssue('http://host:2375')!,
      /^DOCKER_HOST=http:\/\/host:2375: the docker CLI does not support http:\/\/; use unix:\/\/, tcp:\/\/, ssh:\/\/, npipe:\/\//,
    );
    assert.match(dockerHostIssue('fd://')!, /does not support fd:\/\//);
    assert.match(dockerHostIssue('just-a-name')!, /is not an engine address: use ssh:\/\/user@host/);
    assert.match(dockerHostIssue('ssh://host/path')!, /takes no path/);
  });
  it('a bad value in the env file is a usage error (exit 2) from the settings', () => {
    const dir = mkdtempSync(join(root, 'bad-host-'));
    writeFileSync(join(dir, '.env'), `ACCESS_TOKEN=${TOKEN}\nDOCKER_HOST=https://engine.example:2376\n`);
    assert.throws(
      () => loadSettings(join(dir, '.env'), { hostEnv: {}, projectDir: repoRoot }),
      (e: unknown) =>
        e instanceof UsageError && e.exitCode === 2 && /DOCKER_HOST=https:\/\/engine\.example:2376: the docker CLI does not support https/.test(e.message),
    );
  });
});

describe('engine selection', () => {
  const file = { DOCKER_HOST: 'ssh://root@remote', DOCKER_CONTEXT: '' };
  it('--context first, then the env file, then the shell, then the CLI default', () => {
    const shell = { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' };
    assert.deepEqual(selectEngine({ context: 'far', fileValues: file, envFile: '/p/.env', hostEnv: shell }), {
      variable: 'DOCKER_CONTEXT',
      value: 'far',
      source: '--context',
    });
    assert.deepEqual(selectEngine({ fileValues: file, envFile: '/p/.env', hostEnv: shell }), {
      variable: 'DOCKER_HOST',
      value: 'ssh://root@remote',
      source: 'DOCKER_HOST in /p/.env',
    });
    assert.deepEqual(selectEngine({ fileValues: {}, envFile: '/p/.env', hostEnv: shell }), {
      variable: 'DOCKER_HOST',
      value: 'unix:///run/user/1000/docker.sock',
      source: 'DOCKER_HOST in your shell',
    });
    assert.deepEqual(selectEngine({ hostEnv: { DOCKER_CONTEXT: 'colima' } }), {
      variable: 'DOCKER_CONTEXT',
      value: 'colima',
      source: 'DOCKER_CONTEXT in your shell',
    });
    assert.deepEqual(selectEngine({ hostEnv: {} }), { source: "the docker CLI's current context" });
  });
  it('both in the env file, a bad context name, a bad shell value: usage errors', () => {
    assert.throws(
      () => selectEngine({ fileValues: { DOCKER_HOST: 'ssh://a', DOCKER_CONTEXT: 'b' }, envFile: '.env', hostEnv: {} }),
      /Both DOCKER_HOST and DOCKER_CONTEXT are set in \.env: keep one/,
    );
    assert.throws(
      () => selectEngine({ context: 'no spaces', hostEnv: {} }),
      (e: unknown) => e instanceof UsageError && /--context=no spaces is not a Docker context name/.test(e.message),
    );
    assert.throws(
      () => selectEngine({ hostEnv: { DOCKER_HOST: 'http://x' } }),
      (e: unknown) => e instanceof UsageError && /\(in your shell\)$/.test(e.message),
    );
  });
  it("the docker client's environment: the chosen variable, the other removed (DOCKER_HOST would win over a context)", () => {
    assert.deepEqual(selectionEnv({ variable: 'DOCKER_HOST', value: 'ssh://a', source: 'x' }), { DOCKER_HOST: 'ssh://a', DOCKER_CONTEXT: undefined });
    assert.deepEqual(selectionEnv({ variable: 'DOCKER_CONTEXT', value: 'far', source: 'x' }), { DOCKER_CONTEXT: 'far', DOCKER_HOST: undefined });
    assert.deepEqual(selectionEnv({ source: 'default' }), {});
  });
});

describe('engine endpoints and how clients reach them', () => {
  it('ssh:// and tcp:// to another name are remote; sockets and loopback are this machine', () => {
    assert.deepEqual(endpointOf('ssh://deploy@build-1.lan:2222'), {
      address: 'ssh://deploy@build-1.lan:2222',
      remote: { hostname: 'build-1.lan', user: 'deploy', sshPort: 2222 },
    });
    assert.deepEqual(endpointOf('tcp://10.0.0.5:2376'), { address: 'tcp://10.0.0.5:2376', remote: { hostname: '10.0.0.5' } });
    assert.deepEqual(endpointOf('ssh://root@[fd00::5]'), { address: 'ssh://root@[fd00::5]', remote: { hostname: 'fd00::5', user: 'root' } });
    for (const local of ['unix:///var/run/docker.sock', 'tcp://127.0.0.1:2375', 'ssh://me@localhost', 'npipe:////./pipe/docker_engine']) {
      assert.equal(endpointOf(local).remote, undefined, local);
    }
  });
  it('a wildcard bind is dialled at the remote host; its loopback through ssh -L on the same port', () => {
    const remote = { hostname: 'build-1.lan', user: 'deploy', sshPort: 2222 };
    assert.deepEqual(remoteReach('0.0.0.0', 8443, remote), { url: 'https://build-1.lan:8443/mcp' });
    assert.deepEqual(remoteReach('192.168.1.9', 8443, remote), { url: 'https://192.168.1.9:8443/mcp' });
    assert.deepEqual(remoteReach('127.0.0.1', 8443, remote), {
      url: 'https://127.0.0.1:8443/mcp',
      sshForward: 'ssh -N -L 127.0.0.1:8443:127.0.0.1:8443 -p 2222 deploy@build-1.lan',
    });
    assert.deepEqual(remoteReach('::', 443, { hostname: 'fd00::5' }), { url: 'https://[fd00::5]:443/mcp' });
    assert.equal(sshForwardCommand({ hostname: 'h' }, 9443), 'ssh -N -L 127.0.0.1:9443:127.0.0.1:9443 h');
  });
  it("the certificate names the remote host (IP: or DNS:), once, beside the user's own TLS_HOSTNAMES", () => {
    assert.equal(tlsHostnamesWithRemote(undefined, { hostname: '172.18.0.2' }), 'IP:172.18.0.2');
    assert.equal(tlsHostnamesWithRemote('DNS:mcp.lan', { hostname: 'build-1.lan' }), 'DNS:mcp.lan,DNS:build-1.lan');
    assert.equal(tlsHostnamesWithRemote('DNS:build-1.lan', { hostname: 'build-1.lan' }), 'DNS:build-1.lan');
  });
  it('doctor: the port is on the remote; a missing base image comes with the docker save | load line', () => {
    assert.deepEqual(remotePortCheck(8443, '127.0.0.1', { hostname: 'h', user: 'u' }), {
      name: 'port',
      verdict: 'pass',
      detail: '127.0.0.1:8443 on h (its loopback): clients here use `ssh -N -L 127.0.0.1:8443:127.0.0.1:8443 u@h`',
    });
    const missing = remoteBaseImageCheck('node:22-bookworm-slim', false, 'ssh://u@h');
    assert.equal(missing.verdict, 'warn');
    assert.equal(missing.fix, 'Without a registry on the remote, load it from this machine: docker save node:22-bookworm-slim | docker -H ssh://u@h load');
    assert.equal(loadCommand('x:1', 'ssh://u@h'), 'docker save x:1 | docker -H ssh://u@h load');
    assert.equal(remoteBaseImageCheck('node:22-bookworm-slim', true, 'ssh://u@h').verdict, 'pass');
    assert.deepEqual(remoteCertificateCheck('/p/cert.pem', 'ssh://u@h'), {
      name: 'certificate',
      verdict: 'fail',
      detail: 'CERT_FILE /p/cert.pem is a file on this machine; the remote engine (ssh://u@h) cannot mount it',
      fix: 'Leave CERT_FILE and KEY_FILE empty (the self-signed certificate names the remote host), or use a local engine',
    });
  });
});

describe('an engine that cannot be reached, worded for the selection', () => {
  const selection: EngineSelection = { variable: 'DOCKER_HOST', value: 'ssh://root@172.18.0.2', source: 'DOCKER_HOST in /p/.env' };
  const dial = (stderr: string) =>
    `error during connect: Get "http://docker.example.com/v1.50/version": command [ssh -o ConnectTimeout=30 -T -l root -- 172.18.0.2 docker system dial-stdio] has exited with exit status 255, make sure the URL is valid, and Docker 18.09 or later is installed on the remote host: stderr=${stderr}\n`;
  it('an untrusted host key: the setting, how to check and trust the key', () => {
    const message = engineFailure(
      dial('No ED25519 host key is known for 172.18.0.2 and you have requested strict checking.\nHost key verification failed.'),
      selection,
    )!;
    assert.match(message, /^The SSH host key of the engine's machine is not trusted: DOCKER_HOST=ssh:\/\/root@172\.18\.0\.2 \(in \/p\/\.env\)\./);
    assert.match(message, /ssh root@172\.18\.0\.2 true/);
  });
  it('a refused connection and an unknown name: unreachable, with the ssh line', () => {
    assert.match(
      engineFailure(dial('ssh: connect to host 172.18.0.2 port 2222: Connection refused'), selection)!,
      /^The engine selected by DOCKER_HOST=ssh:\/\/root@172\.18\.0\.2 \(in \/p\/\.env\) is not reachable \(ssh: connect to host 172\.18\.0\.2 port 2222: Connection refused\)/,
    );
    assert.match(engineFailure(dial('ssh: Could not resolve hostname nowhere: Name or service not known'), selection)!, /is not reachable/);
  });
  it('a refused login, an unknown context, a plain local failure', () => {
    assert.match(engineFailure(dial('root@172.18.0.2: Permission denied (publickey).'), selection)!, /^SSH refused the login for DOCKER_HOST=.*ssh-add/);
    assert.match(
      engineFailure('Failed to initialize: unable to resolve docker endpoint: context "far": context not found: open /root/.docker/contexts/meta/x/meta.json', {
        variable: 'DOCKER_CONTEXT',
        value: 'far',
        source: '--context',
      })!,
      /^DOCKER_CONTEXT=far \(--context\) names no Docker context\. `docker context ls` lists them/,
    );
    assert.equal(engineFailure('Error response from daemon: No such container: x', selection), undefined);
  });
  it("a command's own failure through docker exec is not the engine's: a probe's 'Connection refused' inside the container", () => {
    const probe = '/opt/sandbox/bin/healthcheck: connect: Connection refused\nthe session gateway is not listening on 8000\n';
    const podman: EngineSelection = { variable: 'DOCKER_HOST', value: 'unix:///run/podman/podman.sock', source: 'DOCKER_HOST in your shell' };
    assert.equal(engineFailure(probe, selection), undefined);
    assert.equal(engineFailure(probe, podman), undefined);
    // The control: the same socket really down is named, with the local fix.
    assert.match(
      engineFailure('Cannot connect to the Docker daemon at unix:///run/podman/podman.sock. Is the docker daemon running?', podman)!,
      /^The Docker engine at DOCKER_HOST=unix:\/\/\/run\/podman\/podman\.sock \(in your shell\) is not reachable\. Start Docker/,
    );
  });
});

describe('the engine spawner with a stand-in docker binary', () => {
  const dir = mkdtempSync(join(root, 'bin-'));
  const log = join(dir, 'calls.log');
  const fake = join(dir, 'docker');
  // Records argv and the engine variables; `version` fails like an untrusted host key when FAIL_VERSION is set.
  writeFileSync(
    fake,
    `#!/bin/sh\nprintf '%s|host=%s|context=%s\\n' "$*" "\${DOCKER_HOST-unset}" "\${DOCKER_CONTEXT-unset}" >>"${log}"\nif [ "$1" = version ] && [ -n "\${FAIL_VERSION:-}" ]; then echo 'error during connect: ... stderr=Host key verification failed.' >&2; exit 1; fi\necho ok\n`,
  );
  chmodSync(fake, 0o755);
  const calls = () => readFileSync(log, 'utf8').trim().split('\n');

  it('the selection reaches the docker client through its environment only; a context removes a shell DOCKER_HOST', async () => {
    writeFileSync(log, '');
    process.env.DOCKER_HOST = 'unix:///from/the/shell.sock';
    try {
      await createDockerEngine([], { variable: 'DOCKER_CONTEXT', value: 'far', source: '--context' }, fake).run(['ps']);
      await createDockerEngine([], { variable: 'DOCKER_HOST', value: 'ssh://root@h', source: 'x' }, fake).run(['ps']);
    } finally {
      delete process.env.DOCKER_HOST;
    }
    assert.deepEqual(calls(), ['ps|host=unset|context=far', 'ps|host=ssh://root@h|context=unset']);
  });
  it('a streamed command (build) asks a chosen engine first: an unreachable one stops before the build runs', async () => {
    writeFileSync(log, '');
    process.env.FAIL_VERSION = '1';
    try {
      const engine = createDockerEngine([], { variable: 'DOCKER_HOST', value: 'ssh://root@h', source: 'DOCKER_HOST in .env' }, fake);
      await assert.rejects(
        engine.run(['build', '.'], { inherit: true }),
        (e: unknown) => e instanceof DockerError && /host key .* not trusted: DOCKER_HOST=ssh:\/\/root@h \(in \.env\)/.test(e.message),
      );
    } finally {
      delete process.env.FAIL_VERSION;
    }
    assert.deepEqual(calls(), ['version --format {{.Server.Version}}|host=ssh://root@h|context=unset']);
  });
});

/** A recording engine that says it runs on another machine. */
function remoteHarness(env: string, endpoint: EngineEndpoint) {
  const dir = mkdtempSync(join(root, 'instance-'));
  mkdirSync(join(dir, 'home'));
  const envFile = join(dir, '.env');
  writeFileSync(envFile, env, { mode: 0o600 });
  const calls: Array<{ args: string[]; env?: Record<string, string> }> = [];
  const messages: string[] = [];
  const selections: Array<EngineSelection | undefined> = [];
  const ok = (stdout = ''): DockerResult => ({ stdout, stderr: '', exitCode: 0 });
  const engine: DockerEngine = {
    async run(args, options = {}) {
      calls.push({ args, ...(options.env ? { env: options.env } : {}) });
      if (args[0] === 'inspect') return ok('running');
      if (args[0] === 'exec' && args[2] === 'cat') return ok(CERT_PEM);
      if (args[0] === 'exec' && args.includes('/opt/sandbox/bin/mcp-probe'))
        return ok(JSON.stringify({ ok: true, protocolVersion: '2025-06-18', tools: ['read_file'], toolsListed: true, ms: 2 }));
      if (args[0] === 'ps' && args.includes('--no-trunc')) return ok('id-remote');
      if (args[0] === 'container' && args[1] === 'inspect') {
        return ok(
          JSON.stringify([
            {
              Name: '/remote',
              Config: { Image: 'remote:latest', Labels: { 'io.mcp-sandbox.instance': 'remote', 'io.mcp-sandbox.template': 'nginx' } },
              State: { Status: 'running', Running: true, StartedAt: new Date().toISOString(), Health: { Status: 'healthy' } },
              NetworkSettings: { Ports: { '8443/tcp': [{ HostIp: env.includes('BIND_ADDRESS=0.0.0.0') ? '0.0.0.0' : '127.0.0.1', HostPort: '9443' }] } },
            },
          ]),
        );
      }
      return ok();
    },
    endpoint: async () => endpoint,
  };
  const ctx: CommandContext = {
    projectDir: repoRoot,
    hostEnv: { HOME: join(dir, 'home') },
    out: recordingOutput(messages),
    docker: (_secrets, selection) => {
      selections.push(selection);
      return engine;
    },
    probeEndpoint: async () => ({ ok: false, path: 'endpoint', error: 'ECONNREFUSED', serverLines: [], retryable: true }),
  };
  return { ctx, envFile, calls, messages, selections };
}

describe('start and connect on a remote engine (recording engine)', () => {
  const remote: EngineEndpoint = { address: 'ssh://root@172.18.0.2', remote: { hostname: '172.18.0.2', user: 'root' } };

  it("start -d on the remote's loopback: the certificate names the host, readiness on the container's loopback, the ssh -L line", async () => {
    const h = remoteHarness(`NAME=remote\nHOST_PORT=9443\nACCESS_TOKEN=${TOKEN}\nDOCKER_HOST=ssh://root@172.18.0.2\n`, remote);
    const info = await start(h.ctx, { detach: true, envFile: h.envFile, timeout: 5 });
    assert.deepEqual(h.selections[0], { variable: 'DOCKER_HOST', value: 'ssh://root@172.18.0.2', source: `DOCKER_HOST in ${h.envFile}` });
    const run = h.calls.find((c) => c.args[0] === 'run')!;
    assert.equal(run.env?.TLS_HOSTNAMES, 'IP:172.18.0.2');
    assert.ok(run.args.includes('127.0.0.1:9443:8443'));
    assert.equal(info?.url, 'https://127.0.0.1:9443/mcp');
    assert.equal(info?.sshForward, 'ssh -N -L 127.0.0.1:9443:127.0.0.1:9443 root@172.18.0.2');
    assert.ok(
      h.calls.some((c) => c.args.includes('/opt/sandbox/bin/mcp-probe')),
      'probed inside the container',
    );
    assert.ok(h.messages.some((m) => m.includes('SSH tunnel:   ssh -N -L 127.0.0.1:9443:127.0.0.1:9443 root@172.18.0.2')));
  });

  it('connect with BIND_ADDRESS=0.0.0.0 prints the remote host in the URL', async () => {
    const h = remoteHarness(`NAME=remote\nHOST_PORT=9443\nBIND_ADDRESS=0.0.0.0\nACCESS_TOKEN=${TOKEN}\n`, remote);
    const result = await connect(h.ctx, { envFile: h.envFile, json: true });
    assert.equal(result.endpoint.url, 'https://172.18.0.2:9443/mcp');
    assert.equal(result.sshForward, undefined);
  });

  it("MCP_MOUNTS on a remote engine mounts the remote's folders: said on start; CERT_FILE is refused", async () => {
    const data = mkdtempSync(join(root, 'data-'));
    const h = remoteHarness(`NAME=remote\nACCESS_TOKEN=${TOKEN}\nMCP_MOUNTS=${data}:/data:ro\n`, remote);
    await start(h.ctx, { detach: true, envFile: h.envFile, timeout: 5 });
    assert.ok(
      h.messages.includes(
        `warn: MCP_MOUNTS: the engine is remote (ssh://root@172.18.0.2), so Docker mounts the remote machine's ${data}; they were checked on this machine only. Make sure those paths on the remote hold only what the server may see`,
      ),
    );
    const settings = loadSettings(h.envFile, { hostEnv: {}, projectDir: repoRoot });
    assert.throws(
      () => refuseLocalPaths({ ...settings, tlsFiles: {} as never }, 'ssh://root@h'),
      (e: unknown) =>
        e instanceof UsageError && /^CERT_FILE and KEY_FILE are files on this machine, but the engine is remote \(ssh:\/\/root@h\)/.test(e.message),
    );
  });
});
