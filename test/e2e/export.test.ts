/**
 * `npm run export -- --format compose`, run for real: Debian's docker-compose
 * starts the exported project; an MCP SDK client lists and calls tools through
 * TLS and the token; `docker inspect` shows the very HostConfig hardening of an
 * instance that `npm run start -- -d` started from the same settings; status
 * finds it by its labels; `down -v` leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { TARGET_IMAGE } from './battery.js';
import { insideAsServerUser, makeTargetCertificates, startNameTarget } from './egress-target.js';
import { assertServesDefaultServer, cli, createInstance, docker, inspect, projectDir, removeInstance, waitFor, type Instance } from './harness.js';

const SERVER_SECRET = 'srv-s3cret-value';
/**
 * Settings both instances share: the server's variable travels as a secret, limits differ from the
 * defaults, and a literal `$` (single-quoted for dotenvx) must reach the container as written.
 */
const SHARED = {
  MCP_ENV: 'PROBE_SECRET',
  PROBE_SECRET: SERVER_SECRET,
  MCP_MEMORY: '768m',
  MCP_CPUS: '0.5',
  MCP_PIDS: '200',
  MCP_SERVER_ARGS: "'/workspace $HOME'",
};

interface Inspect {
  Config: { Env: string[]; Labels: Record<string, string> };
  HostConfig: Record<string, any>;
  State: { Health?: { Status: string } };
}

/** The hardening fields of HostConfig, with what legitimately differs between two instances taken out. */
function hardening(host: Record<string, any>) {
  const seccomp = (host.SecurityOpt as string[]).find((o) => o.startsWith('seccomp='))!;
  return {
    CapDrop: host.CapDrop,
    // The docker CLI writes CAP_CHOWN where Compose passes CHOWN on: the engine takes both as one capability.
    CapAdd: (host.CapAdd as string[]).map((c) => c.replace(/^CAP_/, '')),
    ReadonlyRootfs: host.ReadonlyRootfs,
    Tmpfs: host.Tmpfs,
    // The CLI sends the profile compacted, docker-compose re-serialized: the same JSON either way.
    SecurityOpt: (host.SecurityOpt as string[]).map((o) => (o === seccomp ? 'seccomp=<profile>' : o)).sort(),
    seccompProfile: JSON.parse(seccomp.slice('seccomp='.length)),
    PidsLimit: host.PidsLimit,
    Memory: host.Memory,
    MemorySwap: host.MemorySwap,
    NanoCpus: host.NanoCpus,
    Ulimits: host.Ulimits,
    RestartPolicy: host.RestartPolicy,
    Privileged: host.Privileged,
    // The address and the container port; the host port is each instance's own.
    PortBindings: Object.fromEntries(
      Object.entries(host.PortBindings as Record<string, Array<{ HostIp: string }>>).map(([port, b]) => [port, b.map((x) => x.HostIp)]),
    ),
  };
}

const envMap = (env: string[]) => new Map(env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));

