/**
 * MCP_DATA end to end with a real stateful server: @modelcontextprotocol/server-memory
 * keeps its knowledge graph in MEMORY_FILE_PATH (passed through MCP_ENV) inside the
 * data volume NAME-data. An entity created through an MCP client is still there
 * after stop and start and after a rebuild; `stop` keeps the volume, and only
 * `stop --delete-data` deletes it. Then a writable host mount instead
 * (MCP_MOUNTS ...:rw): start checks for real that uid 10002 may write there,
 * refusing a root-owned 0755 folder with the chown line, and accepting it once
 * chowned, where the server then saves its graph.
 */
import assert from 'node:assert/strict';
import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cli, connectClient, createInstance, docker, onEngine, removeInstance, type Instance } from './harness.js';

const MEMORY_SERVER = 'npm:@modelcontextprotocol/server-memory@2026.8.31';
const ENTITY = 'mcp-sandbox-e2e-entity';

async function withClient<T>(instance: Instance, use: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(instance);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

const graphText = (instance: Instance) =>
  withClient(instance, async (client) => JSON.stringify((await client.callTool({ name: 'read_graph', arguments: {} })).content));

describe(onEngine('MCP_DATA: a stateful server keeps its data'), { timeout: 900_000 }, () => {
  let instance: Instance;
  let volume: string;

  before(async () => {
    instance = await createInstance('mcps-e2e-data', {
      MCP_SERVER: MEMORY_SERVER,
      MCP_DATA: '/data',
      MEMORY_FILE_PATH: '/data/memory.jsonl',
      MCP_ENV: 'MEMORY_FILE_PATH',
      MCP_INSTALL_SCRIPTS: 'false',
    });
    volume = `${instance.name}-data`;
    await docker(['volume', 'rm', '-f', volume]);
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
  });

  after(async () => {
    if (!instance) return;
    await removeInstance(instance);
    await docker(['volume', 'rm', '-f', volume]);
  });

  test("start -d: the new volume is the server user's, mode 0700, and an entity is saved in it", async () => {
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    const owner = await docker(['exec', instance.name, 'stat', '-c', '%u %a', '/data']);
    assert.equal(owner.stdout.trim(), '10002 700');
    await withClient(instance, async (client) => {
      const created = await client.callTool({
        name: 'create_entities',
        arguments: { entities: [{ name: ENTITY, entityType: 'test', observations: ['survives stop, start and rebuild'] }] },
      });
      assert.ok(!created.isError, JSON.stringify(created.content));
    });
    const file = await docker(['exec', '--user', '10002', instance.name, 'cat', '/data/memory.jsonl']);
    assert.match(file.stdout, new RegExp(ENTITY));
  });

  test('stop keeps the volume and says so; start finds the entity', async () => {
    const stopped = await cli(['stop', '--env-file', instance.envFile]);
    assert.equal(stopped.exitCode, 0, stopped.all);
    assert.match(stopped.stdout, new RegExp(`Kept the data volume ${volume} \\(MCP_DATA\\)`));
    const listed = await docker(['volume', 'ls', '--quiet', '--filter', `name=^${volume}$`]);
    assert.equal(listed.stdout.trim(), volume);
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    assert.match(await graphText(instance), new RegExp(ENTITY));
  });

  test('a rebuild (a new image) and start: the entity is still there', async () => {
    const before = await docker(['image', 'inspect', '--format', '{{.Id}}', `${instance.name}:latest`]);
    // --no-cache: every layer made again, so the image is a new one (not the same ID re-tagged).
    const rebuilt = await cli(['build', '--env-file', instance.envFile, '--no-cache']);
    assert.equal(rebuilt.exitCode, 0, rebuilt.all);
    const afterBuild = await docker(['image', 'inspect', '--format', '{{.Id}}', `${instance.name}:latest`]);
    assert.notEqual(afterBuild.stdout.trim(), before.stdout.trim(), 'the rebuild made a new image');
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    assert.match(await graphText(instance), new RegExp(ENTITY));
  });

  test('stop --delete-data deletes the volume; the next start begins empty', async () => {
    const stopped = await cli(['stop', '--delete-data', '--env-file', instance.envFile]);
    assert.equal(stopped.exitCode, 0, stopped.all);
    assert.match(stopped.stdout, new RegExp(`Deleted the data volume ${volume}`));
    const listed = await docker(['volume', 'ls', '--quiet', '--filter', `name=^${volume}$`]);
    assert.equal(listed.stdout.trim(), '');
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    assert.doesNotMatch(await graphText(instance), new RegExp(ENTITY));
  });

  test('a root-owned 0755 rw mount: start refuses with the chown line, nothing started; chowned to 10002: the server writes there', async () => {
    await cli(['stop', '--env-file', instance.envFile]);
    const folder = join(instance.dir, 'memory');
    mkdirSync(folder, { mode: 0o755 });
    chownSync(folder, 0, 0);
    assert.equal(statSync(folder).mode & 0o777, 0o755);
    appendFileSync(instance.envFile, 'MCP_MOUNTS=./memory:/memory:rw\nMEMORY_FILE_PATH=/memory/memory.jsonl\n');
    const refused = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(refused.exitCode, 1, refused.all);
    assert.match(
      refused.all,
      /MCP_MOUNTS: \S+\/memory is mounted writable \(rw\) at \/memory, but the MCP server's user \(uid 10002\) cannot write there \(owner uid 0, group 0, mode 755\)/,
    );
    assert.match(refused.all, new RegExp(`sudo chown -R 10002:10002 \\S+/memory`));
    assert.doesNotMatch(refused.all, /is writable by the MCP server/);
    const running = await docker(['ps', '--quiet', '--filter', `name=^/?${instance.name}$`]);
    assert.equal(running.stdout.trim(), '', 'nothing was started');

    chownSync(folder, 10002, 10002);
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    assert.match(started.all, /is mounted writable \(rw\): the MCP server may change or delete what is in it/);
    await withClient(instance, async (client) => {
      const created = await client.callTool({
        name: 'create_entities',
        arguments: { entities: [{ name: 'on-the-host', entityType: 'test', observations: ['x'] }] },
      });
      assert.ok(!created.isError, JSON.stringify(created.content));
    });
    assert.ok(existsSync(join(folder, 'memory.jsonl')));
    assert.match(readFileSync(join(folder, 'memory.jsonl'), 'utf8'), /on-the-host/);
    assert.deepEqual(
      readdirSync(folder).filter((name) => name.startsWith('.mcp-sandbox-write-check')),
      [],
      'the check left nothing behind',
    );
  });
});
