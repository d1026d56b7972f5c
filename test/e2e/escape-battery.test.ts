/**
 * The escape battery (docs/SECURITY.md) against the nginx template: the shared
 * items (battery.ts) plus nginx's own, and the egress allowlist. The tunnel
 * templates run the shared items in tunnels.test.ts.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { IMAGE_HEALTHCHECK } from '../../package_scripts/docker/healthcheck.js';
import { addressOf, connectFromNeighbour, sandboxBattery, startNginxBattery, startTarget, stopBattery, TARGET_IMAGE, type BatteryContext } from './battery.js';
import {
  callJson,
  certificateOf,
  cli,
  connectClient,
  createInstance,
  docker,
  newToken,
  engine,
  onEngine,
  probeServerDir,
  removeInstance,
  trustingFetch,
  waitFor,
  type Instance,
} from './harness.js';
import { buildVsockProbe, noSuchEntry, parseProbeReport, refusedBySeccomp, VSOCK_ATTEMPTS, type ProbeAttempt, type ProbeReport } from './vsock-probe.js';

const EOPNOTSUPP = 95;
const EAFNOSUPPORT = 97;

describe(onEngine('escape battery against the nginx template (steps in order, on shared instances)'), { timeout: 900_000 }, () => {
  let context: BatteryContext;
  const network = 'mcps-e2e-probe-net';
  const target = 'mcps-e2e-target';

  before(async () => {
    // On an IPv6 network: the front door items (F1, F2) try ::1 and [::] as well.
    context = await startNginxBattery('mcps-e2e-probe', target, { ALLOWED_ORIGINS: 'https://allowed.example' }, undefined, {
      ipv6Subnet: 'fd00:6d63:7073:1::/64',
    });
  });

  after(() => stopBattery(context, target));

  test('11b. the TLS port is the one a neighbour reaches', async () => {
    assert.equal(await connectFromNeighbour(network, context.instance.name, 8443), 'CONNECTED');
  });

  test('Origin: an unexpected one gets 403, an allowed one and none pass', async () => {
    const { instance } = context;
    const fetchTrusted = trustingFetch(certificateOf(instance));
    const send = (origin?: string) =>
      fetchTrusted(`https://127.0.0.1:${instance.port}/mcp`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${instance.token}`,
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          ...(origin ? { Origin: origin } : {}),
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'o', version: '1' } },
        }),
      });
    const evil = await send('https://evil.example');
    assert.equal(evil.status, 403);
    await evil.text();
    for (const origin of ['https://allowed.example', undefined]) {
      const ok = await send(origin);
      assert.equal(ok.status, 200, String(origin));
      await ok.body?.cancel();
    }
  });

  test('token check: the token in another case is refused (401); the exact token passes, its scheme in any case', async () => {
    const { instance } = context;
    const fetchTrusted = trustingFetch(certificateOf(instance));
    const send = (authorization: string) =>
      fetchTrusted(`https://127.0.0.1:${instance.port}/mcp`, {
        method: 'POST',
        headers: { Authorization: authorization, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      }).then(async (r) => {
        await r.body?.cancel();
        return r.status;
      });
    const { token } = instance;
    const letter = token.search(/[a-f]/);
    assert.ok(letter >= 0, 'the token has letters to change the case of');
    const oneLetterUp = token.slice(0, letter) + token[letter]!.toUpperCase() + token.slice(letter + 1);
    for (const [what, changed] of [
      ['all upper case', token.toUpperCase()],
      ['one letter upper case', oneLetterUp],
      ['one character more', `${token}0`],
    ] as const) {
      assert.notEqual(changed, token, what);
      assert.equal(await send(`Bearer ${changed}`), 401, what);
    }
    // Control: the exact token, with the scheme as clients write it and in another case (schemes ignore case, RFC 9110).
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) assert.equal(await send(`${scheme} ${token}`), 200, scheme);
  });

  test('brute force: repeated 401s are slowed and refused, a client with the token is not', async () => {
    const { instance, client } = context;
    const fetchTrusted = trustingFetch(certificateOf(instance));
    const url = `https://127.0.0.1:${instance.port}/mcp`;
    const statuses: number[] = [];
    const attempts = Array.from({ length: 40 }, () =>
      fetchTrusted(url, { method: 'POST', headers: { Authorization: `Bearer ${newToken()}` }, body: '{}' }).then(async (r) => {
        statuses.push(r.status);
        await r.text();
      }),
    );
    const timer = Date.now();
    const authorized = await callJson(client, 'echo', { text: 'still fast' });
    const authorizedMs = Date.now() - timer;
    await Promise.all(attempts);
    assert.deepEqual(authorized, { text: 'still fast' });
    assert.ok(statuses.includes(429), `statuses: ${statuses.join(',')}`);
    assert.ok(statuses.every((s) => s === 401 || s === 429));
    assert.ok(authorizedMs < 2000, `the token holder waited ${authorizedMs} ms`);
  });

  /** The vsock probe without a seccomp profile (once): which entries this kernel has at all (item 18b shows it). */
  let unconfinedRun: Promise<ProbeReport> | undefined;
  const unconfined = () =>
    (unconfinedRun ??= (async () => {
      const probe = await buildVsockProbe();
      const run = await docker([
        ...['run', '--rm', '--network', 'none', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--security-opt', 'seccomp=unconfined'],
        ...['--mount', `type=bind,source=${dirname(probe)},target=/probe,readonly`, TARGET_IMAGE, '/probe/vsock-probe'],
      ]);
      return parseProbeReport({ status: run.exitCode ?? null, signal: null, stdout: run.stdout, stderr: run.stderr });
    })());

  // The seccomp profile is one file for every template and AUTH mode, so its items run here, on Docker and on Podman (podman.test.ts).
  test('18. AF_VSOCK is refused through every entry (64-bit socket, int 0x80 socket and socketcall, x32); a 64-bit AF_INET socket connects', async () => {
    const { client, instance } = context;
    // The read-only mount is the way in: it is not noexec, while every tmpfs the server can write is.
    copyFileSync(await buildVsockProbe(), join(instance.dir, 'ro', 'vsock-probe'));
    // Control target: the session gateway on the container's own loopback, which MCP_EGRESS=none leaves open.
    const report = parseProbeReport(await callJson(client, 'run_binary', { path: '/workspace/ro/vsock-probe', args: ['127.0.0.1', '8000'] }));
    assert.ok(report.socket64_inet!.ret >= 0, `control: an AF_INET socket opens: ${JSON.stringify(report)}`);
    assert.equal(report.socket64_inet!.connect, 0, `control: it connects to 127.0.0.1:8000: ${JSON.stringify(report)}`);
    for (const name of VSOCK_ATTEMPTS) assert.equal(report[name]!.ret, -1, `${name}: ${JSON.stringify(report[name])}`);
    // socketpair is allowed: no vsock transport makes pairs, so the kernel refuses it on its own.
    assert.ok([EOPNOTSUPP, EAFNOSUPPORT].includes(report.socketpair64_vsock!.errno), JSON.stringify(report.socketpair64_vsock));
    const kernel = await unconfined();
    assert.ok(!noSuchEntry(kernel.socket64_vsock!), 'the 64-bit entry is in every x86-64 kernel');
    for (const name of VSOCK_ATTEMPTS.filter((n) => n !== 'socketpair64_vsock')) {
      if (noSuchEntry(kernel[name]!)) {
        // This kernel has no such entry (int 0x80 without IA32 emulation): without seccomp too the attempt
        // faults before any system call (18b), so there is nothing for the profile to refuse here.
        assert.ok(noSuchEntry(report[name]!), `${name}: ${JSON.stringify(report[name])}`);
        continue;
      }
      assert.ok(refusedBySeccomp(report[name]!), `${name} was not refused by seccomp: ${JSON.stringify(report[name])}`);
    }
  });

  test('18b. control: without a seccomp profile the same probe reaches the kernel through int 0x80 socket and socketcall (where the kernel has that entry)', async (t) => {
    const report = await unconfined();
    const reached = (attempt: ProbeAttempt | undefined) =>
      attempt !== undefined && (attempt.ret >= 0 || (attempt.errno === EAFNOSUPPORT && attempt.signal === 0));
    // A vsock socket where the kernel has vsock (this VM, Docker Desktop), EAFNOSUPPORT where it has none: past seccomp either way.
    assert.ok(reached(report.socket64_vsock), `socket64_vsock: ${JSON.stringify(report.socket64_vsock)}`);
    const int80 = ['socket32_vsock', 'socketcall32_vsock'];
    if (int80.every((name) => noSuchEntry(report[name]!))) {
      // A kernel without IA32 emulation: int 0x80 faults (SIGSEGV) with no profile at all, so item 18 has nothing to refuse there.
      t.diagnostic('this kernel has no int 0x80 entry (no IA32 emulation): the 32-bit attempts fault without seccomp too');
      return;
    }
    for (const name of int80) assert.ok(reached(report[name]), `${name}: ${JSON.stringify(report[name])}`);
  });

  sandboxBattery(() => context);

  /** The state of a process in the container ('' when it is gone), read by the engine, not the server. */
  const stateOf = async (pid: number) =>
    (await docker(['exec', context.instance.name, 'sh', '-c', `cat /proc/${pid}/stat 2>/dev/null | sed 's/.*) //' | cut -d' ' -f1`])).stdout.trim();
  const running = async (pid: number) => !['', 'Z'].includes(await stateOf(pid));

  test("a session's processes end with it, a setsid() sleeper included; a live session's stay (control)", async () => {
    // MCP_MAX_SESSIONS is 2 here: the shared client's session stays live, one more ends.
    const live = context.client;
    const ending = await context.connect();
    const left = await callJson<{ pid: number; group: number; session: number; server: number }>(ending, 'setsid_sleeper');
    const kept = await callJson<{ pid: number }>(live, 'setsid_sleeper');
    assert.deepEqual([left.group, left.session], [left.pid, left.pid], "the sleeper left its server's group and session");
    assert.ok((await running(left.pid)) && (await running(kept.pid)), 'both sleepers run');
    await (ending.transport as StreamableHTTPClientTransport).terminateSession();
    await ending.close();
    await waitFor(`the ended session's sleeper (pid ${left.pid}) to be gone`, async () => ((await running(left.pid)) ? undefined : true), 20_000);
    assert.equal(await running(left.server), false, 'its server is gone too');
    // The stray sweep runs every 2 s: two more rounds, and the live session's sleeper still runs.
    await new Promise((done) => setTimeout(done, 4500));
    assert.equal(await running(kept.pid), true, "the live session's sleeper is untouched");
    assert.deepEqual(await callJson(live, 'echo', { text: 'still here' }), { text: 'still here' });
  });

  test('the health check runs as nobody, without capabilities or environment, and the instance is healthy through it', async () => {
    const { instance } = context;
    const configured = await docker(['inspect', '--format', '{{json .Config.Healthcheck.Test}}', instance.name]);
    assert.deepEqual(JSON.parse(configured.stdout), ['CMD', ...IMAGE_HEALTHCHECK.command]);
    // The configured command itself, as the engine runs it: it passes on a healthy instance.
    const checked = await docker(['exec', instance.name, ...IMAGE_HEALTHCHECK.command]);
    assert.equal(checked.exitCode, 0, checked.stderr);
    // Docker runs it on its own schedule and reports the result; Podman runs health checks from
    // systemd timers, which a machine without systemd (this CI) does not have, so it reports none.
    if (engine === 'docker')
      await waitFor('the engine to report the instance healthy', async () => {
        const health = await docker(['inspect', '--format', '{{.State.Health.Status}}', instance.name]);
        return health.stdout.trim() === 'healthy' ? true : undefined;
      });
    // The check's own prefix, with a report in place of the check, and a marker in exec's environment.
    const prefix = IMAGE_HEALTHCHECK.command.slice(0, -1);
    const seen = await docker([
      'exec',
      '-e',
      'HEALTH_MARKER=from-exec',
      instance.name,
      ...prefix,
      '/bin/sh',
      '-c',
      'id -u; id -G; grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status; env',
    ]);
    assert.equal(seen.exitCode, 0, seen.stderr);
    const lines = seen.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['65534', '65534']);
    for (const set of ['CapEff', 'CapPrm', 'CapBnd']) assert.ok(lines.includes(`${set}:\t0000000000000000`), `${set}: ${seen.stdout}`);
    const env = lines.slice(5).filter((l) => !/^(PWD|SHLVL|_)=/.test(l));
    assert.deepEqual(env, ['PATH=/usr/bin:/bin'], "nothing of the container environment (control: the marker was in exec's)");
    const control = await docker(['exec', '-e', 'HEALTH_MARKER=from-exec', instance.name, 'printenv', 'HEALTH_MARKER']);
    assert.equal(control.stdout.trim(), 'from-exec');
  });

  // Last: the container restarts.
  // The server cannot stop it (battery: "the enforcer"); its own user can, from outside.
  test('a stopped session gateway (SIGSTOP as its own user, warden) restarts the instance, which serves again', async () => {
    const { instance } = context;
    const finder = await context.connect();
    const { parent } = await callJson<{ parent: number }>(finder, 'parent_memory');
    await finder.close().catch(() => undefined);
    const stop = await docker(['exec', '--user', '10004', instance.name, 'bash', '-c', `kill -STOP ${parent}`]);
    assert.equal(stop.exitCode, 0, stop.stderr);
    await waitFor(
      'the instance to restart',
      async () => {
        const state = await docker(['inspect', '--format', '{{.RestartCount}}', instance.name]);
        return Number(state.stdout.trim()) >= 1 ? true : undefined;
      },
      60_000,
    );
    const served = await waitFor(
      'the instance to serve again',
      async () => {
        const fresh = await context.connect();
        try {
          return await callJson(fresh, 'echo', { text: 'back' });
        } finally {
          await fresh.close();
        }
      },
      90_000,
    );
    assert.deepEqual(served, { text: 'back' });
    const logs = await docker(['logs', instance.name]);
    assert.match(logs.stdout + logs.stderr, /session-gateway (stopped|exited)/, `the reason is logged (the stopped gateway was pid ${parent})`);
  });

  /** ALLOWED_VAR as a fresh session's server sees it, once the instance serves. */
  const serversValue = () =>
    waitFor(
      'the instance to serve',
      async () => {
        const fresh = await context.connect();
        try {
          return (await callJson<{ env: Record<string, string> }>(fresh, 'environment')).env.ALLOWED_VAR ?? '(unset)';
        } finally {
          await fresh.close();
        }
      },
      90_000,
    );

  test("MCP_ENV's values survive the engine's restarts (the restart policy's above, docker restart), and start again replaces them", async () => {
    const { instance } = context;
    // After the restart policy's restart (the test above).
    assert.equal(await serversValue(), 'visible-to-the-server');
    const restarted = await docker(['restart', instance.name]);
    assert.equal(restarted.exitCode, 0, restarted.stderr);
    assert.equal(await serversValue(), 'visible-to-the-server');
    assert.equal((await docker(['exec', instance.name, 'printenv', 'ALLOWED_VAR'])).stdout, '');
    // A new value in the env file: the next start writes it, and nothing of the old one is left.
    writeFileSync(instance.envFile, readFileSync(instance.envFile, 'utf8').replace(/^ALLOWED_VAR=.*$/m, 'ALLOWED_VAR=the-second-value'));
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    assert.ok(!started.all.includes('the-second-value'), 'the value is not printed');
    assert.equal(await serversValue(), 'the-second-value');
    const configured = await docker(['inspect', '--format', '{{json .Config.Env}}', instance.name]);
    assert.ok(!configured.stdout.includes('the-second-value') && !configured.stdout.includes('visible-to-the-server'));
  });
});

