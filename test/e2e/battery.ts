/**
 * The escape battery (docs/SECURITY.md), shared by every template: the probe
 * server runs as the sandboxed MCP server and tries each escape through the
 * template's real gateway. Every network target is a container the test starts
 * on a network it created. Template-specific items (nginx's TLS port, Origin
 * and brute-force checks) live beside the template's own tests.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createDockerEngine } from '../../package_scripts/docker/engine.js';
import { LABEL_INSTANCE, WARDEN_VOLUME_TARGET } from '../../package_scripts/docker/names.js';
import { observePodmanSeccomp } from '../../package_scripts/docker/podman.js';
import { engineOfKind } from '../../package_scripts/engines/registry.js';
import { seccompProfile } from '../../package_scripts/sandbox/seccomp.js';
import { gatewayPorts } from '../unit/gateway-ports.js';
import { callJson, cli, connectClient, createInstance, docker, engine, newToken, probeServerDir, removeInstance, type Instance } from './harness.js';

export const TARGET_IMAGE = 'node:22-bookworm-slim';
/** Where the probe server's package lands in the image. */
export const PROBE_PACKAGE = '/opt/mcp-server/node_modules/mcp-sandbox-probe-server';
// A client that resets the connection must not crash the listener.
const LISTENER = "require('net').createServer((s) => { s.on('error', () => {}); s.end('hello'); }).listen(7000)";
const CONNECT = (host: string, port: number) =>
  `const s=require('net').connect(${port},'${host}');s.setTimeout(3000,()=>{console.log('TIMEOUT');process.exit()});s.on('connect',()=>{console.log('CONNECTED');process.exit()});s.on('error',(e)=>{console.log(e.code);process.exit()})`;

const MCP_UID = 10002; // docker/common/build/setup-os
const WARDEN_UID = 10004; // the session gateway's user (docker/common/build/setup-os)
const SESSION_GATEWAY_PORT = 8000;
const DOCKER_DNS = '127.0.0.11';

/** A TCP connection from inside the instance as the gateway's user: CONNECTED, TIMEOUT or an error code. */
async function connectAsGateway(container: string, host: string, port: number): Promise<string> {
  const result = await docker(['exec', '--user', 'gateway', container, 'node', '-e', CONNECT(host, port)]);
  return result.stdout.trim() || `exit ${result.exitCode}: ${result.stderr}`;
}

/** A TCP listener on port 7000 (it answers "hello"), reachable by name on `network`. */
export async function startTarget(name: string, network: string) {
  await docker(['rm', '-f', name]);
  const started = await docker(['run', '-d', '--name', name, '--network', network, '--network-alias', name, TARGET_IMAGE, 'node', '-e', LISTENER]);
  assert.equal(started.exitCode, 0, started.stderr);
}

export async function addressOf(container: string, network: string): Promise<string> {
  const inspected = await docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container]);
  assert.match(inspected.stdout.trim(), /^\d+\.\d+\.\d+\.\d+$/, `${container} on ${network}: ${inspected.stderr}`);
  return inspected.stdout.trim();
}

/** A control container on the same network: proves a target is reachable when the sandbox says it is not. */
export async function connectFromNeighbour(network: string, host: string, port: number): Promise<string> {
  const result = await docker(['run', '--rm', '--network', network, TARGET_IMAGE, 'node', '-e', CONNECT(host, port)]);
  return result.stdout.trim();
}

/**
 * The seccomp profile the engine applies to the container. Docker keeps the
 * profile start sent in SecurityOpt; Podman's compat API cannot take one per
 * container, so it must be the engine's default (docker/podman.ts), read the
 * way start checks it.
 */
async function seccompInForce(securityOpt: readonly string[]): Promise<unknown> {
  const seccomp = securityOpt.find((o) => o.startsWith('seccomp='));
  if (engine === 'docker') {
    assert.ok(seccomp, `SecurityOpt: ${securityOpt.join(', ')}`);
    return JSON.parse(seccomp.slice('seccomp='.length));
  }
  assert.equal(seccomp, undefined, 'no per-container profile on Podman: it would be read as a path');
  const observed = await observePodmanSeccomp(createDockerEngine(), 'profiles/seccomp.json');
  assert.ok(observed.engineContent, `Podman's default seccomp profile: ${observed.error ?? observed.enginePath}`);
  return JSON.parse(observed.engineContent);
}

