/**
 * "IPv6 is refused unless listed" (issue 23), on a real engine: the instance's
 * own network is one the test creates with IPv6 (a ULA subnet of its own), so
 * the container has a global IPv6 address and route. A TCP listener of the
 * test's own on that network is reached by a neighbour over IPv6 (control),
 * refused to the server with MCP_EGRESS=none and with a name allowlist, and
 * reached once its IPv6 address and port are listed (positive control).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LABEL_INSTANCE } from '../../package_scripts/docker/names.js';
import { TARGET_IMAGE } from './battery.js';
import { callJson, cli, connectClient, createInstance, docker, onEngine, probeServerDir, removeInstance, type Instance } from './harness.js';

const NAME = 'mcps-e2e-ipv6';
const NETWORK = `${NAME}-net`; // the instance's own network: start reuses it
const SUBNET = 'fd00:6d63:7073:23::/64';
const TARGET = 'mcps-e2e-ipv6-target';
const PORT = 7000;
const OTHER_PORT = 7001;
const LISTENER = `for (const p of [${PORT}, ${OTHER_PORT}]) require('net').createServer((s) => { s.on('error', () => {}); s.end('hello'); }).listen(p, '::')`;
const CONNECT = (host: string, port: number) =>
  `const s=require('net').connect(${port},'${host}');s.setTimeout(3000,()=>{console.log('TIMEOUT');process.exit()});s.on('connect',()=>{console.log('CONNECTED');process.exit()});s.on('error',(e)=>{console.log(e.code);process.exit()})`;

describe(onEngine('MCP_EGRESS: IPv6 is refused unless listed'), { timeout: 600_000 }, () => {
  let instance: Instance;
  let client: Client | undefined;
  let address: string;

  const startWith = async (egress: string) => {
    writeFileSync(instance.envFile, readFileSync(instance.envFile, 'utf8').replace(/^MCP_EGRESS=.*$/m, `MCP_EGRESS=${egress}`));
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    await client?.close().catch(() => undefined);
    client = await connectClient(instance);
  };
  const connect = async () => callJson<{ connected: boolean; code?: string }>(client!, 'connect', { host: address, port: PORT });

  before(async () => {
    await docker(['rm', '-f', TARGET]);
    await docker(['network', 'rm', NETWORK]);
    const created = await docker(['network', 'create', '--ipv6', '--subnet', SUBNET, '--label', `${LABEL_INSTANCE}=${NAME}`, NETWORK]);
    assert.equal(created.exitCode, 0, created.stderr);
    const started = await docker(['run', '-d', '--name', TARGET, '--network', NETWORK, TARGET_IMAGE, 'node', '-e', LISTENER]);
    assert.equal(started.exitCode, 0, started.stderr);
    address = (await docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${NETWORK}").GlobalIPv6Address}}`, TARGET])).stdout.trim();
    assert.match(address, /^fd00:6d63:7073:23:/, 'the target has an address in the IPv6 subnet');
    instance = await createInstance(NAME, { NPM_MCP: probeServerDir, NPM_MCP_ARGS: '', MCP_EGRESS: 'none' });
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await docker(['rm', '-f', TARGET]);
    if (instance) await removeInstance(instance);
    await docker(['network', 'rm', NETWORK]);
  });

  test('control: a neighbour on the network reaches both listeners over IPv6', async () => {
    for (const port of [PORT, OTHER_PORT]) {
      const neighbour = await docker(['run', '--rm', '--network', NETWORK, TARGET_IMAGE, 'node', '-e', CONNECT(address, port)]);
      assert.equal(neighbour.stdout.trim(), 'CONNECTED', `${port}: ${neighbour.stderr}`);
    }
  });

  test('MCP_EGRESS=none (the default): the IPv6 address is refused', async () => {
    await startWith('none');
    assert.equal((await connect()).connected, false);
  });

  test('a name allowlist: the IPv6 address is refused (no name port, not listed)', async () => {
    await startWith('allowed.test');
    const inside = await docker(['exec', NAME, 'cat', '/proc/net/if_inet6']);
    assert.ok(inside.stdout.includes('fd006d637073'), `the container has its IPv6 address: ${inside.stdout}`);
    assert.equal((await connect()).connected, false);
  });

  test('listed as [ADDRESS]:PORT, the IPv6 address is reached (positive control); another port there, which a neighbour reaches, is not', async () => {
    await startWith(`[${address}]:${PORT}`);
    assert.deepEqual(await connect(), { connected: true });
    const other = await callJson<{ connected: boolean }>(client!, 'connect', { host: address, port: OTHER_PORT });
    assert.equal(other.connected, false);
  });
});
