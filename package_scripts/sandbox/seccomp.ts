/**
 * The seccomp profile every instance runs under (`--security-opt seccomp=...`),
 * as data. It starts from the allowlist of Docker's default profile
 * (github.com/moby/moby, profiles/seccomp/default.json) and takes away what an
 * MCP server has no use for and what would defeat the sandbox: SECCOMP_REMOVALS
 * says what and why, in this one place. `npm run seccomp` writes the result to
 * profiles/seccomp.json; a unit test keeps that file equal to this module.
 *
 * Rules of Docker's default that only apply with a capability we never grant
 * (CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_BPF, CAP_PERFMON, CAP_SYS_MODULE, ...)
 * are left out: the container's bounding set never holds those capabilities.
 */

export interface SeccompRule {
  names: string[];
  action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  errnoRet?: number;
  args?: { index: number; value: number; op: 'SCMP_CMP_EQ' | 'SCMP_CMP_NE' | 'SCMP_CMP_MASKED_EQ' }[];
  includes?: { arches: string[] };
  excludes?: { arches: string[] };
  comment?: string;
}

export interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ERRNO';
  defaultErrnoRet: number;
  archMap: { architecture: string; subArchitectures: string[] | null }[];
  syscalls: SeccompRule[];
}

/** Calls Docker's default profile allows without any capability, and this one does not. */
export const SECCOMP_REMOVALS: Readonly<Record<string, string>> = {
  io_uring_setup:
    'io_uring runs file and network operations that seccomp never sees, and has been a steady source of kernel exploits; Docker removed it from its default profile upstream',
  io_uring_enter: 'see io_uring_setup',
  io_uring_register: 'see io_uring_setup',
  ptrace: 'the server could PTRACE_SEIZE any process of its own user: Supergateway and the servers of other sessions (there is no Yama here to stop it)',
  process_vm_readv: "reads another process's memory without ptrace (same user, same reason as ptrace)",
  process_vm_writev: "writes another process's memory without ptrace (same user, same reason as ptrace)",
  remap_file_pages: 'deprecated since Linux 3.16 and emulated; nothing current uses it',
};

/**
 * Calls that stay refused, as in Docker's default profile, listed so that a
 * test proves it: none of them may ever appear in an allow rule.
 */
export const SECCOMP_ALWAYS_REFUSED: Readonly<Record<string, string>> = {
  userfaultfd: 'lets a process stall the kernel on a page fault, the usual tool to win kernel race conditions',
  perf_event_open: 'performance counters leak kernel addresses and timing; a large kernel interface',
  bpf: 'loads programs into the kernel',
  keyctl: "the kernel keyring is not namespaced: keys could be shared with or taken from other containers' processes",
  add_key: 'see keyctl',
  request_key: 'see keyctl',
  unshare: 'new namespaces (a user namespace especially) open kernel interfaces the sandbox closes',
  setns: 'see unshare',
  mount: 'see unshare',
  kcmp: 'compares kernel objects of other processes',
  pidfd_getfd: 'takes a file descriptor out of another process',
};

// Docker's default allowlist (no capability needed), minus SECCOMP_REMOVALS. Grouped only for reading.
const ALLOWED = `
  accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
  clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
  clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat
  dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2
  epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group
  faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat
  fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr
  fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64
  futex futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64
  getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer
  getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32
  getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt
  get_thread_area gettid gettimeofday getuid getuid32 getxattr
  inotify_add_watch inotify_init inotify_init1 inotify_rm_watch
  io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set
  io_setup io_submit ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self
  lchown lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek
  lsetxattr lstat lstat64 madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat
  mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect
  mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
  mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall
  munmap name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause
  pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll
  ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6
  pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv
  recv recvfrom recvmmsg recvmmsg_time64 recvmsg removexattr rename renameat renameat2
  restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
  rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
  sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
  sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
  sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select
  semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg
  sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
  setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
  setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt
  set_thread_area set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget
  shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice
  stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs sysinfo tee
  tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64
  timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64
  timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname
  unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid
  write writev
`;

const allow = (names: string[], extra: Partial<SeccompRule> = {}): SeccompRule => ({ names, action: 'SCMP_ACT_ALLOW', ...extra });
const onArches = (arches: string[]) => ({ includes: { arches } });
const argEquals = (value: number) => ({ args: [{ index: 0, value, op: 'SCMP_CMP_EQ' as const }] });

/**
 * The architectures the profile applies to, each without the 32-bit ABIs its
 * kernel may also accept (Docker's default lists x86 and x32 under x86-64, arm
 * under aarch64, s390 under s390x). A 64-bit process can enter those ABIs
 * itself: `int 0x80` on x86-64 runs an i386 system call. There, `socketcall`
 * carries its arguments in memory, where seccomp cannot read them, so
 * `socketcall(SYS_SOCKET, {AF_VSOCK, ...})` passed the rule that refuses
 * `socket(AF_VSOCK)`. Nothing the image runs is 32-bit (Node.js, Python and
 * every binary of the image are built for the native architecture), so these
 * ABIs are left out whole: a system call from any of them does not match the
 * filter's architecture and is refused (test/e2e/escape-battery.test.ts, item 18).
 * One entry stays: s390x's native ABI has socketcall itself, and its glibc may
 * open every socket through it, so there AF_VSOCK is refused through `socket`
 * only. The image is built for amd64 and arm64, whose native ABIs have no socketcall.
 */
export const NATIVE_ARCHITECTURES = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_S390X', 'SCMP_ARCH_RISCV64'] as const;

/** AF_VSOCK: sockets to the host's hypervisor (Docker Desktop, Kata, Firecracker), refused in every entry. */
export const AF_VSOCK = 40;

/** clone without any CLONE_NEW* flag (the mask covers them): threads and processes, never namespaces. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
/** personality values Docker's default allows: Linux, Linux 32-bit, UNAME26 variants, and the query. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

export function seccompProfile(): SeccompProfile {
  const allowed = ALLOWED.split(/\s+/).filter(Boolean);
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1, // EPERM
    archMap: [
      // No sub-architecture: see NATIVE_ARCHITECTURES.
      ...NATIVE_ARCHITECTURES.map((architecture) => ({ architecture, subArchitectures: null })),
    ],
    syscalls: [
      allow(allowed),
      // Any socket but AF_VSOCK. socketpair needs no rule: no vsock transport makes pairs (EOPNOTSUPP).
      allow(['socket'], { args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_NE' }] }),
      ...PERSONALITIES.map((value) => allow(['personality'], argEquals(value))),
      allow(['clone'], { args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }], excludes: { arches: ['s390x'] } }),
      allow(['clone'], {
        args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }],
        ...onArches(['s390x']),
        comment: 's390 passes the clone flags second',
      }),
      // clone3 passes its flags in memory, where seccomp cannot read them: ENOSYS makes libc fall back to clone.
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      allow(['arch_prctl'], onArches(['amd64'])),
      allow(['modify_ldt'], onArches(['amd64'])),
      // Docker's rule for the 32-bit ARM calls (arm_fadvise64_64, cacheflush, set_tls, ...) is gone with that ABI.
      allow(['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr'], onArches(['s390x'])),
      allow(['riscv_flush_icache'], onArches(['riscv64'])),
    ],
  };
}

/** The profile file's text, as `npm run seccomp` writes it. */
export const renderSeccompProfile = (): string => `${JSON.stringify(seccompProfile(), null, 2)}\n`;