/** Docker names a limit "core", Podman "RLIMIT_CORE"; sorted by name. */
function normalUlimits(ulimits: readonly { Name: string; Soft: number; Hard: number }[] | null) {
  return (ulimits ?? []).map((u) => ({ ...u, Name: u.Name.replace(/^RLIMIT_/, '').toLowerCase() })).sort((a, b) => a.Name.localeCompare(b.Name));
}

/** What start asks for: no core dumps, and on Podman bounded open files and processes. */
function expectedUlimits() {
  const asked = ['core=0', ...engineOfKind(engine).extraLimitArgs.filter((a) => a !== '--ulimit')];
  return normalUlimits(
    asked.map((a) => {
      const [name, value] = a.split('=') as [string, string];
      const [soft, hard = soft] = value.split(':').map(Number) as [number, number?];
      return { Name: name, Soft: soft, Hard: hard };
    }),
  );
}

/** Values that must stay out of the server's reach, whatever the template. */
export interface BatterySecrets {
  secretVar: string;
  tunnelToken: string;
}

/** An instance running the probe server with mounts, MCP_ENV and tight limits (plus the template's settings). */
export async function createBatteryInstance(
  name: string,
  settings: Record<string, string> = {},
  server = probeServerDir,
): Promise<{ instance: Instance; secrets: BatterySecrets }> {
  const secrets = { secretVar: `not-for-the-server-${newToken().slice(0, 12)}`, tunnelToken: newToken() };
  const instance = await createInstance(name, {
    MCP_SERVER: server,
    MCP_SERVER_ARGS: '',
    MCP_MOUNTS: './ro:/workspace/ro,./rw:/workspace/rw:rw',
    MCP_ENV: 'ALLOWED_VAR',
    ALLOWED_VAR: 'visible-to-the-server',
    SECRET_VAR: secrets.secretVar,
    NGROK_AUTHTOKEN: secrets.tunnelToken,
    PINGGY_ACCESS_TOKEN: secrets.tunnelToken,
    PINGGY_BEARER_TOKEN: secrets.tunnelToken,
    MCP_EGRESS: 'none',
    MCP_MEMORY: '256m',
    MCP_PIDS: '64',
    ...settings,
  });
  mkdirSync(join(instance.dir, 'ro'));
  mkdirSync(join(instance.dir, 'rw'));
  chmodSync(join(instance.dir, 'rw'), 0o777); // the server writes as uid 10002
  writeFileSync(join(instance.dir, 'ro', 'readable.txt'), 'mounted read-only');
  writeFileSync(join(instance.dir, 'unmounted.txt'), 'never mounted');
  return { instance, secrets };
}

export interface BatteryContext {
  instance: Instance;
  secrets: BatterySecrets;
  /** The network the instance is on, with a listener container named `target`. */
  network: string;
  target: string;
  /** The shared client, and a way to open a fresh one through the gateway. */
  client: Client;
  connect(): Promise<Client>;
  /** Matches the command line (NUL-separated) of the gateway's long-lived processes. */
  gatewayProcess: RegExp;
}

/** A battery instance behind nginx, built and started, with a listener container named `target` on its network. */
export async function startNginxBattery(
  name: string,
  target: string,
  settings: Record<string, string> = {},
  server = probeServerDir,
  options: { ipv6Subnet?: string } = {},
): Promise<BatteryContext> {
  const { instance, secrets } = await createBatteryInstance(name, settings, server);
  const network = `${name}-net`; // the instance's own network: start reuses it
  await docker(['network', 'rm', network]);
  if (options.ipv6Subnet) {
    // An IPv6 network gives the container ::1 (Docker disables IPv6 in containers otherwise), so the IPv6 rules are tried too.
    const created = await docker(['network', 'create', '--ipv6', '--subnet', options.ipv6Subnet, '--label', `${LABEL_INSTANCE}=${name}`, network]);
    assert.equal(created.exitCode, 0, created.stderr);
  }
  const built = await cli(['build', '--env-file', instance.envFile]);
  assert.equal(built.exitCode, 0, built.all);
  const started = await cli(['start', '-d', '--env-file', instance.envFile]);
  assert.equal(started.exitCode, 0, started.all);
  await startTarget(target, network);
  const connect = () => connectClient(instance);
  return { instance, secrets, network, target, client: await connect(), connect, gatewayProcess: /^nginx/ };
}

