import { hostAliasSpec, type EngineKind } from '../engines/engine.js';
import { engineOfKind } from '../engines/registry.js';
import type { BindMount, LogBound, SandboxProfile } from './profile.js';
import { serverEnvMount } from './server-env.js';

/**
 * The profile rendered as `docker run` argv. Arguments are separate array
 * elements (no shell); secret values never appear: a variable is named with
 * `--env NAME` and its value travels in the docker client's environment.
 */
export interface DockerInvocation {
  args: string[];
  /** Values for the `--env NAME` flags, given to the docker client process only. */
  env: Record<string, string>;
}

/**
 * The same profile on every engine; what an engine needs besides is its
 * descriptor's (engines/): on Podman the seccomp profile is the engine's
 * default, checked before start, and two additions keep /var/tmp read-only
 * and the open-file and process limits bounded.
 */
export function hardeningArgs(profile: SandboxProfile, kind: EngineKind = 'docker'): string[] {
  const { capabilities, limits } = profile;
  const engine = engineOfKind(kind);
  return [
    ...capabilities.drop.flatMap((cap) => ['--cap-drop', cap]),
    ...capabilities.add.flatMap((cap) => ['--cap-add', cap]),
    ...(profile.noNewPrivileges ? ['--security-opt', 'no-new-privileges'] : []),
    // The docker client reads the file and sends its content.
    ...(engine.seccomp === 'per-container' ? ['--security-opt', `seccomp=${profile.seccompProfile}`] : []),
    ...(profile.readOnlyRoot ? ['--read-only'] : []),
    ...profile.tmpfs.flatMap((t) => ['--tmpfs', `${t.target}:${[...t.options, `mode=${t.mode}`, `size=${t.size}`].join(',')}`]),
    ...engine.extraTmpfsArgs,
    ...['--pids-limit', String(limits.pids)],
    ...['--memory', limits.memory],
    ...['--memory-swap', limits.memory],
    ...['--cpus', limits.cpus],
    ...['--ulimit', `core=${limits.coreFileSize}`],
    ...engine.extraLimitArgs,
    ...logArgs(profile.log),
  ];
}

/** The log bound (profile.ts LogBound): the same flags on Docker and Podman. */
export function logArgs(log: LogBound): string[] {
  return ['--log-driver', log.driver, '--log-opt', `max-size=${log.maxSize}`, '--log-opt', `max-file=${log.maxFiles}`];
}

/** A field of --mount's comma-separated list, quoted the CSV way when it holds a comma or a quote. */
export function mountField(key: string, value: string): string {
  const field = `${key}=${value}`;
  return /[",]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

export function bindArgs(bind: BindMount): string[] {
  return ['--mount', ['type=bind', mountField('source', bind.source), mountField('target', bind.target), ...(bind.readOnly ? ['readonly'] : [])].join(',')];
}

function publishArgs(publish: SandboxProfile['publish']): string[] {
  if (!publish) return [];
  const host = publish.hostAddress.includes(':') ? `[${publish.hostAddress}]` : publish.hostAddress;
  return ['--publish', `${host}:${publish.hostPort}:${publish.containerPort}`];
}

export function dockerRunArgs(profile: SandboxProfile, engine: EngineKind = 'docker'): DockerInvocation {
  const args = [
    'run',
    ...['--name', profile.container],
    ...(profile.lifecycle === 'restart-unless-stopped' ? ['--detach', '--restart', 'unless-stopped'] : ['--rm']),
    ...Object.entries(profile.labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
    ...['--network', profile.network],
    ...hardeningArgs(profile, engine),
    ...publishArgs(profile.publish),
    ...profile.volumes.flatMap((v) => ['--volume', `${v.name}:${v.target}`]),
    // MCP_ENV's values: a file in a volume written before this run (server-env.ts), never --env.
    ...(profile.serverEnv ? ['--volume', serverEnvMount(profile.serverEnv)] : []),
    ...profile.binds.flatMap(bindArgs),
    ...engineOfKind(engine).hostAliases.flatMap((alias) => ['--add-host', hostAliasSpec(alias)]),
    ...Object.keys(profile.env).flatMap((name) => ['--env', name]),
    profile.image,
  ];
  return { args, env: profile.env };
}

/**
 * Every engine command that starts the profile, in order; the last one is the
 * container's own (attached, it stays in the foreground). Without MCP_NETWORKS
 * that is one `docker run`. With it, `docker run` cannot join more than one
 * network before the container starts (Docker 20.10's CLI, Podman's compat API),
 * so the container is created, joins each network, and only then starts: the
 * server never runs without the networks it was promised.
 */
export function launchSteps(profile: SandboxProfile, engine: EngineKind = 'docker'): DockerInvocation[] {
  const run = dockerRunArgs(profile, engine);
  if (profile.extraNetworks.length === 0) return [run];
  const [, ...rest] = run.args;
  const create = { args: ['create', ...rest.filter((arg) => arg !== '--detach')], env: run.env };
  const joins = profile.extraNetworks.map((network) => ({ args: ['network', 'connect', network, profile.container], env: {} }));
  const detached = rest.includes('--detach');
  return [create, ...joins, { args: ['start', ...(detached ? [] : ['--attach']), profile.container], env: {} }];
}
