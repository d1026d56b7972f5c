/**
 * The foundation e2e, the escape battery and egress by name, unchanged, against Podman: rootful,
 * reached through its Docker-compatible API with the same docker CLI
 * (docs/GUIDE.md, "Podman"). Where Podman differs, the product adapts its argv
 * and the shared assertions read what the engine applied (battery.ts, item 16).
 * Without the socket this fails: CI installs Podman (scripts/ensure-podman.sh).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const socket = process.env.MCPS_E2E_PODMAN_SOCKET ?? '/run/podman/podman.sock';

if (!existsSync(socket) || !statSync(socket).isSocket()) {
  test('Podman answers on its Docker-compatible socket', () => {
    assert.fail(`No Podman socket at ${socket}. Run \`bash scripts/ensure-podman.sh\` (as root; .ci/run does), or set MCPS_E2E_PODMAN_SOCKET`);
  });
} else {
  // Read by harness.ts when it loads, and inherited by every docker and CLI process the suites start.
  process.env.MCPS_E2E_ENGINE = 'podman';
  process.env.DOCKER_HOST = `unix://${socket}`;
  delete process.env.DOCKER_CONTEXT;
  const { cli, createInstance, docker, projectDir } = await import('./harness.js');
  test('the engine under test is Podman', async () => {
    const version = await docker(['version', '--format', '{{json .Server.Components}}']);
    assert.match(version.stdout, /Podman Engine/, version.stderr);
  });

  test('a seccomp profile other than the engine default is refused before anything starts', async () => {
    // Podman cannot take a profile per container (docker/podman.ts): a stricter one than its default must not pass silently.
    const instance = await createInstance('mcps-e2e-podman-seccomp', { MCP_SECCOMP_PROFILE: './stricter.json' });
    const shipped = JSON.parse(readFileSync(join(projectDir, 'profiles', 'seccomp.json'), 'utf8')) as { syscalls: unknown[] };
    writeFileSync(join(instance.dir, 'stricter.json'), JSON.stringify({ ...shipped, syscalls: shipped.syscalls.slice(1) }));
    const refused = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(refused.exitCode, 1, refused.all);
    assert.match(refused.stderr, /MCP_SECCOMP_PROFILE: Podman at unix:\/\/.* applies the seccomp profile .*, not the sandbox's/);
    assert.match(refused.stderr, /seccomp_profile = ".*stricter\.json"/);
    assert.equal((await docker(['ps', '--all', '--quiet', '--filter', `name=^/?${instance.name}$`])).stdout, '', 'no container');
    // Control: the shipped profile, which the engine applies, passes the same check (and stops at the missing image).
    writeFileSync(join(instance.dir, 'stricter.json'), JSON.stringify(shipped));
    const passed = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.match(passed.stderr, /The image mcps-e2e-podman-seccomp:latest does not exist yet/, passed.all);
  });
  await import('./foundation.test.js');
  await import('./escape-battery.test.js');
  await import('./egress-names.test.js');
}
