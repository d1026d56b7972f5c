/**
 * The tunnel templates end to end, with nothing reachable outside this machine:
 * - pinggy against a stand-in OpenSSH server (test/fixtures/ssh-stand-in) on a
 *   network the test creates: the real reverse tunnel, its supervision, and the
 *   escape battery through it. Pinggy's own bearer check happens at Pinggy and
 *   cannot be proven here; the test proves the token is handed to the server
 *   the way Pinggy reads it.
 * - ngrok against a stand-in that is not ngrok (it closes every connection):
 *   the failure path and the restart policy, and the escape battery through a
 *   test-only `docker exec` relay to the session gateway.
 * Each then restarts with MCP_EGRESS=allowed.test and runs the by-name items
 * (egress-target.ts) against an HTTPS target of the test's own on its network.
 */
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ENTRYPOINT_CAPABILITIES } from '../../package_scripts/sandbox/profile.js';
import { STAND_IN_USER, standInPinggy } from './ssh-stand-in.js';
import { addressOf, createBatteryInstance, sandboxBattery, startTarget, type BatteryContext } from './battery.js';
import { egressByNameItems, makeTargetCertificates, startNameTarget, type NameItemsContext } from './egress-target.js';
import { buildAndStart, cli, cliBackground, connectHttp, docker, execBridge, publishedUrl, removeInstance, waitFor } from './harness.js';

// eslint-disable-next-line no-control-regex -- /proc/PID/cmdline ends each argument with a NUL byte
const TUNNEL_PROCESS = /tunnel\.mjs|^ssh\x00/;

function setEnv(envFile: string, values: Record<string, string>) {
  const lines = readFileSync(envFile, 'utf8')
    .split('\n')
    .filter((l) => l && !Object.keys(values).includes(l.split('=')[0]!));
  writeFileSync(envFile, [...lines, ...Object.entries(values).map(([k, v]) => `${k}=${v}`), ''].join('\n'), { mode: 0o600 });
}

async function restartCount(name: string): Promise<number> {
  return Number((await docker(['inspect', '--format', '{{.RestartCount}}', name])).stdout.trim());
}

