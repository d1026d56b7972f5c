/**
 * The stand-in for Pinggy (test/fixtures/ssh-stand-in): a plain OpenSSH server
 * on a network the test created, which the pinggy template dials instead of
 * Pinggy. Used by tunnels.test.ts and oauth-tunnel.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { docker, projectDir, waitFor } from './harness.js';

const STAND_IN_IMAGE = 'mcps-e2e-ssh-stand-in';

/** Build the stand-in's image, run it as CONTAINER on NETWORK, and return its host key ("ssh-ed25519 AAAA...") once sshd made it. */
export async function startSshStandIn(container: string, network: string): Promise<string> {
  const image = await docker(['build', '-q', '-t', STAND_IN_IMAGE, join(projectDir, 'test', 'fixtures', 'ssh-stand-in')]);
  assert.equal(image.exitCode, 0, image.stderr);
  assert.equal((await docker(['run', '-d', '--name', container, '--network', network, STAND_IN_IMAGE])).exitCode, 0);
  return waitFor('the stand-in host key', async () => {
    const key = (await docker(['exec', container, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub'])).stdout.trim();
    return key ? key.split(' ').slice(0, 2).join(' ') : undefined;
  });
}
