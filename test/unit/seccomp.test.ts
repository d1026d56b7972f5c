import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AF_VSOCK, renderSeccompProfile, SECCOMP_ALWAYS_REFUSED, SECCOMP_REMOVALS, seccompProfile } from '../../package_scripts/sandbox/seccomp.js';
import { repoRoot } from './project-fixture.js';

const allowedNames = () =>
  new Set(
    seccompProfile()
      .syscalls.filter((rule) => rule.action === 'SCMP_ACT_ALLOW')
      .flatMap((rule) => rule.names),
  );

describe('the seccomp profile', () => {
  it('profiles/seccomp.json is exactly what package_scripts/sandbox/seccomp.ts renders (run scripts/write-seccomp-profile.mjs)', () => {
    assert.equal(readFileSync(join(repoRoot, 'profiles', 'seccomp.json'), 'utf8'), renderSeccompProfile());
  });

  it('refuses by default with EPERM', () => {
    const profile = seccompProfile();
    assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(profile.defaultErrnoRet, 1);
  });

  it('allows none of the removed or always-refused calls, in any rule', () => {
    const allowed = allowedNames();
    for (const name of [...Object.keys(SECCOMP_REMOVALS), ...Object.keys(SECCOMP_ALWAYS_REFUSED)]) {
      assert.equal(allowed.has(name), false, `${name} is allowed`);
    }
    // The list, spelled out so a rename in the tables cannot drop one silently.
    for (const name of [
      'io_uring_setup',
      'io_uring_enter',
      'io_uring_register',
      'ptrace',
      'process_vm_readv',
      'process_vm_writev',
      'userfaultfd',
      'perf_event_open',
      'bpf',
      'keyctl',
      'add_key',
      'request_key',
    ]) {
      assert.equal(allowed.has(name), false, name);
    }
  });

  it('still allows what Node, Supergateway and the entrypoint need (positive control)', () => {
    const allowed = allowedNames();
    for (const name of [
      'read',
      'write',
      'openat',
      'mmap',
      'futex',
      'epoll_wait',
      'clone',
      'execve',
      'socket',
      'setsockopt',
      'setresuid',
      'setgroups',
      'capset',
      'prctl',
      'chown',
      'wait4',
    ]) {
      assert.ok(allowed.has(name), name);
    }
  });

  it('allows personality only with the values Docker allows, and clone only without namespace flags', () => {
    const { syscalls } = seccompProfile();
    const personality = syscalls.filter((rule) => rule.names.includes('personality'));
    assert.deepEqual(
      personality.map((rule) => rule.args),
      [0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((value) => [{ index: 0, value, op: 'SCMP_CMP_EQ' }]),
    );
    for (const rule of syscalls.filter((r) => r.names.includes('clone') && r.action === 'SCMP_ACT_ALLOW')) {
      assert.equal(rule.args?.[0]?.op, 'SCMP_CMP_MASKED_EQ');
      assert.equal(rule.args?.[0]?.value, 0x7e020000);
    }
    assert.deepEqual(
      syscalls.find((r) => r.names.includes('clone3')),
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    );
  });

  it('applies to native architectures only: no 32-bit ABI (int 0x80, x32, arm, s390) a 64-bit process could enter', () => {
    const { archMap, syscalls } = seccompProfile();
    assert.deepEqual(
      archMap.map((a) => [a.architecture, a.subArchitectures]),
      [
        ['SCMP_ARCH_X86_64', null],
        ['SCMP_ARCH_AARCH64', null],
        ['SCMP_ARCH_S390X', null],
        ['SCMP_ARCH_RISCV64', null],
      ],
    );
    // A rule for an architecture that is not in the filter would only mislead the reader.
    const named = syscalls.flatMap((rule) => [...(rule.includes?.arches ?? []), ...(rule.excludes?.arches ?? [])]);
    assert.deepEqual([...new Set(named)].sort(), ['amd64', 'riscv64', 's390x']);
  });

  it('refuses AF_VSOCK sockets and allows every other family (positive control)', () => {
    const socketRules = seccompProfile().syscalls.filter((rule) => rule.names.includes('socket'));
    assert.deepEqual(socketRules, [{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_NE' }] }]);
    assert.equal(AF_VSOCK, 40, 'linux/socket.h');
  });

  it('docs/SECURITY.md names every removal', () => {
    const security = readFileSync(join(repoRoot, 'docs', 'SECURITY.md'), 'utf8');
    for (const name of Object.keys(SECCOMP_REMOVALS)) assert.ok(security.includes(`\`${name}\``), name);
  });
});