describe('pinggy template through a stand-in SSH server (steps in order, on shared instances)', { timeout: 900_000 }, () => {
  const name = 'mcps-e2e-pinggy';
  const network = `${name}-net`; // the instance's own network: start reuses it
  const sshd = 'mcps-e2e-sshd';
  const target = 'mcps-e2e-pinggy-target';
  let context: BatteryContext;
  let hostKey: string;
  let startOutput: string;
  let endpoint: string;

  async function tunnelEndpoint(): Promise<string> {
    const published = await publishedUrl(name);
    if (!published) return '';
    const port = new URL(published).port;
    return `http://${await addressOf(sshd, network)}:${port}/mcp`;
  }

  before(async () => {
    const pinggy = await standInPinggy(sshd, name, network, [target]);
    hostKey = pinggy.PINGGY_HOST_KEY!;
    await startTarget(target, network);

    const { instance, secrets } = await createBatteryInstance(name, pinggy);
    startOutput = await buildAndStart(instance);
    endpoint = await tunnelEndpoint();
    const connect = () => connectHttp(endpoint, secrets.tunnelToken);
    context = { instance, secrets, network, target, client: await connect(), connect, gatewayProcess: TUNNEL_PROCESS };
  });

  after(async () => {
    await context?.client.close().catch(() => undefined);
    if (context) await removeInstance(context.instance);
    await docker(['rm', '-f', sshd, target]);
    await docker(['network', 'rm', network]);
  });

  test('start waits for the tunnel and prints its URL; nothing is published on the host', async () => {
    const port = new URL(endpoint).port;
    assert.match(startOutput, new RegExp(`URL: +http://${sshd}:${port}/mcp`));
    assert.match(startOutput, /Credential: +PINGGY_BEARER_TOKEN in /);
    assert.equal((await docker(['port', name])).stdout.trim(), '');
    const logs = await docker(['logs', name]);
    assert.match(logs.stdout, new RegExp(`public URL: http://${sshd}:${port}`));
  });

  test('an MCP client lists the tools through the reverse tunnel', async () => {
    const { tools } = await context.client.listTools();
    assert.ok(
      tools.some((t) => t.name === 'echo'),
      tools.map((t) => t.name).join(','),
    );
  });

  test("Pinggy's options (the bearer token) reach the server as the session's command, never on a command line", async () => {
    const sent = (await docker(['exec', sshd, 'cat', `/home/${STAND_IN_USER}/remote-command`])).stdout.trim();
    assert.equal(sent, `k:${context.secrets.tunnelToken} x:https`);
    // Command lines are world-readable in /proc, so this is what anyone in the container could see.
    const processes = await docker(['exec', name, 'sh', '-c', 'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f"; echo; done']);
    assert.match(processes.stdout, /ssh -F \/run\/sandbox\/gateway\/ssh_config pinggy/);
    assert.ok(!processes.stdout.includes(context.secrets.tunnelToken) && !processes.stdout.includes(STAND_IN_USER), processes.stdout);
    const logs = await docker(['logs', name]);
    assert.ok(!`${logs.stdout}${logs.stderr}`.includes(context.secrets.tunnelToken));
  });

  test('status and connect report the tunnel URL and the Pinggy bearer token', async () => {
    const status = await cli(['status', '--json']);
    assert.equal(status.exitCode, 0, status.all);
    const row = (JSON.parse(status.stdout) as Array<Record<string, unknown>>).find((r) => r.name === name);
    assert.equal(row?.template, 'pinggy');
    assert.equal(row?.url, `http://${sshd}:${new URL(endpoint).port}/mcp`);
    const vscode = await cli(['connect', '--client', 'vscode', '--env-file', context.instance.envFile]);
    assert.equal(vscode.exitCode, 0, vscode.all);
    const server = (JSON.parse(vscode.stdout) as { servers: Record<string, { url: string; headers: Record<string, string> }> }).servers[name]!;
    assert.deepEqual(server.headers, { Authorization: `Bearer ${context.secrets.tunnelToken}` });
    assert.equal(server.url, row?.url);
  });

  sandboxBattery(() => context);

  test('a dropped session reconnects inside the container, without a restart', async () => {
    await docker(['restart', '--time', '1', sshd]);
    const before = endpoint;
    endpoint = await waitFor('the tunnel to come back', async () => {
      const next = await tunnelEndpoint();
      return next && next !== before ? next : undefined;
    });
    const client = await connectHttp(endpoint, context.secrets.tunnelToken);
    const { tools } = await client.listTools();
    assert.ok(tools.length > 0);
    await client.close();
    assert.equal(await restartCount(name), 0);
    assert.match((await docker(['logs', name])).stdout, /trying again in 1 s/);
  });

  test('a server whose host key does not match PINGGY_HOST_KEY is refused at once, and the container exits for a restart', async () => {
    const otherKey = await docker(['exec', sshd, 'sh', '-c', "ssh-keygen -q -t ed25519 -N '' -f /tmp/other && cut -d' ' -f1,2 /tmp/other.pub"]);
    assert.equal(otherKey.exitCode, 0, otherKey.stderr);
    setEnv(context.instance.envFile, { PINGGY_HOST_KEY: otherKey.stdout.trim() });
    const started = await cli(['start', '-d', '--timeout', '60', '--env-file', context.instance.envFile]);
    assert.equal(started.exitCode, 1, started.all);
    assert.match(started.all ?? '', /stopped before it became healthy/);
    assert.match(started.all ?? '', /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
    assert.match(started.all ?? '', /pinggy refused the tunnel/);
    await waitFor('a restart by the restart policy', async () => ((await restartCount(name)) >= 1 ? true : undefined));
  });

  test("without PINGGY_HOST_KEY the key first seen is kept in the instance's volume: after the server's key changes, a restart is refused; control: the first start and a reset volume connect", async () => {
    await cli(['stop', '--env-file', context.instance.envFile]);
    await docker(['volume', 'rm', '-f', `${name}-tunnel`]);
    setEnv(context.instance.envFile, { PINGGY_HOST_KEY: '' });
    // Control: the first sighting is trusted and the tunnel serves.
    const first = await cli(['start', '-d', '--env-file', context.instance.envFile]);
    assert.equal(first.exitCode, 0, first.all);
    assert.match(first.all ?? '', new RegExp(`kept in the volume ${name}-tunnel`));
    const kept = (await docker(['logs', name])).stdout;
    assert.match(kept, /host key as first seen, kept in the instance's volume/);
    assert.ok(kept.includes(`trusted the server's key on first use and kept in the instance's volume`) && kept.includes(hostKey), kept);
    // The server's key changes (a man in the middle, as the container sees it): sshd re-reads its new key on SIGHUP.
    const rekeyed = await docker([
      'exec',
      sshd,
      'sh',
      '-c',
      'rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub',
    ]);
    assert.equal(rekeyed.exitCode, 0, rekeyed.stderr);
    assert.notEqual(rekeyed.stdout.trim(), hostKey);
    assert.equal((await docker(['kill', '--signal', 'HUP', sshd])).exitCode, 0);
    // A new start of the instance (the old code trusted the new key afresh here).
    const refused = await cli(['start', '-d', '--timeout', '60', '--env-file', context.instance.envFile]);
    assert.equal(refused.exitCode, 1, refused.all);
    assert.match(refused.all ?? '', /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
    assert.match(refused.all ?? '', /pinggy refused the tunnel/);
    // Control: the reset the log names (stop, remove the volume) trusts the new key.
    await cli(['stop', '--env-file', context.instance.envFile]);
    assert.equal((await docker(['volume', 'rm', `${name}-tunnel`])).exitCode, 0);
    const reset = await cli(['start', '-d', '--env-file', context.instance.envFile]);
    assert.equal(reset.exitCode, 0, reset.all);
    assert.ok((await docker(['logs', name])).stdout.includes(rekeyed.stdout.trim()), 'the new key was trusted and shown');
  });

  describe('egress by name through the tunnel (MCP_EGRESS=allowed.test)', () => {
    const namesTarget = 'mcps-e2e-pinggy-names';
    let certs: string;
    let names: NameItemsContext;

    before(async () => {
      certs = await makeTargetCertificates();
      const targetAddress = await startNameTarget(namesTarget, network, certs);
      setEnv(context.instance.envFile, { MCP_EGRESS: 'allowed.test' });
      const started = await cli(['start', '-d', '--env-file', context.instance.envFile]);
      assert.equal(started.exitCode, 0, started.all);
      endpoint = await waitFor('the tunnel after the restart', async () => (await tunnelEndpoint()) || undefined);
      names = { client: await connectHttp(endpoint, context.secrets.tunnelToken), targetAddress };
    });

    after(async () => {
      await names?.client.close().catch(() => undefined);
      await docker(['rm', '-f', namesTarget]);
      if (certs) rmSync(certs, { recursive: true, force: true });
    });

    egressByNameItems(() => names);
  });
});

describe('ngrok template without an ngrok service (steps in order, on shared instances)', { timeout: 900_000 }, () => {
  const name = 'mcps-e2e-ngrok';
  const network = `${name}-net`;
  // Not ngrok: a listener that closes every connection (also the battery's target).
  const standIn = 'mcps-e2e-ngrok-stand-in';
  let context: BatteryContext;
  let attached: ReturnType<typeof cliBackground> | undefined;
  let bridge: Awaited<ReturnType<typeof execBridge>> | undefined;

  before(async () => {
    await docker(['rm', '-f', standIn, name]);
    await docker(['network', 'rm', network]);
    assert.equal((await docker(['network', 'create', network])).exitCode, 0);
    await startTarget(standIn, network);
    const { instance, secrets } = await createBatteryInstance(name, {
      TEMPLATE: 'ngrok',
      NGROK_SERVER_ADDR: `${standIn}:7000`,
      TUNNEL_RETRIES: '2',
    });
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    context = { instance, secrets, network, target: standIn, client: undefined as never, connect: undefined as never, gatewayProcess: TUNNEL_PROCESS };
  });

  after(async () => {
    await context?.client?.close().catch(() => undefined);
    await bridge?.close();
    if (context) await removeInstance(context.instance);
    attached?.kill('SIGINT');
    await attached;
    await docker(['rm', '-f', standIn]);
    await docker(['network', 'rm', network]);
  });

  test('without NGROK_AUTHTOKEN the image refuses to start (exit 78) and names the variable', async () => {
    const run = await docker([
      'run',
      '--rm',
      '--cap-drop',
      'ALL',
      ...ENTRYPOINT_CAPABILITIES.flatMap((c) => ['--cap-add', c]),
      '--env',
      `ACCESS_TOKEN=${context.instance.token}`,
      `${name}:latest`,
    ]);
    assert.equal(run.exitCode, 78, run.stderr);
    assert.match(run.stderr, /NGROK_AUTHTOKEN is not set/);
  });

  test('an unreachable ngrok service: start -d says why, the container exits non-zero and Docker restarts it', async () => {
    const started = await cli(['start', '-d', '--timeout', '60', '--env-file', context.instance.envFile]);
    assert.equal(started.exitCode, 1, started.all);
    assert.match(started.all ?? '', /stopped before it became healthy/);
    assert.match(started.all ?? '', /tls handshake error/);
    assert.match(started.all ?? '', /giving up so the container restarts/);
    assert.ok(!(started.all ?? '').includes(context.secrets.tunnelToken), 'the authtoken is not in the output');
    await waitFor('a restart by the restart policy', async () => ((await restartCount(name)) >= 1 ? true : undefined));
    assert.equal((await cli(['stop', '--env-file', context.instance.envFile])).exitCode, 0);
  });

  describe('escape battery through a relay to the session gateway (the tunnel keeps retrying meanwhile)', () => {
    before(async () => {
      setEnv(context.instance.envFile, { TUNNEL_RETRIES: '1000' });
      attached = cliBackground(['start', '--env-file', context.instance.envFile]);
      bridge = await execBridge(name);
      const connect = () => connectHttp(bridge!.url, context.instance.token);
      context.client = await waitFor('the session gateway through the relay', () => connect(), 90_000);
      context.connect = connect;
    });

    sandboxBattery(() => context);
  });

  describe('egress by name through the relay (MCP_EGRESS=allowed.test)', () => {
    const namesTarget = 'mcps-e2e-ngrok-names';
    let certs: string;
    let names: NameItemsContext;

    before(async () => {
      certs = await makeTargetCertificates();
      const targetAddress = await startNameTarget(namesTarget, network, certs);
      await context.client?.close().catch(() => undefined);
      assert.equal((await cli(['stop', '--env-file', context.instance.envFile])).exitCode, 0);
      attached?.kill('SIGINT');
      await attached;
      setEnv(context.instance.envFile, { MCP_EGRESS: 'allowed.test' });
      attached = cliBackground(['start', '--env-file', context.instance.envFile]);
      const client = await waitFor('the session gateway through the relay', () => connectHttp(bridge!.url, context.instance.token), 90_000);
      names = { client, targetAddress };
    });

    after(async () => {
      await names?.client.close().catch(() => undefined);
      await docker(['rm', '-f', namesTarget]);
      if (certs) rmSync(certs, { recursive: true, force: true });
    });

    egressByNameItems(() => names);
  });
});