export async function stopBattery(context: BatteryContext | undefined, target: string): Promise<void> {
  await context?.client.close().catch(() => undefined);
  await docker(['rm', '-f', target]);
  if (context) await removeInstance(context.instance);
}

export interface BatteryOptions {
  /**
   * Item 15 reads the reports the npm probe's install scripts leave in its
   * tree. The Python probe has none to leave: a wheel runs no code at install,
   * and a folder's build backend runs in the same server stage, which the npm
   * probe's scripts attack.
   */
  installReports: boolean;
}

/** Register the template-independent items; `context()` is read when each test runs (after `before`). */
export function sandboxBattery(context: () => BatteryContext, options: BatteryOptions = { installReports: true }): void {
  test('the legitimate paths work: tools, the read-only mount, the writable mount, /tmp', async () => {
    const { client } = context();
    assert.deepEqual(await callJson(client, 'read_file', { path: '/workspace/ro/readable.txt' }), { ok: true, value: 'mounted read-only' });
    assert.equal((await callJson(client, 'write_file', { path: '/workspace/rw/out.txt', content: 'x' })).ok, true);
    assert.equal((await callJson(client, 'write_file', { path: '/tmp/scratch.txt', content: 'x' })).ok, true);
  });

  test('1. a host file that was not mounted cannot be read', async () => {
    const { client, instance } = context();
    for (const path of [join(instance.dir, 'unmounted.txt'), instance.envFile, '/etc/shadow', '/root/.bashrc']) {
      assert.equal((await callJson(client, 'read_file', { path })).ok, false, path);
    }
  });

  test('2. a read-only mount cannot be written', async () => {
    const result = await callJson(context().client, 'write_file', { path: '/workspace/ro/readable.txt', content: 'changed' });
    assert.equal(result.ok, false);
    assert.equal(result.code, 'EROFS');
  });

  test('3. the root filesystem cannot be written', async () => {
    for (const path of [
      '/etc/evil',
      '/usr/local/bin/mcp-server',
      '/opt/sandbox/bin/entrypoint',
      '/opt/sandbox/gateway/run',
      `${PROBE_PACKAGE}/index.js`,
      '/workspace/new.txt',
      '/evil',
      // Podman mounts a writable tmpfs here on a read-only root unless start covers it (docker/podman.ts).
      '/var/tmp/evil',
    ]) {
      assert.equal((await callJson(context().client, 'write_file', { path, content: 'x' })).ok, false, path);
    }
  });

  test('4. the access token and tunnel tokens are nowhere the server can read', async () => {
    const { client, instance, secrets, gatewayProcess } = context();
    const harvest = await callJson<{ procs: Record<string, { cmdline: string | null; environ: string | null }>; contents: Record<string, string> }>(
      client,
      'harvest',
    );
    const readable = JSON.stringify(harvest);
    assert.ok(Object.keys(harvest.procs).length >= 5, 'the probe saw the other processes');
    assert.ok(Object.keys(harvest.contents).length > 10, 'the probe read files');
    assert.ok(!readable.includes(instance.token), 'access token readable by the server');
    assert.ok(!readable.includes(secrets.tunnelToken), 'tunnel token readable by the server');
    const gateway = Object.values(harvest.procs).filter((p) => p.cmdline !== null && gatewayProcess.test(p.cmdline));
    assert.ok(gateway.length > 0, `the gateway process is in view (${gatewayProcess})`);
    assert.ok(
      gateway.every((p) => p.environ === null),
      "the gateway's environment is unreadable",
    );
  });

  test('5. only the variables named in MCP_ENV reach the server', async () => {
    const { env } = await callJson<{ env: Record<string, string> }>(context().client, 'environment');
    assert.equal(env.ALLOWED_VAR, 'visible-to-the-server');
    const gatewayNames = ['SECRET_VAR', 'ACCESS_TOKEN', 'NGROK_AUTHTOKEN', 'PINGGY_ACCESS_TOKEN', 'PINGGY_SERVER', 'NPM_MCP_ARGS', 'MCP_EGRESS', 'LOG_LEVEL'];
    for (const name of gatewayNames) assert.equal(env[name], undefined, name);
    assert.ok(!JSON.stringify(env).includes(context().secrets.secretVar));
    const unexpected = Object.keys(env).filter((k) => !['ALLOWED_VAR', 'PATH', 'HOME', 'PWD', 'SHLVL', '_'].includes(k));
    assert.deepEqual(unexpected, []);
  });

  test("5b. MCP_ENV's values are the server's alone: not in the container's configuration, not in docker exec, not readable in their file (issue 27.6)", async () => {
    const { client, instance } = context();
    // Control: the server has the value.
    const { env } = await callJson<{ env: Record<string, string> }>(client, 'environment');
    assert.equal(env.ALLOWED_VAR, 'visible-to-the-server');
    // docker exec runs with the container's configured environment: the name is not there, so nothing is printed.
    const exec = await docker(['exec', instance.name, 'printenv', 'ALLOWED_VAR']);
    assert.equal(exec.stdout, '', 'docker exec printenv prints nothing');
    assert.equal(exec.exitCode, 1, exec.stderr);
    const configured = JSON.parse((await docker(['inspect', '--format', '{{json .Config.Env}}', instance.name])).stdout) as string[];
    assert.ok(!configured.some((e) => e.startsWith('ALLOWED_VAR=') || e.includes('visible-to-the-server')), configured.join(' '));
    assert.ok(configured.includes('MCP_ENV=ALLOWED_VAR'), 'the names stay (the entrypoint checks them)');
    // PID 1 (tini, after the entrypoint's exec with env -i) holds none either.
    const init = await docker(['exec', instance.name, 'cat', '/proc/1/environ']);
    assert.equal(init.exitCode, 0, init.stderr);
    assert.ok(!init.stdout.includes('visible-to-the-server'));
    // The file: its owner's alone (root's under start, in a 0700 folder; Compose's secret is the host file's owner's), never
    // a sandbox user's; the server cannot open it (control: its own mount is readable).
    const mode = await docker(['exec', instance.name, 'stat', '-c', '%a %U', '/etc/mcp-sandbox/server-env/env']);
    assert.match(mode.stdout.trim(), /^600 /, mode.stderr);
    assert.ok(!/ (mcp|gateway)$/.test(mode.stdout.trim()), mode.stdout);
    const read = await callJson(client, 'read_file', { path: '/etc/mcp-sandbox/server-env/env' });
    assert.equal(read.ok, false);
    assert.equal(read.code, 'EACCES');
    assert.deepEqual(await callJson(client, 'read_file', { path: '/workspace/ro/readable.txt' }), { ok: true, value: 'mounted read-only' });
  });

  test('6. the server cannot become root', async () => {
    const result = await callJson(context().client, 'become_root');
    assert.equal(result.uid, 10002);
    assert.equal(result.euid, 10002);
    assert.equal(result.attempts.setuid.ok, false);
    assert.notEqual(result.attempts.sudo.status, 0);
    assert.notEqual(result.attempts.su.status, 0);
    // The base image has setuid binaries (install-time.test.ts shows them); this image has none left.
    assert.deepEqual(result.setuidBinaries, []);
    assert.deepEqual(result.escalated, []);
  });

  test('7. no capability at all: no raw socket (CAP_NET_RAW), no new privileges', async () => {
    const { status } = await callJson(context().client, 'identity');
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(status[set], '0000000000000000', set);
    assert.equal(status.NoNewPrivs, '1');
  });

  test("gateway memory: the session gateway's /proc/PID/mem (read, write) and environ are refused to the server, which opens its own mem", async () => {
    const probe = await callJson(context().client, 'parent_memory');
    assert.match(probe.parentCmdline, /\/opt\/session-gateway\//, `the parent is the session gateway: ${probe.parentCmdline}`);
    assert.equal(probe.selfMem.ok, true, `control: the server opens its own /proc/self/mem: ${JSON.stringify(probe.selfMem)}`);
    for (const opened of ['memRead', 'memWrite', 'environ']) {
      assert.deepEqual([probe[opened].ok, probe[opened].code], [false, 'EACCES'], `${opened}: ${JSON.stringify(probe[opened])}`);
    }
    // The gateway is "warden", not the server's "mcp", holding CAP_SETUID and CAP_SETGID alone (to start each server as mcp).
    const status = probe.parentStatus as Record<string, string>;
    assert.equal(status.Uid, '10004\t10004\t10004\t10004');
    assert.equal(status.Gid, '10004\t10004\t10004\t10004');
    for (const set of ['CapEff', 'CapPrm', 'CapAmb']) assert.equal(status[set], '00000000000000c0', set);
    assert.equal(status.CapBnd, '0000000000000000');
  });

  test('the enforcer: the server can neither stop nor kill the session gateway, which signals the server freely (control: its own child)', async () => {
    const { client } = context();
    const result = await callJson(client, 'signal_parent');
    assert.deepEqual(result.probe, { ok: false, code: 'EPERM' }, `signal 0 to the gateway: ${JSON.stringify(result)}`);
    for (const signal of ['SIGSTOP', 'SIGTERM', 'SIGKILL']) assert.deepEqual(result.sent[signal], { ok: false, code: 'EPERM' }, signal);
    for (const signal of ['0', 'SIGSTOP', 'SIGKILL']) assert.deepEqual(result.own[signal], { ok: true }, `control: ${signal} to its own child`);
    assert.deepEqual(await callJson(client, 'echo', { text: 'still here' }), { text: 'still here' }, 'the gateway still serves this session');
    // Its port: the gateway binds it before any server starts, and the server cannot take it from it.
    for (const host of ['127.0.0.1', '0.0.0.0']) {
      assert.deepEqual(await callJson(client, 'listen', { host, port: SESSION_GATEWAY_PORT, holdMs: 100 }), { listening: false, code: 'EADDRINUSE' }, host);
    }
    assert.deepEqual(await callJson(client, 'listen', { host: '127.0.0.1', port: 7102, holdMs: 100 }), { listening: true }, 'control: another port');
  });

  test("the enforcer's files: the server can neither read, write nor delete the tool pins, the audit trail or the warden's folder (control: the same in /tmp)", async () => {
    const { client } = context();
    const attempts: Array<[string, Record<string, string>]> = [
      ['read_file', { path: `${WARDEN_VOLUME_TARGET}/pins.json` }],
      ['write_file', { path: `${WARDEN_VOLUME_TARGET}/pins.json`, content: '{"tools":{}}' }],
      ['write_file', { path: `${WARDEN_VOLUME_TARGET}/pending.json`, content: '{"tools":{}}' }],
      ['remove_path', { path: `${WARDEN_VOLUME_TARGET}/pins.json` }],
      // The audit trail, in the same folder: read, rewritten, deleted (a line appended is a write).
      ['read_file', { path: `${WARDEN_VOLUME_TARGET}/audit/audit.jsonl` }],
      ['write_file', { path: `${WARDEN_VOLUME_TARGET}/audit/audit.jsonl`, content: '{}' }],
      ['remove_path', { path: `${WARDEN_VOLUME_TARGET}/audit/audit.jsonl` }],
      ['remove_path', { path: `${WARDEN_VOLUME_TARGET}/audit` }],
      ['remove_path', { path: WARDEN_VOLUME_TARGET }],
    ];
    for (const [tool, args] of attempts) {
      const result = await callJson<{ ok: boolean; code?: string }>(client, tool, args);
      assert.equal(result.ok, false, `${tool} ${args.path}: ${JSON.stringify(result)}`);
      assert.ok(['EACCES', 'EPERM', 'EBUSY', 'EROFS'].includes(result.code ?? ''), `${tool} ${args.path}: ${JSON.stringify(result)}`);
    }
    assert.equal((await callJson<{ ok: boolean }>(client, 'write_file', { path: '/tmp/warden-control', content: 'mine' })).ok, true, 'control: write');
    assert.deepEqual(await callJson(client, 'read_file', { path: '/tmp/warden-control' }), { ok: true, value: 'mine' }, 'control: read');
    assert.equal((await callJson<{ ok: boolean }>(client, 'remove_path', { path: '/tmp/warden-control' })).ok, true, 'control: delete');
  });

  test('8. MCP_EGRESS=none: no connection out, while a neighbour reaches the same host', async () => {
    const { client, network, target } = context();
    assert.equal(await connectFromNeighbour(network, target, 7000), 'CONNECTED');
    assert.equal((await callJson(client, 'connect', { host: await addressOf(target, network), port: 7000 })).connected, false);
  });

  test('9. MCP_EGRESS=none: names do not resolve', async () => {
    assert.equal((await callJson(context().client, 'resolve', { name: context().target })).ok, false);
  });

  test("11. the session gateway's port 8000 is closed to a neighbouring container", async () => {
    const { network, instance, target } = context();
    assert.equal(await connectFromNeighbour(network, target, 7000), 'CONNECTED', 'control: the neighbour reaches the network');
    assert.notEqual(await connectFromNeighbour(network, instance.name, 8000), 'CONNECTED');
  });

  test('14. no Docker socket and no host process in view', async () => {
    const view = await callJson(context().client, 'host_view');
    assert.deepEqual(view.sockets, []);
    assert.ok(view.processCount < 40, `${view.processCount} processes visible`);
    assert.ok(!view.commands.includes('dockerd') && !view.commands.includes('containerd'));
  });

  if (options.installReports)
    test('15. install-time tampering: the install scripts ran unprivileged and changed nothing outside their tree', async () => {
      const { client } = context();
      for (const event of ['preinstall', 'install', 'postinstall']) {
        const read = await callJson(client, 'read_file', { path: `${PROBE_PACKAGE}/install-report-${event}.json` });
        assert.equal(read.ok, true, `the ${event} script ran and left its report in its own tree`);
        const report = JSON.parse(read.value) as { uid: number; attempts: { target: string; ok: boolean }[] };
        assert.equal(report.uid, 10003, `${event} ran as the build user`);
        assert.ok(report.attempts.length >= 100, `${event}: ${report.attempts.length} attempts`);
        const succeeded = report.attempts.filter((a) => a.ok).map((a) => a.target);
        assert.ok(
          succeeded.some((t) => t.startsWith(`${PROBE_PACKAGE}/`)),
          `${event}: writing its own tree worked (control)`,
        );
        assert.deepEqual(
          succeeded.filter((t) => !t.startsWith('/opt/mcp-server/') && !t.startsWith('/home/builder/')),
          [],
          `${event} reached beyond its tree`,
        );
      }
      const passwd = await callJson(client, 'read_file', { path: '/etc/passwd' });
      assert.equal(passwd.ok, true);
      const lines = (passwd.value as string).split('\n');
      assert.ok(lines.includes('gateway:x:10001:10001::/nonexistent:/usr/sbin/nologin'), passwd.value);
      assert.ok(lines.includes('mcp:x:10002:10002::/nonexistent:/usr/sbin/nologin'), passwd.value);
      assert.deepEqual(
        lines.filter((l) => /^[^:]*:[^:]*:0:/.test(l)).map((l) => l.split(':')[0]),
        ['root'],
      );
      assert.ok(!passwd.value.includes('hostile install'), 'no line appended');
      // What the planted wrappers and preloads would have left behind, had anything run them.
      for (const path of [
        '/etc/ld.so.preload',
        '/etc/sudoers.d/mcp',
        '/etc/profile.d/zz-hostile.sh',
        '/usr/local/sbin/setpriv',
        '/usr/local/bin/tini',
        '/opt/node_modules/dotenv/index.js',
        '/tmp/stolen-environ',
        '/tmp/preloaded',
      ]) {
        assert.equal((await callJson(client, 'read_file', { path })).code, 'ENOENT', path);
      }
      for (const path of ['/opt/sandbox/bin/entrypoint', '/opt/sandbox/gateway/run', '/etc/environment', '/etc/group']) {
        const read = await callJson(client, 'read_file', { path });
        if (read.ok) assert.ok(!read.value.includes('hostile install'), path);
      }
    });

  test('16. seccomp: io_uring, ptrace and process_vm_readv are refused with EPERM; an ordinary call is not', async () => {
    const calls = await callJson(context().client, 'syscalls');
    assert.equal(calls.getpid.errno, 0, `control: ${JSON.stringify(calls)}`);
    assert.ok(calls.getpid.ret > 0);
    for (const name of ['io_uring_setup', 'ptrace_seize', 'process_vm_readv']) {
      assert.deepEqual([calls[name].ret, calls[name].errno], [-1, 1], `${name}: ${JSON.stringify(calls[name])}`);
    }
    const inspected = await docker(['inspect', '--format', '{{json .HostConfig}}', context().instance.name]);
    const host = JSON.parse(inspected.stdout) as { SecurityOpt: string[] | null; Ulimits: { Name: string; Soft: number; Hard: number }[] };
    assert.deepEqual(await seccompInForce(host.SecurityOpt ?? []), seccompProfile());
    assert.deepEqual(normalUlimits(host.Ulimits), expectedUlimits());
  });

  test('17. no setuid or setgid file on the root filesystem, and no core dumps', async () => {
    const special = await callJson(context().client, 'special_files');
    assert.deepEqual(special.found, []);
    assert.deepEqual(special.coreLimit, ['0', '0']);
  });

  frontDoorItems(context);

  test('12. fork bomb: the pids limit holds and the gateway keeps answering', async () => {
    const result = await callJson(context().client, 'fork_bomb', { count: 500 }, 120_000);
    assert.ok(result.started < 64, `${result.started} processes started`);
    assert.equal(result.failure, 'EAGAIN');
    const fresh = await context().connect();
    assert.deepEqual(await callJson(fresh, 'echo', { text: 'alive' }), { text: 'alive' });
    await fresh.close();
  });

  test('13. memory balloon: the limit holds and the instance recovers', async () => {
    const result = await callJson(context().client, 'balloon', { mb: 2048 }, 120_000);
    assert.equal(result.allocated, false);
    assert.equal(result.signal, 'SIGKILL');
    const fresh = await context().connect();
    assert.deepEqual(await callJson(fresh, 'echo', { text: 'alive' }), { text: 'alive' });
    await fresh.close();
    const state = await docker(['inspect', '--format', '{{.State.Status}} {{.RestartCount}}', context().instance.name]);
    assert.equal(state.stdout, 'running 0');
  });
}

/**
 * The front door (docs/SECURITY.md): the gateways' ports and the gateways' files
 * are out of the server's reach. Part of every battery; the tunnel with
 * AUTH=oauth, which has no full battery, runs these alone (oauth-tunnel.test.ts).
 */
export function frontDoorItems(context: () => Pick<BatteryContext, 'client' | 'instance'>): void {
  test("F1. the gateways' ports (docker/common/runtime/tables/gateway-ports): the server connects to none, on IPv4 and IPv6; the session gateway's port answers it and the gateway's user reaches each live one (controls)", async () => {
    const { client, instance } = context();
    const table = gatewayPorts().map((p) => p.port);
    const { listeners } = await callJson<{ listeners: { family: string; address: string; port: number; uid: number }[] }>(client, 'listeners');
    assert.ok(
      listeners.some((l) => l.port === SESSION_GATEWAY_PORT && l.uid === WARDEN_UID),
      `the session gateway (warden) is in view: ${JSON.stringify(listeners)}`,
    );
    // The table is complete: whatever listens and is neither the mcp user's own nor the session gateway is on one of its ports.
    // Docker's embedded DNS resolver listens in the container's namespace on 127.0.0.11 (a random port, uid 0): not a gateway.
    const gateways = listeners.filter((l) => l.uid !== MCP_UID && l.address !== DOCKER_DNS && !(l.uid === WARDEN_UID && l.port === SESSION_GATEWAY_PORT));
    assert.deepEqual(
      gateways.filter((l) => !table.includes(l.port)),
      [],
      'a gateway listens on a port the table does not name',
    );
    assert.deepEqual(await callJson(client, 'connect', { host: '127.0.0.1', port: SESSION_GATEWAY_PORT }), { connected: true });
    for (const port of table) {
      for (const [host, family] of [
        ['127.0.0.1', 'IPv4'],
        ['::1', 'IPv6'],
      ] as const) {
        const attempt = await callJson(client, 'connect', { host, port });
        assert.equal(attempt.connected, false, `${host} port ${port}: ${JSON.stringify(attempt)}`);
        if (gateways.some((l) => l.port === port && l.family === family)) {
          assert.equal(await connectAsGateway(instance.name, host, port), 'CONNECTED', `control: the gateway's user reaches ${host} port ${port}`);
        }
      }
    }
  });

  test("F2. the server cannot serve on a gateway's port: the gateway holds it, or its answers are dropped; a port outside the table serves (control)", async (t) => {
    const { client, instance } = context();
    const hold = { holdMs: 20_000 };
    assert.deepEqual(await callJson(client, 'listen', { host: '0.0.0.0', port: 7100, ...hold }), { listening: true });
    assert.equal(await connectAsGateway(instance.name, '127.0.0.1', 7100), 'CONNECTED', 'control: a port outside the table serves the gateway');
    // IPv6: either ::1 serves the same way, or the container has no IPv6 at all (Docker's default network).
    const v6 = await callJson(client, 'listen', { host: '::1', port: 7101, ...hold });
    const ipv6 = v6.listening === true;
    if (ipv6) assert.equal(await connectAsGateway(instance.name, '::1', 7101), 'CONNECTED', 'control: the same over ::1');
    else assert.equal(v6.code, 'EADDRNOTAVAIL', `no ::1 in the container: ${JSON.stringify(v6)}`);
    const bound: string[] = [];
    for (const port of gatewayPorts().map((p) => p.port)) {
      for (const [any, loopback] of [
        ['0.0.0.0', '127.0.0.1'],
        ['::', '::1'],
      ] as const) {
        const listened = await callJson(client, 'listen', { host: any, port, ...hold });
        if (!listened.listening) {
          const expected = ipv6 || any === '0.0.0.0' ? ['EADDRINUSE'] : ['EADDRINUSE', 'EADDRNOTAVAIL', 'EAFNOSUPPORT'];
          assert.ok(expected.includes(listened.code), `${any} port ${port}: ${JSON.stringify(listened)}`);
          continue;
        }
        bound.push(`${any}:${port}`);
        const reached = await connectAsGateway(instance.name, loopback, port);
        assert.notEqual(reached, 'CONNECTED', `the server answered on ${loopback} port ${port}`);
      }
    }
    t.diagnostic(`IPv6 in the container: ${ipv6}; bound by the server (and unreachable): ${bound.join(' ') || 'none'}`);
    // Where no port was free (nginx with AUTH=oauth and no IPv6), every one was held by its gateway (EADDRINUSE above).
    if (bound.length === 0) assert.ok(!ipv6, 'with IPv6, [::] on the IPv4-only gateway ports was free to try');
  });

  test("F3. the server cannot write where a gateway writes (/run, /run/sandbox and the gateway's files, the auth state); /tmp and its own folder under /run can (controls); /run and /tmp have their explicit modes", async () => {
    const { client, instance } = context();
    for (const path of ['/tmp/mcp-scratch', '/run/sandbox/mcp/scratch']) {
      assert.equal((await callJson(client, 'write_file', { path, content: 'x' })).ok, true, `control: ${path}`);
    }
    for (const path of ['/run/evil', '/run/sandbox/evil', '/run/sandbox/gateway/evil', '/run/sandbox/public-url', '/var/lib/mcp-sandbox/auth/evil']) {
      const written = await callJson(client, 'write_file', { path, content: 'x' });
      assert.equal(written.ok, false, path);
      assert.ok(['EACCES', 'EROFS', 'ENOENT', 'EPERM'].includes(written.code), `${path}: ${JSON.stringify(written)}`);
    }
    const modes = await docker(['exec', instance.name, 'stat', '-c', '%n %a %U', '/run', '/tmp', '/run/sandbox', '/run/sandbox/gateway']);
    assert.equal(modes.exitCode, 0, modes.stderr);
    assert.deepEqual(modes.stdout.trim().split('\n'), ['/run 755 root', '/tmp 1777 root', '/run/sandbox 711 root', '/run/sandbox/gateway 700 gateway']);
  });
}