describe('export --format compose, run by docker-compose (steps in order, on shared instances)', { timeout: 600_000 }, () => {
  let started: Instance;
  let exported: Instance;
  let out: string;
  let compose: (args: string[]) => Promise<{ exitCode?: number; all: string }>;

  before(async () => {
    started = await createInstance('exp-e2e-start', SHARED);
    exported = await createInstance('exp-e2e-compose', SHARED);
    out = join(exported.dir, 'deploy');
    // From another folder than the export's: every path in compose.yaml must hold from anywhere.
    compose = async (args) => {
      const result = await execa('docker-compose', ['-f', join(out, 'compose.yaml'), ...args], { cwd: projectDir, reject: false, all: true });
      return { exitCode: result.exitCode, all: String(result.all) };
    };
    for (const instance of [started, exported]) {
      const built = await cli(['build', '--env-file', instance.envFile]);
      assert.equal(built.exitCode, 0, built.all);
    }
  });

  after(async () => {
    await compose(['down', '--volumes']);
    for (const instance of [started, exported]) await removeInstance(instance);
  });

  test('bad input: exit 2, a message naming the fix, nothing written', async () => {
    const unknown = await cli(['export', '--format', 'helm', '--env-file', exported.envFile, '--out', out]);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /--format must be one of compose, kubernetes/);
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'mine\n');
    const busy = await cli(['export', '--format', 'compose', '--env-file', exported.envFile, '--out', out]);
    assert.equal(busy.exitCode, 2);
    assert.match(busy.stderr, /exists and is not empty; choose a new folder, or pass --force/);
    assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'mine\n');
  });

  test('the export: compose.yaml without a secret, the env file 0600, the seccomp profile beside them', async () => {
    const written = await cli(['export', '--format', 'compose', '--env-file', exported.envFile, '--out', out, '--force']);
    assert.equal(written.exitCode, 0, written.all);
    assert.ok(!existsSync(join(out, 'keep.txt')), '--force replaced the folder');
    const yaml = readFileSync(join(out, 'compose.yaml'), 'utf8');
    assert.ok(!yaml.includes(exported.token) && !yaml.includes(SERVER_SECRET), 'no secret in compose.yaml');
    assert.ok(!written.all.includes(exported.token) && !written.all.includes(SERVER_SECRET), 'no secret printed');
    assert.equal(statSync(join(out, `${exported.name}.env`)).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, `${exported.name}.server-env`)).mode & 0o777, 0o600);
    assert.ok(!readFileSync(join(out, `${exported.name}.env`), 'utf8').includes(SERVER_SECRET), "the server's value is not in the env file");
    assert.match(readFileSync(join(out, `${exported.name}.env`), 'utf8'), new RegExp(`^ACCESS_TOKEN='${exported.token}'$`, 'm'));
    assert.equal(readFileSync(join(out, 'seccomp.json'), 'utf8'), readFileSync(join(projectDir, 'profiles', 'seccomp.json'), 'utf8'));
    const config = await compose(['config', '--quiet']);
    assert.equal(config.exitCode, 0, config.all);
  });

  test('docker-compose up -d serves MCP clients through TLS and the token; a wrong token is refused', async () => {
    const up = await compose(['up', '-d']);
    assert.equal(up.exitCode, 0, up.all);
    await waitFor(
      'the compose instance to be healthy',
      async () => ((await inspect<Inspect>(exported.name)).State.Health?.Status === 'healthy' ? true : undefined),
      120_000,
    );
    const certificate = (await docker(['exec', exported.name, 'cat', '/run/sandbox/served-cert.pem'])).stdout;
    await assertServesDefaultServer(exported, certificate);
  });

  test('docker inspect: the same HostConfig hardening and environment as `npm run start -- -d`', async () => {
    const run = await cli(['start', '-d', '--env-file', started.envFile]);
    assert.equal(run.exitCode, 0, run.all);
    const [a, b] = [await inspect<Inspect>(started.name), await inspect<Inspect>(exported.name)];
    assert.deepEqual(hardening(b.HostConfig), hardening(a.HostConfig));
    // Spot checks that the compared fields are the hardening, not two empty values.
    assert.deepEqual([b.HostConfig.CapDrop, b.HostConfig.ReadonlyRootfs, b.HostConfig.PidsLimit, b.HostConfig.Memory], [['ALL'], true, 200, 768 * 2 ** 20]);
    assert.equal(b.HostConfig.NetworkMode, `${exported.name}-net`);
    const [envA, envB] = [envMap(a.Config.Env), envMap(b.Config.Env)];
    for (const [name, value] of envA) {
      if (['ACCESS_TOKEN', 'SANDBOX_HOST_PORT', 'HOSTNAME', 'SANDBOX_TLS_SOURCE', 'SANDBOX_NAME'].includes(name)) continue;
      assert.equal(envB.get(name), value, name);
    }
    // Each names its own instance (the audit trail's lines carry it).
    assert.deepEqual([envA.get('SANDBOX_NAME'), envB.get('SANDBOX_NAME')], [started.name, exported.name]);
    // The one intended difference: start serves the certificate the local CA signed on this machine;
    // an export runs anywhere, so its container makes its own (docs/DEPLOY.md).
    assert.deepEqual([envA.get('SANDBOX_TLS_SOURCE'), envB.get('SANDBOX_TLS_SOURCE')], ['local-ca', undefined]);
    assert.equal(envB.get('ACCESS_TOKEN'), exported.token);
    // The server's variable: in neither container's configuration (the name only), but in each one's file for the server (issue 27.6).
    assert.deepEqual([envA.get('PROBE_SECRET'), envB.get('PROBE_SECRET')], [undefined, undefined]);
    assert.deepEqual([envA.get('MCP_ENV'), envB.get('MCP_ENV')], ['PROBE_SECRET', 'PROBE_SECRET']);
    const mounts = (i: Inspect) => (i as unknown as { Mounts: Array<{ Type: string; Destination: string; RW: boolean }> }).Mounts;
    assert.ok(
      mounts(a).some((m) => m.Type === 'volume' && m.Destination === '/etc/mcp-sandbox/server-env' && !m.RW),
      JSON.stringify(mounts(a)),
    );
    assert.ok(
      mounts(b).some((m) => m.Type === 'bind' && m.Destination === '/etc/mcp-sandbox/server-env/env' && !m.RW),
      JSON.stringify(mounts(b)),
    );
    for (const name of [started.name, exported.name]) {
      const exec = await docker(['exec', name, 'printenv', 'PROBE_SECRET']);
      assert.equal(exec.stdout, '', `${name}: docker exec does not carry the value`);
    }
    assert.equal(envB.get('NPM_MCP_ARGS'), '/workspace $HOME');
    assert.equal(b.Config.Labels['io.mcp-sandbox.instance'], exported.name);
  });

  test('npm run status finds the compose instance by its labels; down --volumes removes container, network and volume', async () => {
    const status = await cli(['status', '--json']);
    assert.equal(status.exitCode, 0, status.all);
    assert.ok(
      (JSON.parse(status.stdout) as Array<{ name: string }>).some((row) => row.name === exported.name),
      status.stdout,
    );
    const down = await compose(['down', '--volumes']);
    assert.equal(down.exitCode, 0, down.all);
    assert.equal((await docker(['ps', '-a', '-q', '--filter', `name=^/${exported.name}$`])).stdout, '');
    assert.equal((await docker(['network', 'ls', '-q', '--filter', `name=^${exported.name}-net$`])).stdout, '');
    assert.equal((await docker(['volume', 'ls', '-q', '--filter', `name=^${exported.name}-tls$`])).stdout, '');
  });
});

