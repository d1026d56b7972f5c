/**
 * The escape battery against an instance that docker-compose started from
 * `npm run export -- --format compose`: the exported sandbox holds as the one
 * `npm run start` runs.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { execa } from 'execa';
import { createBatteryInstance, sandboxBattery, startTarget, type BatteryContext } from './battery.js';
import { cli, connectClient, docker, projectDir, waitFor } from './harness.js';

describe('escape battery against a Compose export (steps in order, on shared instances)', { timeout: 900_000 }, () => {
  let context: BatteryContext;
  const name = 'exp-e2e-battery';
  const target = 'exp-e2e-battery-target';
  let composeFile = '';
  const compose = (args: string[]) => execa('docker-compose', ['-f', composeFile, ...args], { cwd: projectDir, reject: false, all: true });

  before(async () => {
    const { instance, secrets } = await createBatteryInstance(name);
    composeFile = join(instance.dir, 'deploy', 'compose.yaml');
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    const exported = await cli(['export', '--format', 'compose', '--env-file', instance.envFile, '--out', join(instance.dir, 'deploy')]);
    assert.equal(exported.exitCode, 0, exported.all);
    const up = await compose(['up', '-d']);
    assert.equal(up.exitCode, 0, String(up.all));
    await waitFor(
      'the compose instance to be healthy',
      async () => ((await docker(['inspect', '--format', '{{.State.Health.Status}}', name])).stdout.trim() === 'healthy' ? true : undefined),
      120_000,
    );
    const network = `${name}-net`;
    await startTarget(target, network);
    const certificate = (await docker(['exec', name, 'cat', '/run/sandbox/served-cert.pem'])).stdout;
    const connect = () => connectClient(instance, { certificate });
    context = { instance, secrets, network, target, client: await connect(), connect, gatewayProcess: /^nginx/ };
  });

  after(async () => {
    await context?.client.close().catch(() => undefined);
    await docker(['rm', '-f', target]);
    if (composeFile) await compose(['down', '--volumes']);
  });

  sandboxBattery(() => context);
});
