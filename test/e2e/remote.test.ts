/**
 * A remote engine over SSH: a container built from Debian packages (docker.io,
 * openssh-server, test/fixtures/remote-host) with its own dockerd and sshd, on
 * a network this test creates, stands in for another machine. The test makes
 * an SSH key, trusts the host key explicitly (its own known_hosts, strict
 * checking, through an `ssh` wrapper first in PATH: the user's ~/.ssh is left
 * alone), loads the base image with `docker save | docker load` over SSH, and
 * then drives the real CLI with DOCKER_HOST=ssh://root@<that container>:
 * build, start (BIND_ADDRESS=0.0.0.0 there), an MCP SDK client at the remote's
 * address through TLS and the token, status, logs, connect, stop, and the escape
 * battery against the remote instance.
 *
 * Docker in Docker here: root lacks CAP_SYS_RESOURCE, so --privileged fails;
 * the host container gets every other capability, no seccomp or AppArmor
 * profile, and /var/lib/docker on a volume (overlay2 on overlay does not work).
 */
import assert from 'node:assert/strict';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { execa } from 'execa';
import { addressOf, createBatteryInstance, sandboxBattery, startTarget, TARGET_IMAGE, type BatteryContext } from './battery.js';
import { createConnection } from 'node:net';
import { callJson, certificateOf, cli, createInstance, docker, probeServerDir, projectDir, trustingFetch, waitFor, type Instance } from './harness.js';

const HOST_IMAGE = 'mcps-e2e-remote-host';
const HOST = 'mcps-e2e-remote-host';
const NETWORK = 'mcps-e2e-remote-net';
const VOLUME = 'mcps-e2e-remote-docker';
const NAME = 'mcps-e2e-remote';
const TARGET = 'mcps-e2e-remote-target';

/** The container that plays the remote machine: every capability but SYS_RESOURCE, its engine's data on a volume. */
const HOST_RUN_ARGS = (authorizedKeys: string) => [
  'run',
  '-d',
  ...['--name', HOST],
  ...['--network', NETWORK],
  ...['--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE'],
  ...['--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined'],
  ...['--volume', `${VOLUME}:/var/lib/docker`],
  ...['--volume', `${authorizedKeys}:/etc/ssh/authorized_keys:ro`],
  HOST_IMAGE,
];

