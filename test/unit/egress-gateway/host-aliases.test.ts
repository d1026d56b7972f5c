/**
 * The engine's names for the host (host-aliases.mjs): read from the
 * container's /etc/hosts as the engines write it, and nothing else of that file
 * (localhost and the container's own name stay the engine resolver's business).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { egressModule } from './module.js';

const { hostAliasesOf, withHostAliases } = await egressModule('host-aliases.mjs');

// As Docker 20.10 writes it with --add-host host.docker.internal:host-gateway, and as Podman 4.3 does.
const DOCKER_HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff02::1\tip6-allnodes
172.17.0.1\thost.docker.internal
172.18.0.2\t21fe52f2c746
`;
const PODMAN_HOSTS = `127.0.0.1\tlocalhost
10.88.0.1\thost.containers.internal
10.88.0.7\t5243b8b95e8a brave_vaughan
# a comment 10.0.0.1 host.docker.internal
`;

describe('host aliases from /etc/hosts', () => {
  it("Docker's host.docker.internal, and nothing else of the file", () => {
    assert.deepEqual([...hostAliasesOf(DOCKER_HOSTS)], [['host.docker.internal', ['172.17.0.1']]]);
  });

  it("Podman's host.containers.internal; a commented line is no entry", () => {
    assert.deepEqual([...hostAliasesOf(PODMAN_HOSTS)], [['host.containers.internal', ['10.88.0.1']]]);
  });

  it('answers an alias from the file and asks the engine resolver for every other name', async () => {
    const asked: string[] = [];
    const resolve = withHostAliases(async (name: string) => {
      asked.push(name);
      return ['192.0.2.7'];
    }, hostAliasesOf(DOCKER_HOSTS));
    assert.deepEqual(await resolve('HOST.docker.internal'), ['172.17.0.1']);
    assert.deepEqual(await resolve('db.test'), ['192.0.2.7']);
    assert.deepEqual(await resolve('localhost'), ['192.0.2.7'], 'localhost is not taken from the file');
    assert.deepEqual(asked, ['db.test', 'localhost']);
  });
});
