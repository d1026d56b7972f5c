/**
 * The foundation e2e and the escape battery, unchanged, against Podman: rootful,
 * reached through its Docker-compatible API with the same docker CLI
 * (docs/GUIDE.md, "Podman"). Where Podman differs, the product adapts its argv
 * and the shared assertions read what the engine applied (battery.ts, item 16).
 * Without the socket this fails: CI installs Podman (scripts/ensure-podman.sh).
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
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
  const { docker } = await import('./harness.js');
  test('the engine under test is Podman', async () => {
    const version = await docker(['version', '--format', '{{json .Server.Components}}']);
    assert.match(version.stdout, /Podman Engine/, version.stderr);
  });
  await import('./foundation.test.js');
  await import('./escape-battery.test.js');
}