describe(onEngine('escape battery: MCP_EGRESS allowlist'), { timeout: 600_000 }, () => {
  let instance: Instance;
  let client: Client;
  let network: string;
  let allowedAddress: string;
  let forbiddenAddress: string;

  before(async () => {
    network = 'mcps-e2e-allow-net';
    // The instance network exists before start (start reuses it), so the
    // allowlisted host has an address to put in MCP_EGRESS.
    await docker(['network', 'rm', network]);
    assert.equal((await docker(['network', 'create', network])).exitCode, 0);
    await startTarget('mcps-e2e-allowed', network);
    await startTarget('mcps-e2e-forbidden', network);
    allowedAddress = await addressOf('mcps-e2e-allowed', network);
    forbiddenAddress = await addressOf('mcps-e2e-forbidden', network);
    instance = await createInstance('mcps-e2e-allow', {
      NPM_MCP: probeServerDir,
      NPM_MCP_ARGS: '',
      MCP_EGRESS: `${allowedAddress}:7000`,
    });
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    client = await connectClient(instance);
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await docker(['rm', '-f', 'mcps-e2e-allowed', 'mcps-e2e-forbidden']);
    if (instance) await removeInstance(instance);
  });

  test('10. the allowlisted host and port are reachable, another host or port is not', async () => {
    assert.equal(await connectFromNeighbour(network, 'mcps-e2e-forbidden', 7000), 'CONNECTED');
    assert.deepEqual(await callJson(client, 'connect', { host: allowedAddress, port: 7000 }), { connected: true });
    assert.equal((await callJson(client, 'connect', { host: forbiddenAddress, port: 7000 })).connected, false);
    assert.equal((await callJson(client, 'connect', { host: allowedAddress, port: 7001 })).connected, false);
  });

  test('9b. with an allowlist, DNS stays closed', async () => {
    assert.equal((await callJson(client, 'resolve', { name: 'mcps-e2e-forbidden' })).ok, false);
  });
});
