/**
 * MCP_DATA, the server's persistent folder: the path rule, the named volume
 * NAME-data in every renderer (docker run, Compose, a Kubernetes claim), the
 * entrypoint's hand-over to uid 10002 (own_data_folder, run with stand-ins for
 * the commands that need a real mount), and `stop`, which keeps the volume
 * unless --delete-data says otherwise.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { stop } from '../../package_scripts/commands/stop.js';
import type { CommandContext } from '../../package_scripts/context.js';
import type { DockerEngine, DockerResult } from '../../package_scripts/docker/engine.js';
import { instanceNames } from '../../package_scripts/docker/names.js';
import { UsageError } from '../../package_scripts/errors.js';
import { composeFile, composeService } from '../../package_scripts/sandbox/compose.js';
import { kubernetesObjects } from '../../package_scripts/sandbox/kubernetes.js';
import { dataPathIssue } from '../../package_scripts/settings/data.js';
import { instanceOf, settingsOf } from './export-fixture.js';
import { repoRoot } from './project-fixture.js';
import { recordingOutput } from './recording-output.js';
import { runArgs } from './sandbox-fixture.js';
import { projectDir, runWithFakes } from './shell/fakes.js';

describe('MCP_DATA: the path', () => {
  for (const good of ['/data', '/srv/data', '/var/lib/memory', '/home/mcp/notes', '/workspace-data']) {
    it(`${good} is accepted`, () => assert.equal(dataPathIssue(good), undefined));
  }
  const bad: Array<[string, RegExp]> = [
    ['data', /must be an absolute folder inside the container such as \/data/],
    ['/', /must be an absolute folder/],
    ['/data/', /no trailing "\/"/],
    ['/data/../etc', /no "\.\."/],
    ['/data,/x', /must be an absolute folder/],
    ['/etc', /would cover \/etc, which the image or the sandbox itself uses/],
    ['/opt/mcp-server/x', /would cover \/opt/],
    ['/tmp/data', /would cover \/tmp/],
    ['/run', /would cover \/run/],
    ['/var', /would cover \/var\/lib\/mcp-sandbox/],
    ['/var/lib/mcp-sandbox/data', /would cover \/var\/lib\/mcp-sandbox/],
  ];
  for (const [value, message] of bad) {
    it(`${value} is refused`, () => {
      assert.match(dataPathIssue(value) ?? '', message);
      assert.throws(
        () => settingsOf({ MCP_DATA: value }),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
      );
    });
  }
  it('a data folder that overlaps an MCP_MOUNTS folder is refused', () => {
    for (const [data, mount] of [
      ['/workspace/data', './data:/workspace'],
      ['/data', './data:/data/sub:rw'],
    ] as const) {
      assert.throws(
        () => settingsOf({ MCP_DATA: data, MCP_MOUNTS: mount }),
        (error: unknown) => error instanceof UsageError && /MCP_DATA=\S+ and the MCP_MOUNTS folder \S+ overlap/.test(error.message),
      );
    }
    assert.equal(settingsOf({ MCP_DATA: '/data', MCP_MOUNTS: './data:/workspace' }).MCP_DATA, '/data');
  });
});

describe('MCP_DATA: the volume NAME-data in every renderer', () => {
  const settings = settingsOf({ NAME: 'mem', MCP_DATA: '/data' });
  const instance = instanceOf(settings);

  it('docker run mounts NAME-data there and tells the entrypoint where it is', () => {
    const run = runArgs(settings, instanceNames('mem'), { detached: true });
    assert.ok(run.args.join(' ').includes('--volume mem-data:/data'), run.args.join(' '));
    assert.equal(run.env.MCP_DATA, '/data');
  });

  it('without MCP_DATA there is no data volume (the control)', () => {
    const run = runArgs(settingsOf({ NAME: 'mem' }), instanceNames('mem'), { detached: true });
    assert.ok(!run.args.join(' ').includes('mem-data'));
    assert.equal(run.env.MCP_DATA, undefined);
  });

  it('Compose: a named volume, declared at the top level with the same name', () => {
    const compose = { profile: instance.profile, envFile: 'mem.env', seccompFile: '/s.json', secretNames: instance.secretNames };
    assert.deepEqual(
      composeService(compose).volumes?.find((v) => v.target === '/data'),
      { type: 'volume', source: 'mem-data', target: '/data' },
    );
    assert.deepEqual(composeFile([compose]).volumes?.['mem-data'], { name: 'mem-data' });
  });

  it('Kubernetes: a PersistentVolumeClaim NAME-data the Deployment mounts (not an emptyDir)', () => {
    const objects: any[] = kubernetesObjects({
      profile: instance.profile,
      template: 'nginx',
      servicePort: 443,
      seccompLocalhostProfile: 'x/seccomp.json',
      secretNames: [],
    });
    const claim = objects.find((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === 'mem-data');
    assert.ok(claim);
    new PersistentVolumeClaim(claim).validate();
    assert.equal(claim.metadata.name, 'mem-data');
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
    const deployment = objects.find((o) => o.kind === 'Deployment');
    new Deployment(deployment).validate();
    const volume = deployment.spec.template.spec.volumes.find((v: any) => v.persistentVolumeClaim?.claimName === 'mem-data');
    assert.deepEqual(volume, { name: 'mem-data', persistentVolumeClaim: { claimName: 'mem-data' } });
    assert.ok(deployment.spec.template.spec.containers[0].volumeMounts.some((m: any) => m.name === 'mem-data' && m.mountPath === '/data'));
    const withoutData: any[] = kubernetesObjects({
      profile: instanceOf(settingsOf({ NAME: 'mem' })).profile,
      template: 'nginx',
      servicePort: 443,
      seccompLocalhostProfile: 'x/seccomp.json',
      secretNames: [],
    });
    assert.ok(!withoutData.some((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === 'mem-data'));
  });
});

describe("MCP_DATA: the entrypoint's hand-over (own_data_folder)", () => {
  const LIB = join(projectDir, 'docker', 'common', 'runtime', 'lib', 'sandbox.sh');
  /** The library with mountpoint, stat, chmod and chown replaced by shell functions that log (no real mount here). */
  const run = (folder: string, { mounted = true, owner = '0' } = {}) =>
    runWithFakes('bash', [
      '-c',
      `set -euo pipefail
. "$1"
mountpoint() { ${mounted ? 'return 0' : 'return 1'}; }
stat() { echo ${owner}; }
chmod() { echo "chmod $*"; }
chown() { echo "chown $*"; }
own_data_folder "$2" mcp`,
      'test',
      LIB,
      folder,
    ]);

  it('a new volume (root, 0755) becomes mcp:mcp, mode 0700, set while root still owns it', async () => {
    const r = await run('/data');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'chmod 0700 -- /data\nchown -- mcp:mcp /data\n');
  });
  it("a volume already the server user's is left alone (its mode is the server's choice)", async () => {
    const r = await run('/data', { owner: '10002' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
  });
  it('another owner (a claim provisioned elsewhere) is chowned; root may not chmod it', async () => {
    const r = await run('/data', { owner: '1000' });
    assert.equal(r.stdout, 'chown -- mcp:mcp /data\n');
  });
  it('not a mount point: exit 78, nothing changed', async () => {
    const r = await run('/etc', { mounted: false });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /MCP_DATA=\/etc is not a mounted volume/);
    assert.equal(r.stdout, '');
  });
  it('empty: nothing to do; a relative path: exit 78', async () => {
    assert.equal((await run('')).stdout, '');
    const relative = await run('data');
    assert.equal(relative.status, 78);
    assert.match(relative.stderr, /MCP_DATA must be an absolute folder/);
  });
});

