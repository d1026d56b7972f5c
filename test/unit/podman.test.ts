import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CONTEXT_ENDPOINT_ARGS, type DockerEngine } from '../../package_scripts/docker/engine.js';
import { instanceNames } from '../../package_scripts/docker/names.js';
import {
  detectEngineKind,
  engineKindOf,
  ensurePodmanSeccomp,
  observePodmanSeccomp,
  podmanInfo,
  seccompProblem,
  unixSocketOf,
} from '../../package_scripts/docker/podman.js';
import { StateError } from '../../package_scripts/errors.js';
import { engineCheck } from '../../package_scripts/doctor/checks.js';
import { dockerRunArgs, hardeningArgs } from '../../package_scripts/sandbox/docker-run.js';
import { sandboxProfile } from '../../package_scripts/sandbox/profile.js';
import { seccompProfile } from '../../package_scripts/sandbox/seccomp.js';
import { resolveSettings, type Settings } from '../../package_scripts/settings/load.js';
import { makeProjectDir } from './project-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-podman-test-'));
const project = makeProjectDir(join(root, 'project'));
const envDir = join(root, 'instance');
mkdirSync(envDir);
mkdirSync(join(root, 'home'));
after(() => rmSync(root, { recursive: true, force: true }));
const shipped = join(project, 'profiles', 'seccomp.json');

function settings(raw: Record<string, string> = {}): Settings {
  return resolveSettings({ ACCESS_TOKEN: '0123456789abcdef'.repeat(4), ...raw }, join(envDir, '.env'), {
    hostEnv: { HOME: join(root, 'home') },
    projectDir: project,
  });
}

/** The engine-independent profile of these settings. */
function profile(raw: Record<string, string> = {}) {
  const s = settings(raw);
  return sandboxProfile(s, instanceNames(s.NAME), { detached: true, egress: s.MCP_EGRESS });
}

/** `docker version --format '{{json .}}'` as Docker CLI 28 printed it against Podman 4.3.1's API (trimmed). */
const PODMAN_VERSION = JSON.stringify({
  Client: { Version: '28.2.2', ApiVersion: '1.41' },
  Server: {
    Platform: { Name: 'linux/amd64/debian-12' },
    Components: [
      { Name: 'Podman Engine', Version: '4.3.1', Details: { APIVersion: '4.3.1' } },
      { Name: 'Conmon', Version: 'conmon version 2.1.6, commit: unknown' },
      { Name: 'OCI Runtime (runc)', Version: 'runc version 1.1.5+ds1' },
    ],
    Version: '4.3.1',
    ApiVersion: '1.41',
  },
});
const DOCKER_VERSION = JSON.stringify({
  Client: { Version: '28.2.2' },
  Server: { Version: '20.10.24+dfsg1', ApiVersion: '1.41', Components: [{ Name: 'Engine', Version: '20.10.24+dfsg1' }] },
});

function answering(answers: Record<string, string>): DockerEngine & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async run(args) {
      calls.push(args);
      return { stdout: answers[args[0]!] ?? '', stderr: '', exitCode: 0 };
    },
  };
}

describe('Podman: the argv', () => {
  it('Docker keeps the seccomp profile on the command line; Podman gets /var/tmp read-only and bounded nofile/nproc instead', () => {
    const docker = hardeningArgs(profile());
    const podman = hardeningArgs(profile(), 'podman');
    assert.deepEqual(hardeningArgs(profile(), 'docker'), docker);
    assert.deepEqual(podman, [
      ...['--cap-drop', 'ALL'],
      ...['--cap-add', 'CHOWN', '--cap-add', 'NET_ADMIN', '--cap-add', 'SETGID', '--cap-add', 'SETPCAP', '--cap-add', 'SETUID'],
      ...['--security-opt', 'no-new-privileges'],
      '--read-only',
      ...['--tmpfs', '/tmp:rw,nosuid,nodev,noexec,mode=1777,size=64m'],
      ...['--tmpfs', '/run:rw,nosuid,nodev,noexec,mode=0755,size=16m'],
      ...['--tmpfs', '/var/tmp:ro,nosuid,nodev,noexec,size=4k'],
      ...['--pids-limit', '256'],
      ...['--memory', '1g'],
      ...['--memory-swap', '1g'],
      ...['--cpus', '1'],
      ...['--ulimit', 'core=0'],
      ...['--ulimit', 'nofile=8192:8192'],
      ...['--ulimit', 'nproc=16384:16384'],
      ...['--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3'],
    ]);
    // Exactly these differ: the inline profile out, three additions in.
    assert.deepEqual(
      docker.filter((a) => !podman.includes(a)),
      [`seccomp=${shipped}`],
    );
  });

  it('dockerRunArgs renders the same profile for the engine it is given; without one it is Docker', () => {
    const onPodman = dockerRunArgs(profile(), 'podman').args;
    assert.ok(onPodman.includes('/var/tmp:ro,nosuid,nodev,noexec,size=4k'));
    assert.ok(!onPodman.some((a) => a.startsWith('seccomp=')));
    assert.deepEqual(dockerRunArgs(profile()), dockerRunArgs(profile(), 'docker'));
    // Nothing else moves: take out the three Podman additions, and Docker's inline profile and host alias, and the rest is the same argv.
    const without = (args: string[], values: string[]) => args.filter((a, i) => !values.includes(a) && !values.includes(args[i + 1] ?? ''));
    assert.deepEqual(
      without(onPodman, ['/var/tmp:ro,nosuid,nodev,noexec,size=4k', 'nofile=8192:8192', 'nproc=16384:16384']),
      without(dockerRunArgs(profile()).args, [`seccomp=${shipped}`, 'host.docker.internal:host-gateway']),
    );
  });
});

