import type { EngineDescriptor } from './engine.js';

/** Podman, reached through its Docker-compatible API with the docker CLI (docs/GUIDE.md, "Podman"). */
export const podmanEngine: EngineDescriptor = {
  kind: 'podman',
  displayName: 'Podman',
  // Its compat API says so in the platform and component names ("Podman Engine").
  identifies: (names) => /podman/i.test(names),
  // Its compat API takes `seccomp=` as a path on the engine's machine, while the docker CLI
  // always sends the profile's content (podman#27710): the engine's default is checked instead.
  seccomp: 'engine-default',
  // A read-only container always gets Podman's writable tmpfs at /tmp, /run and /var/tmp (its
  // --read-only-tmpfs, which the docker CLI cannot turn off). /tmp and /run are the profile's
  // already; /var/tmp is mounted read-only and empty, so the root stays as read-only as under Docker.
  extraTmpfsArgs: ['--tmpfs', '/var/tmp:ro,nosuid,nodev,noexec,size=4k'],
  // As soon as one --ulimit is given (core=0), rootful Podman sets the open-file and process limits
  // it was not given to 1048576 and 4194304: far above what the sandbox needs (nginx has 1024
  // connections per worker), and refused where root lacks CAP_SYS_RESOURCE (Podman inside a
  // container or a locked-down VM). Both are bounded; --pids-limit stays the real bound on processes.
  extraLimitArgs: ['--ulimit', 'nofile=8192:8192', '--ulimit', 'nproc=16384:16384'],
  // Podman writes host.containers.internal into every container's /etc/hosts itself; 4.3 refuses
  // host-gateway in --add-host, so host.docker.internal is Docker's name only.
  hostAliases: [],
  rootlessCannotPublishPrivileged: true,
};
