/**
 * MCP_EGRESS by name (issue 23, docs/design/EGRESS.md), on a real engine with a
 * real MCP client: the probe server runs a small Node.js client inside the
 * instance (as "mcp", like any MCP server) against one HTTPS/HTTP container of
 * the test's own, on a network the test creates, that answers `allowed.test`,
 * `other.test`, `wild.test` and `a.wild.test` on ONE address (network aliases,
 * one certificate with every name). Every "refused" sits beside its positive
 * control. No traffic leaves the test's own network.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { TARGET_IMAGE } from './battery.js';
import { inside as insideOf, makeTargetCertificates, NAME_CLIENT, startNameTarget } from './egress-target.js';
import { callJson, cli, connectClient, createInstance, docker, onEngine, probeServerDir, removeInstance, waitFor, type Instance } from './harness.js';

const NAME = 'mcps-e2e-names';
const NETWORK = `${NAME}-net`;
const TARGETS = ['mcps-e2e-names-target', 'mcps-e2e-names-target2'];

describe(onEngine('MCP_EGRESS by name: checked on the TLS name, the HTTP Host and DNS, in the container'), { timeout: 900_000 }, () => {
  let instance: Instance;
  let client: Client;
  let certs: string;
  let targetAddress: string;

  const inside = (...args: string[]) => insideOf(client, ...args);
  const startWith = async (egress: string) => {
    writeFileSync(instance.envFile, readFileSync(instance.envFile, 'utf8').replace(/^MCP_EGRESS=.*$/m, `MCP_EGRESS=${egress}`));
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    await client?.close().catch(() => undefined);
    client = await connectClient(instance);
    return started.all ?? '';
  };

  before(async () => {
    certs = await makeTargetCertificates();
    await docker(['rm', '-f', ...TARGETS]);
    await docker(['network', 'rm', NETWORK]);
    assert.equal((await docker(['network', 'create', NETWORK])).exitCode, 0);
    targetAddress = await startNameTarget(TARGETS[0]!, NETWORK, certs);
    instance = await createInstance(NAME, { NPM_MCP: probeServerDir, NPM_MCP_ARGS: '', MCP_EGRESS: 'allowed.test,*.wild.test' });
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    await startWith('allowed.test,*.wild.test');
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await docker(['rm', '-f', ...TARGETS]);
    if (instance) await removeInstance(instance);
    await docker(['network', 'rm', NETWORK]);
    if (certs) rmSync(certs, { recursive: true, force: true });
  });

  test('the allowed name is reached over HTTPS and HTTP (controls), through DNS answered inside', async () => {
    assert.deepEqual(await inside('dns', 'allowed.test'), { ok: true, address: targetAddress });
    const tls = await inside('https', 'allowed.test', 'allowed.test', 'allowed.test');
    assert.deepEqual([tls.ok, tls.status, tls.sni], [true, 200, 'allowed.test'], JSON.stringify(tls));
    const plain = await inside('http', 'allowed.test', 'allowed.test');
    assert.deepEqual([plain.ok, plain.status, plain.host], [true, 200, 'allowed.test'], JSON.stringify(plain));
  });

  test('another name on the SAME address is refused: by its name, and by dialling the allowed address with its TLS name (control: the allowed TLS name on that address passes)', async () => {
    // The name does not even resolve; dial the address the allowed name resolved to.
    assert.equal((await inside('https', targetAddress, 'other.test', 'other.test')).ok, false);
    const control = await inside('https', targetAddress, 'allowed.test', 'allowed.test');
    assert.deepEqual([control.ok, control.sni], [true, 'allowed.test'], JSON.stringify(control));
  });

  test('a ClientHello without a server name is refused (control above: with one, it passes)', async () => {
    assert.equal((await inside('https', targetAddress, '', 'allowed.test')).ok, false);
  });

  test('plain HTTP is checked on Host: other.test refused on the allowed address (control: Host allowed.test passes)', async () => {
    assert.equal((await inside('http', targetAddress, 'other.test')).ok, false);
    const control = await inside('http', targetAddress, 'allowed.test');
    assert.deepEqual([control.ok, control.host], [true, 'allowed.test']);
  });

  test('DNS: other.test and a made-up name under it do not resolve (NXDOMAIN); the allowed name does (control)', async () => {
    assert.deepEqual(await inside('dns', 'other.test'), { ok: false, code: 'ENOTFOUND' });
    assert.deepEqual(await inside('dns', `x${Date.now()}.other.test`), { ok: false, code: 'ENOTFOUND' });
    assert.equal((await inside('dns', 'allowed.test')).ok, true);
  });

  test('a port that is no name port is refused even to the allowed address (control: 443 there passes, above)', async () => {
    assert.equal((await callJson(client, 'connect', { host: targetAddress, port: 8080 })).connected, false);
  });

  test('UDP other than DNS is refused to the allowed address (control: a neighbour on the network gets the echo)', async () => {
    const neighbour = await docker(['run', '--rm', '--network', NETWORK, TARGET_IMAGE, 'node', '-e', NAME_CLIENT, 'udp', targetAddress, '9999']);
    assert.deepEqual(JSON.parse(neighbour.stdout.trim()), { ok: true, text: 'echo' }, neighbour.stderr);
    assert.equal((await inside('udp', targetAddress, '9999')).ok, false);
  });

  test('the wildcard *.wild.test covers a.wild.test, not wild.test itself', async () => {
    const under = await inside('https', 'a.wild.test', 'a.wild.test', 'a.wild.test');
    assert.deepEqual([under.ok, under.sni], [true, 'a.wild.test'], JSON.stringify(under));
    assert.deepEqual(await inside('dns', 'wild.test'), { ok: false, code: 'ENOTFOUND' });
    assert.equal((await inside('https', targetAddress, 'wild.test', 'wild.test')).ok, false);
  });

  test('a refused destination is in `npm run logs`, in the form to paste', async () => {
    const logs = await cli(['logs', '--env-file', instance.envFile, '--tail', 'all']);
    assert.equal(logs.exitCode, 0, logs.all);
    assert.match(logs.all ?? '', /egress refused: other\.test:443 \(TLS name not in MCP_EGRESS\)/);
    assert.match(logs.all ?? '', /egress refused: other\.test:80 \(HTTP Host not in MCP_EGRESS\)/);
    assert.match(logs.all ?? '', /egress refused: other\.test \(DNS name not in MCP_EGRESS\)/);
  });

  test('the address moves (a new container under the alias), and the name follows it without a restart', async () => {
    const startedAt = (await docker(['inspect', '--format', '{{.State.StartedAt}}', NAME])).stdout.trim();
    const newAddress = await startNameTarget(TARGETS[1]!, NETWORK, certs);
    await docker(['rm', '-f', TARGETS[0]!]);
    assert.notEqual(newAddress, targetAddress);
    const moved = await waitFor('allowed.test served by the new container', async () => {
      const r = await inside('https', 'allowed.test', 'allowed.test', 'allowed.test');
      return r.ok && r.who === TARGETS[1] ? r : undefined;
    });
    assert.equal(moved.sni, 'allowed.test');
    assert.equal((await docker(['inspect', '--format', '{{.State.StartedAt}}', NAME])).stdout.trim(), startedAt, 'the instance was not restarted');
  });

  test('the enforcer runs as "egress", not as the server\'s user, and the server cannot signal it', async () => {
    const find = `for d in /proc/[0-9]*; do if grep -q 'egress-gateway/src/[m]ain.mjs' "$d/cmdline" 2>/dev/null; then echo "\${d#/proc/} $(stat -c %U "$d")"; fi; done`;
    const found = (await docker(['exec', NAME, 'sh', '-c', find])).stdout.trim().split('\n');
    assert.equal(found.length, 1, found.join('; '));
    const [pid, user] = found[0]!.split(' ');
    assert.equal(user, 'egress');
    const kill = await callJson(client, 'run_binary', { path: '/bin/sh', args: ['-c', `kill -TERM ${pid}`] });
    assert.notEqual(kill.status, 0, JSON.stringify(kill));
    // Control: the server can signal its own processes (kill -0 on itself works).
    const self = await callJson(client, 'run_binary', { path: '/bin/sh', args: ['-c', 'kill -0 $$'] });
    assert.equal(self.status, 0, JSON.stringify(self));
  });

  test('learn mode: open, every name reached recorded; egress-learned prints the line to paste; start warns', async () => {
    const started = await startWith('learn');
    assert.match(started, /MCP_EGRESS=learn: egress is open/);
    assert.equal((await inside('https', 'allowed.test', 'allowed.test', 'allowed.test')).ok, true);
    assert.equal((await inside('https', 'other.test', 'other.test', 'other.test')).ok, true);
    assert.equal((await inside('http', 'allowed.test', 'allowed.test')).ok, true);
    // The enforcer writes what it learned at most once a second: a read may come between two
    // connections, so wait for the line that covers all three (the last one read, if it never comes).
    const expected = 'MCP_EGRESS=allowed.test,other.test:443';
    let last = '';
    const line = await waitFor(
      'the learned line to cover all three connections',
      async () => {
        const learned = await cli(['egress-learned', '--env-file', instance.envFile]);
        last = learned.stdout.trim();
        return learned.exitCode === 0 && last === expected ? last : undefined;
      },
      15_000,
    ).catch(() => last);
    assert.equal(line, expected);
    // Control: an instance not in learn mode has nothing to print, and says so.
    await startWith('allowed.test');
    const none = await cli(['egress-learned', '--env-file', instance.envFile]);
    assert.equal(none.exitCode, 1, none.all);
    assert.match(none.all ?? '', /does not run with MCP_EGRESS=learn/);
  });

  test('a dead enforcer means refused connections and a stopped container (its restart policy acts), never open egress', async () => {
    const find = `for d in /proc/[0-9]*; do if grep -q 'egress-gateway/src/[m]ain.mjs' "$d/cmdline" 2>/dev/null; then echo "\${d#/proc/}"; fi; done`;
    const pid = (await docker(['exec', NAME, 'sh', '-c', find])).stdout.trim();
    assert.match(pid, /^\d+$/);
    const restarts = async () => Number((await docker(['inspect', '--format', '{{.RestartCount}}', NAME])).stdout.trim());
    const before = await restarts();
    // Its own user may signal it (the server's may not, above).
    assert.equal((await docker(['exec', '--user', 'egress', NAME, 'sh', '-c', `kill -KILL ${pid}`])).exitCode, 0);
    await waitFor('the container restarted', async () => ((await restarts()) > before ? true : undefined));
    const logs = await docker(['logs', NAME]);
    assert.match(logs.stderr + logs.stdout, /egress-gateway exited; stopping the container/);
  });
});