describe('Podman: which engine answers', () => {
  it('tells Podman from Docker by its component names; anything unreadable is Docker', async () => {
    assert.equal(engineKindOf(PODMAN_VERSION), 'podman');
    assert.equal(engineKindOf(DOCKER_VERSION), 'docker');
    assert.equal(engineKindOf(''), 'docker');
    assert.equal(engineKindOf('not json'), 'docker');
    const engine = answering({ version: PODMAN_VERSION });
    assert.equal(await detectEngineKind(engine), 'podman');
    assert.deepEqual(engine.calls, [['version', '--format', '{{json .}}']]);
  });

  it('doctor: kind, version, API version and rootful or rootless', () => {
    const version = JSON.parse(PODMAN_VERSION);
    assert.equal(engineCheck({ version, securityOptions: ['name=seccomp,profile=default'] }).detail, 'Podman 4.3.1 (API 1.41, rootful, client 28.2.2)');
    assert.equal(
      engineCheck({ version, securityOptions: ['name=seccomp,profile=default', 'name=rootless'] }).detail,
      'Podman 4.3.1 (API 1.41, rootless, client 28.2.2)',
    );
    assert.equal(engineCheck({ version: JSON.parse(DOCKER_VERSION), securityOptions: [] }).detail, 'Docker 20.10.24+dfsg1 (API 1.41, rootful, client 28.2.2)');
  });

  it('the endpoint: only a unix socket can be asked for libpod info', () => {
    assert.deepEqual(CONTEXT_ENDPOINT_ARGS, ['context', 'inspect', '--format', '{{.Endpoints.docker.Host}}']);
    assert.equal(unixSocketOf('unix:///run/podman/podman.sock'), '/run/podman/podman.sock');
    assert.equal(unixSocketOf('unix:///run/user/1000/podman/podman.sock\n'), '/run/user/1000/podman/podman.sock');
    assert.equal(unixSocketOf('ssh://root@host'), undefined);
    assert.equal(unixSocketOf('tcp://127.0.0.1:2375'), undefined);
  });
});

describe('Podman: the seccomp profile must be the engine default', () => {
  const wanted = seccompProfile();
  const observed = { wanted: shipped, endpoint: 'unix:///run/podman/podman.sock', enginePath: '/etc/containers/mcp-sandbox-seccomp.json' };

  it('the same rules (whatever the formatting) pass; other rules, an unreadable or unknown profile fail with the fix', () => {
    assert.equal(seccompProblem({ ...observed, engineContent: JSON.stringify(wanted) }, wanted), undefined);
    const other = seccompProblem(
      { ...observed, enginePath: '/usr/share/containers/seccomp.json', engineContent: '{"defaultAction":"SCMP_ACT_ERRNO"}' },
      wanted,
    );
    assert.match(other!.detail, /applies the seccomp profile \/usr\/share\/containers\/seccomp\.json, not the sandbox's/);
    assert.match(other!.fix, new RegExp(`seccomp_profile = "${shipped}"`));
    assert.match(other!.fix, /restart `podman system service`.*ensure-podman\.sh/);
    assert.match(seccompProblem(observed, wanted)!.detail, /cannot be read here/);
    assert.match(seccompProblem({ ...observed, engineContent: '{' }, wanted)!.detail, /not JSON/);
    assert.match(
      seccompProblem({ wanted: shipped, endpoint: 'ssh://root@h', error: 'only a local unix:// socket can be asked' }, wanted)!.detail,
      /cannot tell/,
    );
  });

  it('reads the default from libpod info on the socket, and start refuses another profile before anything runs', async (t) => {
    const socket = join(root, 'podman.sock');
    const enginePath = join(root, 'engine-seccomp.json');
    writeFileSync(enginePath, JSON.stringify(wanted));
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ host: { security: { rootless: false, seccompProfilePath: enginePath } } }));
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    assert.deepEqual(await podmanInfo(socket), { host: { security: { rootless: false, seccompProfilePath: enginePath } } });
    const engine = answering({ context: `unix://${socket}` });
    const seen = await observePodmanSeccomp(engine, shipped);
    assert.equal(seen.enginePath, enginePath);
    await ensurePodmanSeccomp(engine, shipped);

    const stricter = join(root, 'stricter.json');
    writeFileSync(stricter, JSON.stringify({ ...wanted, syscalls: wanted.syscalls.slice(1) }));
    await assert.rejects(ensurePodmanSeccomp(engine, stricter), (error: unknown) => {
      assert.ok(error instanceof StateError);
      assert.equal(error.exitCode, 1);
      assert.match(error.message, /^MCP_SECCOMP_PROFILE: Podman at unix:\/\/.* applies the seccomp profile .*engine-seccomp\.json, not the sandbox's/);
      assert.match(error.message, /Nothing was started$/);
      assert.match(error.hint!, /seccomp_profile = ".*stricter\.json"/);
      return true;
    });
    assert.ok(requests.every((r) => r === 'GET /v4.0.0/libpod/info'));
    assert.ok(
      engine.calls.every((c) => c[0] === 'context'),
      'only read-only docker commands',
    );
  });
});