/** An `ssh` first in PATH that uses this test's key and known_hosts only, strictly, never asking. */
function sshWrapper(dir: string, knownHosts: string): string {
  const bin = join(dir, `bin-${knownHosts.replace(/\W/g, '')}`);
  mkdirSync(bin);
  const config = join(bin, 'ssh_config');
  writeFileSync(
    config,
    [
      'Host *',
      `  IdentityFile ${join(dir, 'key')}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${join(dir, knownHosts)}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    ].join('\n'),
  );
  writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F '${config}' "$@"\n`, { mode: 0o755 });
  return `${bin}:${process.env.PATH}`;
}

/** Whether a file holds any of these strings (streamed: `docker save` output is large). */
async function fileHolds(file: string, needles: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  const keep = Math.max(...needles.map((n) => n.length));
  let tail = '';
  for await (const chunk of createReadStream(file, { encoding: 'latin1', highWaterMark: 4 << 20 })) {
    const text = tail + (chunk as string);
    for (const needle of needles) if (text.includes(needle)) found.add(needle);
    tail = text.slice(-keep);
  }
  return [...found];
}

async function connectAt(url: string, certificate: string, token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: trustingFetch(certificate),
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'mcp-sandbox-e2e-remote', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

describe('a remote engine over SSH (Docker in Docker)', { timeout: 1_500_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcps-e2e-remote-'));
  const savedEnv = { PATH: process.env.PATH, DOCKER_HOST: process.env.DOCKER_HOST };
  let address: string;
  let dockerHost: string;
  /** PATH with the wrapper that trusts the remote's host key, and one whose known_hosts is empty. */
  let trustedPath: string;
  let untrustedPath: string;
  let context: BatteryContext;
  let url: string;
  let started: string;

  /** The CLI as a user with DOCKER_HOST only in the env file runs it (the shell selects nothing). */
  const remoteCli = (args: string[], path = trustedPath) => cli(args, { env: { PATH: path, DOCKER_HOST: '' } });
  /** This machine's engine, whatever the shell selects by then (the battery's helpers select the remote). */
  const localDocker = (args: string[]) =>
    execa('docker', args, {
      reject: false,
      extendEnv: false,
      env: { PATH: savedEnv.PATH, HOME: process.env.HOME, ...(savedEnv.DOCKER_HOST ? { DOCKER_HOST: savedEnv.DOCKER_HOST } : {}) },
    });
  /** The remote engine, for the test's own look-ups. */
  const remoteDocker = (args: string[]) => execa('docker', args, { reject: false, env: { PATH: trustedPath, DOCKER_HOST: dockerHost } });

  before(async () => {
    await docker(['rm', '-f', HOST]);
    await docker(['network', 'rm', NETWORK]);
    await docker(['volume', 'rm', '-f', VOLUME]);
    assert.equal((await docker(['network', 'create', NETWORK])).exitCode, 0);
    const image = await docker(['build', '-q', '-t', HOST_IMAGE, join(projectDir, 'test', 'fixtures', 'remote-host')]);
    assert.equal(image.exitCode, 0, image.stderr);

    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mcps-e2e-remote', '-f', join(dir, 'key')]);
    const authorized = join(dir, 'authorized_keys');
    mkdirSync(authorized);
    writeFileSync(join(authorized, 'root'), (await execa('cat', [join(dir, 'key.pub')])).stdout + '\n', { mode: 0o644 });
    const run = await docker(HOST_RUN_ARGS(authorized));
    assert.equal(run.exitCode, 0, run.stderr);
    address = await addressOf(HOST, NETWORK);
    dockerHost = `ssh://root@${address}`;

    // The host key, read through the engine that made the container (not over the network): trusted explicitly.
    const hostKey = await waitFor('the remote host key', async () => {
      const key = (await docker(['exec', HOST, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub'])).stdout.trim();
      return key ? key.split(' ').slice(0, 2).join(' ') : undefined;
    });
    writeFileSync(join(dir, 'known_hosts'), `${address} ${hostKey}\n`);
    writeFileSync(join(dir, 'empty_known_hosts'), '');
    trustedPath = sshWrapper(dir, 'known_hosts');
    untrustedPath = sshWrapper(dir, 'empty_known_hosts');

    await waitFor(
      'the remote engine over SSH',
      async () => ((await remoteDocker(['version', '--format', '{{.Server.Version}}'])).exitCode === 0 ? true : undefined),
      90_000,
    );
    // No registry on the remote: the base image travels from this engine, over SSH.
    const load = await execa('sh', ['-c', 'docker save "$1" | DOCKER_HOST="$2" docker load', 'sh', TARGET_IMAGE, dockerHost], {
      reject: false,
      env: { PATH: trustedPath },
    });
    assert.equal(load.exitCode, 0, load.stderr);
  });

  after(async () => {
    await context?.client.close().catch(() => undefined);
    process.env.PATH = savedEnv.PATH;
    if (savedEnv.DOCKER_HOST === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = savedEnv.DOCKER_HOST;
    await docker(['rm', '-f', HOST]);
    await docker(['network', 'rm', NETWORK]);
    await docker(['volume', 'rm', '-f', VOLUME]);
    rmSync(dir, { recursive: true, force: true });
    if (context) rmSync(context.instance.dir, { recursive: true, force: true });
  });

  describe('bad input: named with the fix, before any build', () => {
    let instance: Instance;
    before(async () => {
      instance = await createInstance(`${NAME}-bad`, { DOCKER_HOST: `ssh://root@${address}` });
    });
    const noImageBuilt = async () => assert.equal((await remoteDocker(['image', 'inspect', `${NAME}-bad:latest`])).exitCode, 1, 'nothing was built');

    test('an SSH host key that is not trusted: exit 1, DOCKER_HOST named', async () => {
      const result = await remoteCli(['build', '--env-file', instance.envFile], untrustedPath);
      assert.equal(result.exitCode, 1, result.all);
      assert.match(result.all ?? '', /error: The SSH host key of the engine's machine is not trusted: DOCKER_HOST=ssh:\/\/root@[\d.]+ \(in .*\.env\)\./);
      assert.doesNotMatch(result.all ?? '', /Sending build context|Step 1\//);
      await noImageBuilt();
      // Control: the same command with the key trusted reaches the engine.
      assert.equal((await remoteCli(['status', '--env-file', instance.envFile])).exitCode, 0);
    });

    test('an unreachable remote (nothing listens on that port): exit 1, DOCKER_HOST named', async () => {
      // Control, and the precedence: the env file's DOCKER_HOST wins over the shell's unreachable one.
      const result = await cli(['status', '--env-file', instance.envFile], { env: { PATH: trustedPath, DOCKER_HOST: `ssh://root@${address}:2222` } });
      assert.equal(result.exitCode, 0, result.all);
      writeFileSync(
        instance.envFile.replace(/\.env$/, '.env.unreachable'),
        `ACCESS_TOKEN=${instance.token}\nNAME=${NAME}-bad\nDOCKER_HOST=ssh://root@${address}:2222\n`,
      );
      const refused = await remoteCli(['build', '--env-file', instance.envFile.replace(/\.env$/, '.env.unreachable')]);
      assert.equal(refused.exitCode, 1, refused.all);
      assert.match(
        refused.all ?? '',
        /error: The engine selected by DOCKER_HOST=ssh:\/\/root@[\d.]+:2222 \(in .*\) is not reachable \(ssh: connect to host [\d.]+ port 2222: Connection refused\)/,
      );
      assert.doesNotMatch(refused.all ?? '', /Sending build context|Step 1\//);
    });

    test('an unknown context: exit 1, the context named; a scheme the docker CLI does not support: exit 2', async () => {
      const unknown = await remoteCli(['doctor', '--env-file', instance.envFile, '--context', 'mcps-e2e-no-such-context']);
      assert.equal(unknown.exitCode, 1, unknown.all);
      assert.match(unknown.all ?? '', /DOCKER_CONTEXT=mcps-e2e-no-such-context \(--context\) names no Docker context/);
      const build = await remoteCli(['build', '--env-file', instance.envFile, '--context', 'mcps-e2e-no-such-context']);
      assert.equal(build.exitCode, 1, build.all);
      assert.match(build.all ?? '', /names no Docker context\. `docker context ls` lists them/);

      const scheme = instance.envFile.replace(/\.env$/, '.env.scheme');
      writeFileSync(scheme, `ACCESS_TOKEN=${instance.token}\nDOCKER_HOST=http://${address}:2375\n`);
      const refused = await remoteCli(['build', '--env-file', scheme]);
      assert.equal(refused.exitCode, 2, refused.all);
      assert.match(refused.all ?? '', /DOCKER_HOST=http:\/\/[\d.]+:2375: the docker CLI does not support http:\/\//);
    });

    test('doctor names the base image the remote lacks, with the docker save | load line', async () => {
      const base = instance.envFile.replace(/\.env$/, '.env.base');
      writeFileSync(base, `ACCESS_TOKEN=${instance.token}\nNAME=${NAME}-bad\nDOCKER_HOST=${dockerHost}\nNODE_VERSION=20\n`);
      const result = await remoteCli(['doctor', '--env-file', base]);
      assert.match(result.all ?? '', /warn {2}base image +node:20-bookworm-slim is not on the remote engine \(ssh:\/\/root@[\d.]+\)/);
      assert.match(
        result.all ?? '',
        new RegExp(
          `fix: Without a registry on the remote, load it from this machine: docker save node:20-bookworm-slim \\| docker -H ssh://root@${address.replace(/\./g, '\\.')} load`,
        ),
      );
      // Control: the base image the test loaded is found there.
      assert.match((await remoteCli(['doctor', '--env-file', instance.envFile])).all ?? '', /ok {4}base image +node:22-bookworm-slim is on the remote engine/);
    });
  });

  describe('build, start, serve, operate and stop on the remote', () => {
    before(async () => {
      const { instance, secrets } = await createBatteryInstance(NAME, { DOCKER_HOST: dockerHost, BIND_ADDRESS: '0.0.0.0' });
      // MCP_MOUNTS names the remote's folders: the same paths, made there.
      const made = await docker([
        'exec',
        HOST,
        'sh',
        '-c',
        'mkdir -p "$1/ro" "$1/rw" && printf "mounted read-only" >"$1/ro/readable.txt" && chmod 777 "$1/rw"',
        'sh',
        instance.dir,
      ]);
      assert.equal(made.exitCode, 0, made.stderr);

      const built = await remoteCli(['build', '--env-file', instance.envFile]);
      assert.equal(built.exitCode, 0, built.all);
      assert.match(built.all ?? '', /Building on ssh:\/\/root@[\d.]+: only the staged build context .* is sent, never the env file/);
      const start = await remoteCli(['start', '-d', '--env-file', instance.envFile]);
      assert.equal(start.exitCode, 0, start.all);
      started = start.all ?? '';
      url = `https://${address}:${instance.port}/mcp`;

      // The battery's helpers (docker(...)) and the CLI now talk to the remote engine: the shell selects it.
      process.env.PATH = trustedPath;
      process.env.DOCKER_HOST = dockerHost;
      const network = `${NAME}-net`;
      await startTarget(TARGET, network);
      const connect = () => connectAt(url, certificateOf(instance), instance.token);
      context = { instance, secrets, network, target: TARGET, client: await connect(), connect, gatewayProcess: /^nginx/ };
    });

    test("start -d waited through the remote engine and probed the remote's address; the certificate names it", async () => {
      assert.match(started, new RegExp(`Engine: ${dockerHost.replace(/\./g, '\\.')} \\(another machine\\)`));
      assert.match(started, /Ready: \d+ tools \(/);
      assert.doesNotMatch(started, /checked on the container's loopback/);
      assert.ok(started.includes(`URL:          ${url}`), started);
      const san = await execa('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], { input: certificateOf(context.instance) });
      assert.match(san.stdout, new RegExp(`IP Address:${address.replace(/\./g, '\\.')}`));
    });

    test("an SDK client lists and calls tools at the remote's address, through TLS and the token; without the token it is refused", async () => {
      const { tools } = await context.client.listTools();
      assert.ok(tools.some((t) => t.name === 'echo'));
      assert.deepEqual(await callJson(context.client, 'echo', { text: 'over ssh' }), { text: 'over ssh' });
      await assert.rejects(connectAt(url, certificateOf(context.instance), 'ab'.repeat(32)), /401|Unauthorized/);
    });

    test('status, logs and connect go through the remote engine and name the remote host', async () => {
      const { instance } = context;
      const status = await remoteCli(['status', '--env-file', instance.envFile]);
      assert.equal(status.exitCode, 0, status.all);
      // Docker's own scheduled health check may not have run yet: start -d ran the same check itself.
      assert.match(status.all ?? '', new RegExp(`${NAME} +nginx +(healthy|starting) .* ${url.replace(/\./g, '\\.')}`));
      const logs = await remoteCli(['logs', '--env-file', instance.envFile, '--tail', 'all']);
      assert.equal(logs.exitCode, 0, logs.all);
      assert.match(logs.all ?? '', /\[sandbox\] TLS certificate SHA-256 fingerprint/);
      const connect = await remoteCli(['connect', '--json', '--env-file', instance.envFile]);
      assert.equal(connect.exitCode, 0, connect.all);
      const json = JSON.parse(connect.stdout) as { url: string; sshForward?: string };
      assert.equal(json.url, url);
      assert.equal(json.sshForward, undefined);
      // The container is on the remote engine, not on this one.
      assert.equal((await remoteDocker(['container', 'inspect', '--format', '{{.State.Running}}', NAME])).stdout, 'true');
      assert.notEqual((await localDocker(['container', 'inspect', NAME])).exitCode, 0);
    });

    test('neither the env file nor the token is in any image on the remote, nor in any command line there', async () => {
      const { instance, secrets } = context;
      const needles = [instance.token, secrets.secretVar, secrets.tunnelToken];
      const ids = (await remoteDocker(['images', '--all', '--quiet', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      assert.ok(ids.length >= 2, `images on the remote: ${ids.join(' ')}`);
      const tar = join(dir, 'remote-images.tar');
      const saved = await execa('docker', ['save', '--output', tar, ...new Set(ids)], { reject: false, env: { PATH: trustedPath, DOCKER_HOST: dockerHost } });
      assert.equal(saved.exitCode, 0, saved.stderr);
      assert.ok(statSync(tar).size > 50 * 2 ** 20);
      // Control: the search finds what the images do hold (the probe server's package name).
      assert.deepEqual(await fileHolds(tar, ['mcp-sandbox-probe-server', ...needles]), ['mcp-sandbox-probe-server']);
      rmSync(tar);

      const ps = await localDocker(['exec', HOST, 'ps', '-eo', 'args']);
      assert.equal(ps.exitCode, 0, ps.stderr);
      assert.match(ps.stdout, /nginx: master process/, 'control: the sandbox processes are in view');
      for (const needle of needles) assert.ok(!ps.stdout.includes(needle), 'a secret on a command line of the remote');
    });

    sandboxBattery(() => context);

    test('up with DOCKER_HOST in the env file and the default loopback bind: the ssh -L line it prints reaches the instance', async () => {
      // The battery's server again: its image layers are in the remote's cache.
      const instance = await createInstance(`${NAME}-up`, { DOCKER_HOST: dockerHost, MCP_SERVER: probeServerDir, MCP_SERVER_ARGS: '' });
      const forward = `ssh -N -L 127.0.0.1:${instance.port}:127.0.0.1:${instance.port} root@${address}`;
      const up = await remoteCli(['up', '--env-file', instance.envFile]);
      assert.equal(up.exitCode, 0, up.all);
      assert.ok(up.all?.includes(`SSH tunnel:   ${forward}`), up.all);
      assert.match(up.all ?? '', /Ready: \d+ tools .*\(checked on the container's loopback\)/);
      const connect = await remoteCli(['connect', '--json', '--env-file', instance.envFile]);
      const json = JSON.parse(connect.stdout) as { url: string; sshForward?: string };
      assert.deepEqual([json.url, json.sshForward], [`https://127.0.0.1:${instance.port}/mcp`, forward]);

      // Nothing answers here before the forward runs; through it, an SDK client is served.
      const open = () =>
        new Promise<boolean>((done) => {
          const socket = createConnection(instance.port, '127.0.0.1');
          socket.once('connect', () => (socket.destroy(), done(true)));
          socket.once('error', () => done(false));
        });
      assert.equal(await open(), false);
      const [command, ...args] = forward.split(' ');
      const tunnel = execa(command!, args, { reject: false, env: { PATH: trustedPath } });
      try {
        await waitFor('the ssh -L forward', async () => ((await open()) ? true : undefined), 30_000);
        const client = await connectAt(json.url, certificateOf(instance), instance.token);
        assert.deepEqual(await callJson(client, 'echo', { text: 'through ssh -L' }), { text: 'through ssh -L' });
        await client.close();
      } finally {
        tunnel.kill();
        await remoteCli(['stop', '--env-file', instance.envFile]);
        rmSync(instance.dir, { recursive: true, force: true });
      }
    });

    test('stop removes the container and its network on the remote', async () => {
      await context.client.close().catch(() => undefined);
      const stopped = await remoteCli(['stop', '--env-file', context.instance.envFile]);
      assert.equal(stopped.exitCode, 0, stopped.all);
      assert.match(stopped.all ?? '', new RegExp(`Stopped and removed ${NAME}\\.`));
      assert.notEqual((await remoteDocker(['container', 'inspect', NAME])).exitCode, 0);
      await remoteDocker(['rm', '-f', TARGET]);
    });
  });
});
