/**
 * What differs between the engines the sandbox runs on, as data: one
 * descriptor per engine (docker.ts, podman.ts). The renderers (sandbox/docker-run.ts),
 * start (docker/podman.ts's seccomp check) and doctor read these; nothing
 * else branches on an engine. A remote engine (DOCKER_HOST=ssh://, a context;
 * docker/target.ts) is the same engine reached another way: only where the
 * engine is asked something through its local socket does it differ (Podman's
 * seccomp check says so when it cannot ask).
 */
export type EngineKind = 'docker' | 'podman';

export interface EngineDescriptor {
  readonly kind: EngineKind;
  /** As doctor names it. */
  readonly displayName: string;
  /** Whether `docker version`'s platform and component names are this engine's. */
  identifies(componentNames: string): boolean;
  /**
   * 'per-container': the docker CLI reads the profile and sends its content
   * with `--security-opt seccomp=`. 'engine-default': the engine takes no
   * profile per container through its compat API, so its default must be the
   * sandbox's, and start checks that before anything runs (docker/podman.ts).
   */
  readonly seccomp: 'per-container' | 'engine-default';
  /** Arguments beside the profile's tmpfs mounts, so that the root stays as read-only as the profile says. */
  readonly extraTmpfsArgs: readonly string[];
  /** Limits it needs bounded beside the profile's, because it raises them otherwise. */
  readonly extraLimitArgs: readonly string[];
  /**
   * What names the host machine inside the container, so that a database on the host is
   * `host.docker.internal` in the server's URL and in MCP_EGRESS (the egress enforcer reads it
   * from /etc/hosts: docker/common/egress-gateway/src/host-aliases.mjs). Joining a name reaches
   * nothing by itself: MCP_EGRESS decides.
   */
  readonly hostAliases: readonly HostAlias[];
  /** Rootless, it cannot publish a port below 1024 (doctor warns before start fails). */
  readonly rootlessCannotPublishPrivileged: boolean;
}

/** One line the engine adds to the container's /etc/hosts: `docker run --add-host NAME:ADDRESS`, Compose's `extra_hosts`. */
export interface HostAlias {
  name: string;
  /** An address, or `host-gateway` (the engine resolves it to the host's address). */
  address: string;
}

/** NAME:ADDRESS, as `--add-host` and Compose's `extra_hosts` both take it. */
export const hostAliasSpec = (alias: HostAlias) => `${alias.name}:${alias.address}`;

/** `docker version --format json`, the part read here (Docker and Podman both answer it). */
export interface EngineVersion {
  Client?: { Version?: string };
  Server?: { Version?: string; ApiVersion?: string; Platform?: { Name?: string }; Components?: Array<{ Name?: string; Version?: string }> } | null;
}
