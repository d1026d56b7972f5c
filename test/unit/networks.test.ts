/**
 * MCP_NETWORKS: the instance joins existing engine networks beside its own, at
 * every start and before its container runs; a network that does not exist
 * stops start before anything changed; bad names are exit 2 with the fix.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { start } from '../../package_scripts/commands/start.js';
import { instanceNames } from '../../package_scripts/docker/names.js';
import { StateError, UsageError } from '../../package_scripts/errors.js';
import { launchSteps } from '../../package_scripts/sandbox/docker-run.js';
import { sandboxProfile } from '../../package_scripts/sandbox/profile.js';
import { loadSettings } from '../../package_scripts/settings/load.js';
import { networksIssue, parseNetworks } from '../../package_scripts/settings/networks.js';
import { commandContext, ok, recordingEngine, repoRoot, writeEnvFile } from './project-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-networks-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
const TOKEN = 'ef'.repeat(32);

function instance(networks: string) {
  const dir = mkdtempSync(join(root, 'instance-'));
  const envFile = writeEnvFile(join(dir, '.env'), `NAME=joiner\nACCESS_TOKEN=${TOKEN}\nMCP_NETWORKS=${networks}\n`);
  return { dir, envFile };
}

function profileFor(networks: string, detached = true) {
  const { dir, envFile } = instance(networks);
  const settings = loadSettings(envFile, { hostEnv: { HOME: dir }, projectDir: repoRoot });
  return sandboxProfile(settings, instanceNames(settings.NAME), { detached, egress: settings.MCP_EGRESS });
}

describe('MCP_NETWORKS: the setting', () => {
  it('takes existing network names, comma-separated, spaces ignored (positive control)', () => {
    assert.equal(networksIssue('db-net, other_net,a.b'), undefined);
    assert.deepEqual(parseNetworks('db-net, other_net,a.b'), ['db-net', 'other_net', 'a.b']);
    assert.deepEqual(parseNetworks(''), []);
  });

  for (const [value, message] of [
    ['host', /must not list 'host': it shares the host's network stack/],
    ['none', /must not list 'none'/],
    ['db-net,db-net', /lists 'db-net' twice/],
    ['container:db', /entry 'container:db' is not a network name/],
    ['-net', /entry '-net' is not a network name/],
    ['db net', /entry 'db net' is not a network name/],
  ] as const) {
    it(`refuses ${value} with exit 2 and the fix`, () => {
      const { dir, envFile } = instance(value);
      assert.throws(
        () => loadSettings(envFile, { hostEnv: { HOME: dir }, projectDir: root }),
        (error: unknown) => error instanceof UsageError && error.exitCode === 2 && message.test(error.message),
      );
    });
  }

  it("refuses the instance's own network, which it joins anyway", () => {
    assert.throws(
      () => profileFor('joiner-net'),
      (error: unknown) => error instanceof UsageError && /lists joiner-net, the instance's own network/.test(error.message),
    );
  });
});

describe('MCP_NETWORKS: how the container starts', () => {
  it('without it: one docker run, as always (control)', () => {
    const steps = launchSteps(profileFor(''));
    assert.equal(steps.length, 1);
    assert.equal(steps[0]!.args[0], 'run');
  });

  it('detached: create (no --detach), join each network in order, then start', () => {
    const steps = launchSteps(profileFor('db-net,cache-net'));
    assert.deepEqual(
      steps.map((s) => s.args.slice(0, 3)),
      [
        ['create', '--name', 'joiner'],
        ['network', 'connect', 'db-net'],
        ['network', 'connect', 'cache-net'],
        ['start', 'joiner'],
      ],
    );
    assert.ok(!steps[0]!.args.includes('--detach') && steps[0]!.args.includes('--restart'));
    assert.deepEqual(steps[1]!.args, ['network', 'connect', 'db-net', 'joiner']);
    // The own network stays the one the container is created on.
    assert.equal(steps[0]!.args[steps[0]!.args.indexOf('--network') + 1], 'joiner-net');
  });

  it('attached: the last step attaches, and the container still removes itself', () => {
    const steps = launchSteps(profileFor('db-net', false));
    assert.ok(steps[0]!.args.includes('--rm'));
    assert.deepEqual(steps.at(-1)!.args, ['start', '--attach', 'joiner']);
  });
});

describe('MCP_NETWORKS: start with a recording engine', () => {
  const isNetworkLookup = (args: string[], name: string) => args[0] === 'network' && args[1] === 'ls' && args.includes(`name=^${name}$`);

  it('a network that does not exist: exit 1 naming it and the fix; the running container is left alone, nothing created', async () => {
    const { dir, envFile } = instance('db-net');
    const { engine, calls } = recordingEngine((args) => (isNetworkLookup(args, 'db-net') ? ok('') : args[0] === 'ps' ? ok('old-id\n') : undefined));
    const { ctx } = commandContext(dir, engine);
    await assert.rejects(
      start(ctx, { envFile, detach: true }),
      (error: unknown) =>
        error instanceof StateError && /MCP_NETWORKS lists db-net, which the engine does not have.*docker network create db-net/.test(error.message),
    );
    assert.ok(!calls.some((c) => c[0] === 'rm' || c[0] === 'create' || c[0] === 'run'), calls.map((c) => c.join(' ')).join('\n'));
  });

  it('networks that exist: looked up, then create, connect, start, in that order', async () => {
    const { dir, envFile } = instance('db-net');
    const { engine, calls } = recordingEngine((args) => (isNetworkLookup(args, 'db-net') ? ok('abc\n') : undefined));
    const { ctx } = commandContext(dir, engine);
    await start(ctx, { envFile, detach: true });
    const order = calls.map((c) => c.slice(0, 2).join(' '));
    const at = (step: string) => order.indexOf(step);
    assert.ok(at('create --name') > 0 && at('network connect') > at('create --name') && at('start joiner') > at('network connect'), order.join('\n'));
    assert.ok(!order.includes('run --name'), 'no docker run');
  });

  it('a join that fails removes the container it created, and says why', async () => {
    const { dir, envFile } = instance('db-net');
    const { engine, calls } = recordingEngine((args) => {
      if (isNetworkLookup(args, 'db-net')) return ok('abc\n');
      if (args[0] === 'network' && args[1] === 'connect') throw new Error('docker network connect failed: network db-net not found');
      return undefined;
    });
    const { ctx } = commandContext(dir, engine);
    await assert.rejects(start(ctx, { envFile, detach: true }), /network db-net not found/);
    const last = calls.at(-1)!;
    assert.deepEqual(last, ['rm', '--force', 'joiner']);
    assert.ok(!calls.some((c) => c[0] === 'start'));
  });
});