describe('export --format compose with MCP_EGRESS by name: the exported service carries the enforcer', { timeout: 600_000 }, () => {
  const network = 'mcps-e2e-exp-names-net';
  const target = 'mcps-e2e-exp-names-target';
  let instance: Instance;
  let out: string;
  let certs: string;
  let targetAddress: string;
  const compose = async (args: string[]) => {
    const result = await execa('docker-compose', ['-f', join(out, 'compose.yaml'), ...args], { cwd: projectDir, reject: false, all: true });
    return { exitCode: result.exitCode, all: String(result.all) };
  };

  before(async () => {
    certs = await makeTargetCertificates();
    await docker(['rm', '-f', target]);
    await docker(['network', 'rm', network]);
    assert.equal((await docker(['network', 'create', network])).exitCode, 0);
    targetAddress = await startNameTarget(target, network, certs);
    // The target's network joined as MCP_NETWORKS (an external network in compose.yaml).
    instance = await createInstance('exp-e2e-names', { MCP_EGRESS: 'allowed.test', MCP_NETWORKS: network });
    out = join(instance.dir, 'deploy');
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    const written = await cli(['export', '--format', 'compose', '--env-file', instance.envFile, '--out', out]);
    assert.equal(written.exitCode, 0, written.all);
    const up = await compose(['up', '-d']);
    assert.equal(up.exitCode, 0, up.all);
    await waitFor(
      'the compose instance to be healthy',
      async () => ((await inspect<Inspect>(instance.name)).State.Health?.Status === 'healthy' ? true : undefined),
      120_000,
    );
  });

  after(async () => {
    if (out) await compose(['down', '--volumes']);
    if (instance) await removeInstance(instance);
    await docker(['rm', '-f', target]);
    await docker(['network', 'rm', network]);
    if (certs) rmSync(certs, { recursive: true, force: true });
  });

  test("the server's user reaches allowed.test over HTTPS (control); other.test on the same address is refused by its TLS name and does not resolve", async () => {
    assert.deepEqual(await insideAsServerUser('docker', instance.name, 'dns', 'allowed.test'), { ok: true, address: targetAddress });
    const allowed = await insideAsServerUser('docker', instance.name, 'https', 'allowed.test', 'allowed.test', 'allowed.test');
    assert.deepEqual([allowed.ok, allowed.status, allowed.sni], [true, 200, 'allowed.test'], JSON.stringify(allowed));
    const other = await insideAsServerUser('docker', instance.name, 'https', targetAddress, 'other.test', 'other.test');
    assert.equal(other.ok, false, JSON.stringify(other));
    assert.deepEqual(await insideAsServerUser('docker', instance.name, 'dns', 'other.test'), { ok: false, code: 'ENOTFOUND' });
    const logs = await docker(['logs', instance.name]);
    assert.match(logs.stdout + logs.stderr, /egress refused: other\.test:443 \(TLS name not in MCP_EGRESS\)/);
  });

  test('host.docker.internal is in the exported container, at the address Docker gives host-gateway (as `npm run start` adds it)', async () => {
    const hosts = (await docker(['exec', instance.name, 'cat', '/etc/hosts'])).stdout;
    const line = hosts.split('\n').find((l) => /\shost\.docker\.internal$/.test(l.trim()));
    assert.ok(line, hosts);
    // Control: what Docker writes for --add-host host.docker.internal:host-gateway in a plain container.
    const plain = await docker(['run', '--rm', '--add-host', 'host.docker.internal:host-gateway', TARGET_IMAGE, 'getent', 'hosts', 'host.docker.internal']);
    assert.equal(plain.exitCode, 0, plain.stderr);
    assert.equal(line.trim().split(/\s+/)[0], plain.stdout.trim().split(/\s+/)[0]);
  });
});
