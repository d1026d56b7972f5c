/**
 * The stand-in for Pinggy (test/fixtures/ssh-stand-in): a plain OpenSSH server
 * on a network the test created, which the pinggy template dials instead of
 * Pinggy. Used by tunnels.test.ts and oauth-tunnel.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { docker, projectDir, waitFor } from './harness.js';

const STAND_IN_IMAGE = 'mcps-e2e-ssh-stand-in';
/** The Pinggy token the stand-in takes as its user name (its home holds what the session sent: /home/e2etoken/remote-command). */
export const STAND_IN_USER = 'e2etoken';

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

/**
 * The set-up of a pinggy instance that dials the stand-in: removes what an interrupted run left
 * (the stand-in, the instance's container and network, and LEFTOVERS), creates NETWORK, starts the
 * stand-in SSHD on it, and returns the settings that point the pinggy template at it.
 */
export async function standInPinggy(sshd: string, instance: string, network: string, leftovers: string[] = []): Promise<Record<string, string>> {
  await docker(['rm', '-f', sshd, instance, ...leftovers]);
  await docker(['network', 'rm', network]);
  assert.equal((await docker(['network', 'create', network])).exitCode, 0);
  const hostKey = await startSshStandIn(sshd, network);
  return { TEMPLATE: 'pinggy', PINGGY_ACCESS_TOKEN: STAND_IN_USER, PINGGY_SERVER: sshd, PINGGY_PORT: '2222', PINGGY_HOST_KEY: hostKey };
}
