/**
 * MCP_NETWORKS end to end: a real PostgreSQL (Debian's, in a container of the
 * test's own, on a network the test creates) and a real third-party MCP server
 * that speaks to it (@modelcontextprotocol/server-postgres, node-postgres
 * inside). The instance joins the database's network at every start: the query
 * answers when MCP_EGRESS allows the database, and is refused when it does not
 * (the same network joined: joining is not reaching). A network that does not
 * exist stops start before the running instance is touched.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { cli, connectClient, createInstance, docker, freePort, onEngine, removeInstance, waitFor, type Instance } from './harness.js';

const NETWORK = 'mcps-e2e-dbnet';
const DATABASE = 'mcps-e2e-pg';
const DATABASE_IMAGE = 'mcps-e2e-pg:latest';
// Debian's PostgreSQL, trusting every address on its network (the test's own, nothing else on it).
const DATABASE_DOCKERFILE = `FROM node:22-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/*
USER postgres
RUN /usr/lib/postgresql/15/bin/initdb -D /tmp/pg --auth=trust --username=postgres \\
 && echo "listen_addresses = '*'" >> /tmp/pg/postgresql.conf \\
 && echo "host all all 0.0.0.0/0 trust" >> /tmp/pg/pg_hba.conf
CMD ["/usr/lib/postgresql/15/bin/postgres", "-D", "/tmp/pg", "-k", "/tmp"]
`;
const POSTGRES_SERVER = 'npm:@modelcontextprotocol/server-postgres@0.6.2';
const GREETING = 'hello from the database network';

function setEnv(instance: Instance, values: Record<string, string>): void {
  const kept = readFileSync(instance.envFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !Object.keys(values).some((key) => line.startsWith(`${key}=`)));
  writeFileSync(instance.envFile, [...kept, ...Object.entries(values).map(([k, v]) => `${k}=${v}`)].join('\n') + '\n', { mode: 0o600 });
}

async function query(instance: Instance, sql: string): Promise<{ isError: boolean; text: string }> {
  const client = await connectClient(instance);
  try {
    const result = await client.callTool({ name: 'query', arguments: { sql } }, undefined, { timeout: 60_000 });
    const text = (result.content as Array<{ text: string }>).map((c) => c.text).join('\n');
    return { isError: result.isError === true, text };
  } catch (error) {
    // This server reports a failed query as a JSON-RPC error, which the SDK client throws.
    return { isError: true, text: (error as Error).message };
  } finally {
    await client.close();
  }
}

describe(onEngine('MCP_NETWORKS: a database on another network'), { timeout: 1_200_000 }, () => {
  let instance: Instance;
  let address: string;
  let hostGateway: string;
  let hostPort: number;

  before(async () => {
    await docker(['rm', '-f', DATABASE]);
    await docker(['network', 'rm', NETWORK]);
    const built = await execa('docker', ['build', '--quiet', '--tag', DATABASE_IMAGE, '-'], { input: DATABASE_DOCKERFILE, reject: false, all: true });
    assert.equal(built.exitCode, 0, built.all);
    assert.equal((await docker(['network', 'create', NETWORK])).exitCode, 0);
    // Also published on the host's address on Docker's default bridge (that host's own address,
    // where host-gateway points): the database "on the host" for host.docker.internal.
    // Asked of the engine itself: a fresh Docker's bridge may list no Gateway in its IPAM config.
    const gateway = await docker(['run', '--rm', '--network', 'none', '--add-host', 'probe:host-gateway', 'node:22-bookworm-slim', 'getent', 'hosts', 'probe']);
    hostGateway = gateway.stdout.trim().split(/\s+/)[0] ?? '';
    assert.match(hostGateway, /^\d+\.\d+\.\d+\.\d+$/, gateway.stderr);
    hostPort = await freePort();
    const ran = await docker(['run', '-d', '--name', DATABASE, '--network', NETWORK, '--publish', `${hostGateway}:${hostPort}:5432`, DATABASE_IMAGE]);
    assert.equal(ran.exitCode, 0, ran.stderr);
    address = (await docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, DATABASE])).stdout.trim();
    assert.match(address, /^\d+\.\d+\.\d+\.\d+$/);
    await waitFor('PostgreSQL to accept connections', async () => {
      const ready = await docker(['exec', DATABASE, '/usr/lib/postgresql/15/bin/pg_isready', '-h', '127.0.0.1']);
      return ready.exitCode === 0 ? true : undefined;
    });
    instance = await createInstance('mcps-e2e-networks', {
      MCP_SERVER: POSTGRES_SERVER,
      // By name: the container's resolver answers it on the joined network, and 5432 is
      // db's own port in MCP_EGRESS, so PostgreSQL's protocol (no TLS name, no Host) goes to it.
      MCP_SERVER_ARGS: `postgresql://postgres@${DATABASE}:5432/postgres`,
      MCP_NETWORKS: NETWORK,
      MCP_EGRESS: `${DATABASE}:5432`,
    });
    const builtInstance = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(builtInstance.exitCode, 0, builtInstance.all);
  });

  after(async () => {
    if (instance) await removeInstance(instance);
    await docker(['rm', '-f', DATABASE]);
    await docker(['network', 'rm', NETWORK]);
  });

  test('joined and allowed: the server queries the database (control)', async () => {
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    const networks = await docker(['inspect', '--format', '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}', instance.name]);
    assert.deepEqual(networks.stdout.trim().split(' ').sort(), [`${instance.name}-net`, NETWORK].sort());
    const answer = await query(instance, `SELECT '${GREETING}' AS greeting`);
    assert.equal(answer.isError, false, answer.text);
    assert.match(answer.text, new RegExp(GREETING));
  });

  test('by address instead of name: the same query (an address rule is let through by the firewall, not the enforcer)', async () => {
    setEnv(instance, { MCP_SERVER_ARGS: `postgresql://postgres@${address}:5432/postgres`, MCP_EGRESS: `${address}:5432` });
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    const answer = await query(instance, `SELECT '${GREETING}' AS greeting`);
    assert.match(answer.text, new RegExp(GREETING), answer.text);
    setEnv(instance, { MCP_SERVER_ARGS: `postgresql://postgres@${DATABASE}:5432/postgres`, MCP_EGRESS: `${DATABASE}:5432` });
  });

  test('a join undone by hand is made again by the next start', async () => {
    assert.equal((await docker(['network', 'disconnect', NETWORK, instance.name])).exitCode, 0);
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    const answer = await query(instance, `SELECT '${GREETING}' AS greeting`);
    assert.match(answer.text, new RegExp(GREETING), answer.text);
  });

  test('joined but not allowed: the firewall refuses the database', async () => {
    setEnv(instance, { MCP_EGRESS: `${DATABASE}:5433` });
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    const answer = await query(instance, 'SELECT 1');
    assert.equal(answer.isError, true, answer.text);
    assert.match(answer.text, /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/, answer.text);
    assert.ok(!answer.text.includes(GREETING));
  });

  test('the host by name: host.docker.internal with a port in MCP_EGRESS reaches a database on the host; another port is refused', async () => {
    setEnv(instance, {
      MCP_NETWORKS: '',
      MCP_SERVER_ARGS: `postgresql://postgres@host.docker.internal:${hostPort}/postgres`,
      MCP_EGRESS: `host.docker.internal:${hostPort + 1}`,
    });
    let started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    const refused = await query(instance, 'SELECT 1');
    assert.equal(refused.isError, true, refused.text);
    assert.ok(!refused.text.includes(GREETING));
    setEnv(instance, { MCP_EGRESS: `host.docker.internal:${hostPort}` });
    started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    const answer = await query(instance, `SELECT '${GREETING}' AS greeting`);
    assert.match(answer.text, new RegExp(GREETING), answer.text);
    setEnv(instance, { MCP_NETWORKS: NETWORK, MCP_SERVER_ARGS: `postgresql://postgres@${DATABASE}:5432/postgres`, MCP_EGRESS: `${DATABASE}:5432` });
  });

  test('a network that does not exist: start stops with the fix, and the running instance is left as it was', async () => {
    setEnv(instance, { MCP_EGRESS: `${DATABASE}:5432` });
    const before = (await docker(['inspect', '--format', '{{.Id}}', instance.name])).stdout.trim();
    setEnv(instance, { MCP_NETWORKS: 'mcps-e2e-no-such-net' });
    const refused = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(refused.exitCode, 1, refused.all);
    assert.match(refused.all ?? '', /MCP_NETWORKS lists mcps-e2e-no-such-net, which the engine does not have.*docker network create mcps-e2e-no-such-net/);
    assert.equal((await docker(['inspect', '--format', '{{.Id}}', instance.name])).stdout.trim(), before, 'the same container still runs');
  });
});
