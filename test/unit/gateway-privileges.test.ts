/**
 * The session gateway's drop from root to "mcp" (docker/common/session-gateway/src/drop-privileges.mjs,
 * loaded as the image runs it) with a recording stand-in for `process`: the order
 * of the calls, and every way the result is refused (still root, still dumpable,
 * not started as root). The running gateway's uid, capabilities and memory are
 * checked in the escape battery (test/e2e/battery.ts, "gateway memory").
 */
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const privileges = (await import(pathToFileURL(join(repoRoot, 'docker', 'common', 'session-gateway', 'src', 'drop-privileges.mjs')).href)) as Record<
  string,
  any
>;

/** A process that starts as `uid` and records each call; `setuidTakes: false` leaves it root. */
function fakeProcess(uid: number, { setuidTakes = true } = {}) {
  const calls: string[] = [];
  let current = { uid, gid: uid, groups: [0] as number[] };
  return {
    calls,
    proc: {
      getuid: () => current.uid,
      geteuid: () => current.uid,
      getgid: () => current.gid,
      getegid: () => current.gid,
      getgroups: () => current.groups,
      setgroups: (groups: number[]) => {
        calls.push(`setgroups ${JSON.stringify(groups)}`);
        current = { ...current, groups };
      },
      setgid: (user: string) => {
        calls.push(`setgid ${user}`);
        current = { ...current, gid: 10002 };
      },
      setuid: (user: string) => {
        calls.push(`setuid ${user}`);
        if (setuidTakes) current = { ...current, uid: 10002 };
      },
    },
  };
}

describe('dropPrivileges: root to mcp, non-dumpable, or refuse to start', () => {
  it('drops groups, then the gid, then the uid, and accepts a root-owned /proc/self/mem (control)', () => {
    const { proc, calls } = fakeProcess(0);
    privileges.dropPrivileges({ proc, memOwner: () => 0 });
    assert.deepEqual(calls, ['setgroups []', 'setgid mcp', 'setuid mcp']);
  });

  it('refuses a gateway that is still dumpable (a host with fs.suid_dumpable=1), naming the fix', () => {
    const { proc } = fakeProcess(0);
    assert.throws(() => privileges.dropPrivileges({ proc, memOwner: () => 10002 }), /still dumpable.*fs\.suid_dumpable.*sysctl -w fs\.suid_dumpable=2/);
  });

  it('refuses when the uid did not change', () => {
    const { proc } = fakeProcess(0, { setuidTakes: false });
    assert.throws(() => privileges.dropPrivileges({ proc, memOwner: () => 0 }), /did not take: uid\/euid\/gid\/egid 0\/0\/10002\/10002, groups none/);
  });

  it('refuses to start as anyone but root, before any call', () => {
    const { proc, calls } = fakeProcess(10002);
    assert.throws(() => privileges.dropPrivileges({ proc, memOwner: () => 0 }), /must start as root with CAP_SETUID and CAP_SETGID only.*without --user/);
    assert.deepEqual(calls, []);
  });
});

describe('serverLauncher: no server inherits the capabilities the gateway holds', () => {
  const status = (inh: string) => `Name:\tnode\nCapInh:\t${inh}\nCapPrm:\t0000000000000000\n`;
  it('puts setpriv --inh-caps=-all in front while the gateway holds inheritable capabilities', () => {
    assert.deepEqual(privileges.serverLauncher(status('00000000000000c0')), ['setpriv', '--inh-caps=-all', '--']);
  });
  it('adds nothing when it holds none (control)', () => {
    assert.deepEqual(privileges.serverLauncher(status('0000000000000000')), []);
  });
});
