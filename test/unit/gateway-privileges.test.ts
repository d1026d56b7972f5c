/**
 * Who the session gateway is (docker/common/session-gateway/src/privileges.mjs,
 * loaded as the image runs it), with a recording stand-in for `process`: it runs
 * as "warden", not as the servers' "mcp", holding CAP_SETUID and CAP_SETGID alone,
 * made non-dumpable; every other identity is refused before the gateway loads.
 * The running gateway's uid, capabilities and memory are checked in the escape
 * battery (test/e2e/battery.ts, "gateway memory").
 */
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const privileges = (await import(pathToFileURL(join(repoRoot, 'docker', 'common', 'session-gateway', 'src', 'privileges.mjs')).href)) as Record<string, any>;

/** A process running as `uid` that records each seteuid call. */
function fakeProcess(uid: number, { groups = [uid] as number[] } = {}) {
  const calls: string[] = [];
  let euid = uid;
  return {
    calls,
    proc: {
      getuid: () => uid,
      geteuid: () => euid,
      getgid: () => uid,
      getegid: () => uid,
      getgroups: () => groups,
      seteuid: (id: number) => {
        calls.push(`seteuid ${id}`);
        euid = id;
      },
    },
  };
}

const status =
  ({ eff = '00000000000000c0', prm = '00000000000000c0', bnd = '0000000000000000', inh = '00000000000000c0' } = {}) =>
  () =>
    `Name:\tnode\nCapInh:\t${inh}\nCapPrm:\t${prm}\nCapEff:\t${eff}\nCapBnd:\t${bnd}\nCapAmb:\t00000000000000c0\n`;

describe('checkPrivileges: warden with CAP_SETUID and CAP_SETGID alone, non-dumpable, or refuse to start', () => {
  it('accepts warden holding c0 with an empty bounding set, and makes it non-dumpable by a seteuid round trip (control)', () => {
    const { proc, calls } = fakeProcess(10004);
    privileges.checkPrivileges({ proc, statusText: status(), memOwner: () => 0 });
    assert.deepEqual(calls, ['seteuid 10002', 'seteuid 10004']);
  });

  it("refuses the servers' user, root, or any other uid, before any call", () => {
    for (const uid of [10002, 0, 1000]) {
      const { proc, calls } = fakeProcess(uid);
      assert.throws(() => privileges.checkPrivileges({ proc, statusText: status(), memOwner: () => 0 }), /must run as "warden" \(10004:10004.*without --user/);
      assert.deepEqual(calls, []);
    }
  });

  it('refuses a supplementary group', () => {
    const { proc } = fakeProcess(10004, { groups: [10004, 10002] });
    assert.throws(() => privileges.checkPrivileges({ proc, statusText: status(), memOwner: () => 0 }), /groups 10002/);
  });

  it('refuses any capability beyond the two, or a bounding set left full', () => {
    const { proc } = fakeProcess(10004);
    assert.throws(() => privileges.checkPrivileges({ proc, statusText: status({ eff: '00000000000000e0' }), memOwner: () => 0 }), /CapEff e0/);
    assert.throws(() => privileges.checkPrivileges({ proc, statusText: status({ bnd: '00000000000000c0' }), memOwner: () => 0 }), /CapBnd c0/);
    assert.throws(() => privileges.checkPrivileges({ proc, statusText: status({ eff: '0', prm: '0' }), memOwner: () => 0 }), /CapEff 0, CapPrm 0/);
  });

  it('refuses a gateway that is still dumpable (a host with fs.suid_dumpable=1), naming the fix', () => {
    const { proc } = fakeProcess(10004);
    assert.throws(() => privileges.checkPrivileges({ proc, statusText: status(), memOwner: () => 10004 }), /still dumpable.*sysctl -w fs\.suid_dumpable=2/);
  });
});

describe('asServerUser: signals as "mcp", back to "warden" even when the act throws', () => {
  it('switches the effective uid around the act', () => {
    const { proc, calls } = fakeProcess(10004);
    assert.equal(
      privileges.asServerUser(() => proc.geteuid(), proc),
      10002,
    );
    assert.throws(
      () =>
        privileges.asServerUser(() => {
          throw new Error('ESRCH');
        }, proc),
      /ESRCH/,
    );
    assert.deepEqual(calls, ['seteuid 10002', 'seteuid 10004', 'seteuid 10002', 'seteuid 10004']);
    assert.equal(proc.geteuid(), 10004);
  });
  it('only runs the act outside the image (control)', () => {
    const { proc, calls } = fakeProcess(1000);
    assert.equal(
      privileges.asServerUser(() => 'ran', proc),
      'ran',
    );
    assert.deepEqual(calls, []);
  });
});

describe('serverLaunch: each server as "mcp", with no capability', () => {
  it('as warden: uid and gid 10002, and setpriv --inh-caps=-all in front (it empties the ambient set too)', () => {
    assert.deepEqual(privileges.serverLaunch({ statusText: status()(), euid: 10004 }), {
      prefix: ['setpriv', '--inh-caps=-all', '--'],
      uid: 10002,
      gid: 10002,
    });
  });
  it('outside the image, without inheritable capabilities: nothing added (control)', () => {
    assert.deepEqual(privileges.serverLaunch({ statusText: status({ inh: '0000000000000000' })(), euid: 1000 }), { prefix: [] });
  });
});
