/**
 * Build time is untrusted too (docs/SECURITY.md, "Build time"): the probe
 * server's install scripts (test/fixtures/probe-server/install-attack.cjs) try
 * every route to something that later runs as root or as "gateway". For each
 * template, the image built with it must equal, outside the server's own tree,
 * the image built with a benign server; the tree itself must be root's and
 * read-only. Controls show that the attack is real (as root it tampers), that
 * the base image has setuid files to strip, and that the kernel offers the
 * system calls the seccomp profile takes away.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { templateNames } from '../../package_scripts/templates/registry.js';
import { PROBE_PACKAGE, TARGET_IMAGE } from './battery.js';
import { cli, createInstance, docker, newToken, probeServerDir, projectDir, type Instance } from './harness.js';
import { describeEntry, imageManifest, manifestDifferences, type Manifest } from './image-manifest.js';

const benignServerDir = join(projectDir, 'test', 'fixtures', 'benign-server');
const inServerTree = (path: string) => path === '/opt/mcp-server' || path.startsWith('/opt/mcp-server/');
const TUNNEL_TOKENS = { NGROK_AUTHTOKEN: `build_only_${newToken().slice(0, 16)}`, PINGGY_ACCESS_TOKEN: newToken().slice(0, 20) };

async function buildImage(name: string, server: string, template: string, settings: Record<string, string> = {}): Promise<Instance> {
  const instance = await createInstance(name, { TEMPLATE: template, NPM_MCP: server, NPM_MCP_ARGS: '', ...TUNNEL_TOKENS, ...settings });
  const built = await cli(['build', '--env-file', instance.envFile]);
  assert.equal(built.exitCode, 0, built.all);
  return instance;
}

describe('install time: a hostile package changes nothing outside its own tree', { timeout: 1_200_000 }, () => {
  const images: string[] = [];
  after(async () => {
    if (images.length) await docker(['rmi', '-f', ...images]);
  });

  for (const template of templateNames()) {
    describe(`TEMPLATE=${template}`, () => {
      let hostile: Manifest;
      let benign: Manifest;
      const hostileImage = `mcps-e2e-it-hostile-${template}:latest`;

      before(async () => {
        await buildImage(`mcps-e2e-it-hostile-${template}`, probeServerDir, template);
        await buildImage(`mcps-e2e-it-benign-${template}`, benignServerDir, template);
        images.push(hostileImage, `mcps-e2e-it-benign-${template}:latest`);
        [hostile, benign] = await Promise.all([imageManifest(hostileImage), imageManifest(`mcps-e2e-it-benign-${template}:latest`)]);
      });

      test('outside /opt/mcp-server, every path, owner, mode and content is that of the benign build', () => {
        assert.ok(hostile.size > 1000, `${hostile.size} entries: the manifest covers the image`);
        assert.match(describeEntry('/etc/passwd', hostile.get('/etc/passwd')), /^\/etc\/passwd file 0:0 0644 [0-9a-f]{64}$/);
        assert.deepEqual(
          manifestDifferences(benign, hostile, (path) => !inServerTree(path)),
          [],
        );
        // Control: inside the tree the two differ, so the comparison sees what the package left.
        const inside = manifestDifferences(benign, hostile, inServerTree);
        assert.ok(
          inside.some((line) => line.includes(`${PROBE_PACKAGE}/install-report-postinstall.json`)),
          inside.join('\n'),
        );
      });

      test('the tree is root-owned, writable by root alone, with no setuid, setgid or sticky bit', () => {
        const tree = [...hostile].filter(([path]) => inServerTree(path));
        assert.ok(
          tree.some(([path]) => path === `${PROBE_PACKAGE}/suid-shell`),
          'the setuid shell the package made is there',
        );
        const wrong = tree.filter(([, e]) => e.uid !== 0 || e.gid !== 0 || (e.type !== 'symlink' && (e.mode & 0o7022) !== 0));
        assert.deepEqual(
          wrong.map(([path, e]) => describeEntry(path, e)),
          [],
        );
        const special = [...hostile].filter(([, e]) => e.type !== 'symlink' && (e.mode & 0o6000) !== 0);
        assert.deepEqual(
          special.map(([path, e]) => describeEntry(path, e)),
          [],
          'no setuid or setgid file anywhere in the image',
        );
        assert.equal(hostile.get('/usr/local/bin/mcp-server')?.content, '/opt/mcp-server/mcp-server');
      });
    });
  }

  test('MCP_INSTALL_SCRIPTS=false installs the package without running any of its scripts', async () => {
    await buildImage('mcps-e2e-it-noscripts', probeServerDir, 'nginx', { MCP_INSTALL_SCRIPTS: 'false' });
    images.push('mcps-e2e-it-noscripts:latest');
    const tree = [...(await imageManifest('mcps-e2e-it-noscripts:latest')).keys()].filter((path) => path.startsWith(`${PROBE_PACKAGE}/`));
    assert.ok(tree.includes(`${PROBE_PACKAGE}/index.js`), 'the package is installed');
    assert.deepEqual(
      tree.filter((path) => /install-report|suid-shell|preload/.test(path)),
      [],
    );
  });

  test('control: the same attack, run as root in the image as installs used to run, tampers with the sandbox', async () => {
    const result = await docker([
      'run',
      '--rm',
      '--user',
      '0',
      '--network',
      'none',
      '--entrypoint',
      'sh',
      'mcps-e2e-it-hostile-nginx:latest',
      '-c',
      `cd ${PROBE_PACKAGE} && node install-attack.cjs >/dev/null && cat install-report-manual.json`,
    ]);
    assert.equal(result.exitCode, 0, result.stderr);
    const succeeded = (JSON.parse(result.stdout) as { attempts: { target: string; ok: boolean }[] }).attempts.filter((a) => a.ok).map((a) => a.target);
    for (const target of [
      '/opt/sandbox/bin/entrypoint',
      '/opt/sandbox/gateway/run',
      '/etc/passwd (mcp as uid 0)',
      '/usr/local/sbin/setpriv',
      '/etc/ld.so.preload',
    ]) {
      assert.ok(succeeded.includes(target), `${target} in ${succeeded.join(', ')}`);
    }
  });

  test('control: the base image has setuid files, which the image build strips', async () => {
    const result = await docker(['run', '--rm', '--network', 'none', TARGET_IMAGE, 'find', '/', '-xdev', '-perm', '/6000']);
    assert.ok(result.stdout.split('\n').filter(Boolean).length > 0, result.stdout);
  });

  test('seccomp: the kernel offers io_uring, ptrace and process_vm_readv unconfined; the profile refuses them', async () => {
    const run = (seccomp: string) =>
      docker([
        'run',
        '--rm',
        '--network',
        'none',
        '--user',
        '10002',
        '--cap-drop',
        'ALL',
        '--security-opt',
        `seccomp=${seccomp}`,
        '--entrypoint',
        'perl',
        'mcps-e2e-it-hostile-nginx:latest',
        `${PROBE_PACKAGE}/syscalls.pl`,
      ]);
    const open = await run('unconfined');
    assert.equal(open.exitCode, 0, open.stderr);
    const unconfined = JSON.parse(open.stdout);
    assert.ok(unconfined.io_uring_setup.ret >= 0, `control: ${open.stdout}`);
    assert.equal(unconfined.ptrace_seize.ret, 0, `control: ${open.stdout}`);
    assert.equal(unconfined.process_vm_readv.ret, 0, `control: ${open.stdout}`);
    const confined = await run(join(projectDir, 'profiles', 'seccomp.json'));
    assert.equal(confined.exitCode, 0, confined.stderr);
    const refused = JSON.parse(confined.stdout);
    assert.ok(refused.getpid.ret > 0, confined.stdout);
    for (const name of ['io_uring_setup', 'ptrace_seize', 'process_vm_readv']) assert.equal(refused[name].errno, 1, `${name}: ${confined.stdout}`);
  });
});
