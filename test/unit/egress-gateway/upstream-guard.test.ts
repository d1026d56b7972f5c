/**
 * The addresses the proxy never dials whatever a name resolves to
 * (upstream-guard.mjs): the container's own loopback, "this host",
 * link-local (cloud metadata) and multicast, in IPv4, IPv6 and IPv4-mapped
 * IPv6; beside the public and private addresses an allowed name may have.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { egressModule } from './module.js';

const { isForbiddenUpstream } = await egressModule('upstream-guard.mjs');

describe('the upstream guard', () => {
  it('refuses loopback, unspecified, link-local, multicast and non-addresses', () => {
    for (const address of [
      '127.0.0.1',
      '127.255.0.9',
      '0.0.0.0',
      '169.254.169.254',
      '224.0.0.251',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'ff02::fb',
      '::ffff:127.0.0.1',
      '::FFFF:169.254.169.254',
      'allowed.test',
      '',
    ]) {
      assert.equal(isForbiddenUpstream(address), true, address);
    }
  });

  it('lets public and private addresses through (a company service on a LAN is a legitimate name)', () => {
    for (const address of ['93.184.216.34', '10.0.0.5', '192.168.1.20', '172.17.0.2', '2001:db8::1', 'fd00::5', '::ffff:10.0.0.5']) {
      assert.equal(isForbiddenUpstream(address), false, address);
    }
  });
});