describe('stop and the data volume', () => {
  function recording(volumeExists: boolean, others: readonly string[] = []) {
    const calls: string[][] = [];
    const messages: string[] = [];
    const engine: DockerEngine = {
      async run(args) {
        calls.push(args);
        const ok = (stdout = ''): DockerResult => ({ stdout, stderr: '', exitCode: 0 });
        if (args[0] === 'ps') return ok('abc123\n');
        if (args[0] === 'volume' && args[1] === 'ls') {
          const existing = [...(volumeExists ? ['mem-data'] : []), ...others];
          return ok(existing.filter((v) => args.includes(`name=^${v}$`)).join('\n'));
        }
        return ok();
      },
    };
    const ctx: CommandContext = { projectDir: repoRoot, hostEnv: { HOME: '/nonexistent' }, out: recordingOutput(messages), docker: () => engine };
    return { ctx, calls, messages };
  }
  const removed = (calls: string[][]) => calls.filter((c) => c[0] === 'volume' && c[1] === 'rm');

  it('a plain stop keeps the volume and says how to delete it', async () => {
    const h = recording(true);
    await stop(h.ctx, { name: 'mem' });
    assert.deepEqual(removed(h.calls), []);
    assert.ok(
      h.messages.includes('info: Kept the data volume mem-data (MCP_DATA): the next start finds it as it was. `npm run stop -- --delete-data` deletes it.'),
    );
  });
  it("a plain stop removes NAME-server-env (MCP_ENV's values never outlive the instance) and keeps NAME-data", async () => {
    const h = recording(true, ['mem-server-env']);
    await stop(h.ctx, { name: 'mem' });
    assert.deepEqual(removed(h.calls), [['volume', 'rm', 'mem-server-env']]);
    // Control: without that volume (no MCP_ENV), nothing is removed.
    const none = recording(true);
    await stop(none.ctx, { name: 'mem' });
    assert.deepEqual(removed(none.calls), []);
  });
  it('--delete-data removes exactly NAME-data', async () => {
    const h = recording(true);
    await stop(h.ctx, { name: 'mem', deleteData: true });
    assert.deepEqual(removed(h.calls), [['volume', 'rm', 'mem-data']]);
    assert.ok(h.messages.some((m) => m.startsWith('success: Deleted the data volume mem-data')));
  });
  it('--delete-data --dry-run prints the volume rm and runs nothing', async () => {
    const h = recording(true);
    await stop(h.ctx, { name: 'mem', deleteData: true, dryRun: true });
    assert.deepEqual(h.calls, []);
    assert.ok(h.messages.includes('data: docker volume rm mem-server-env'), h.messages.join('\n'));
    assert.ok(h.messages.includes('data: docker volume rm mem-data'), h.messages.join('\n'));
  });
  it('--delete-data with --all is refused before any docker call', async () => {
    const h = recording(true);
    await assert.rejects(
      stop(h.ctx, { all: true, deleteData: true }),
      (error: unknown) => error instanceof UsageError && /--delete-data deletes one instance's data/.test(error.message),
    );
    assert.deepEqual(h.calls, []);
  });
  it('no volume: a plain stop says nothing about data', async () => {
    const h = recording(false);
    await stop(h.ctx, { name: 'mem' });
    assert.ok(!h.messages.some((m) => m.includes('data volume')));
  });
});
