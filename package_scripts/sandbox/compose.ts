import { stringify } from 'yaml';
import { IMAGE_HEALTHCHECK } from '../docker/healthcheck.js';
import { hostAliasSpec } from '../engines/engine.js';
import { engineOfKind } from '../engines/registry.js';
import type { SandboxProfile } from './profile.js';
import { SERVER_ENV_FILE } from './server-env.js';

/**
 * The sandbox profile rendered as a Compose service: the same controls that
 * `docker run` gets (sandbox/docker-run.ts), under Compose's names. Written for
 * the Compose specification without `version:` or a top-level `name:`, which
 * both Debian's docker-compose 1.29 and `docker compose` v2 read.
 */

/** One instance of an export: its profile and where its files are, as the Compose file names them. */
export interface ComposeInstance {
  profile: SandboxProfile;
  /** The env file with the secret variables, relative to the Compose file (Compose reads it at `up`). */
  envFile: string;
  /** The seccomp profile as Compose reads it at `up` (docker-compose opens the path itself). */
  seccompFile: string;
  /** Names of the variables whose values are secrets: they go to the env file, never into the YAML. */
  secretNames: readonly string[];
  /** MCP_ENV's values (sandbox/server-env.ts): the secret's file, relative to the Compose file (NAME.server-env unless given). */
  serverEnvFile?: string;
}

export interface ComposeService {
  container_name: string;
  image: string;
  restart: 'unless-stopped' | 'no';
  labels: Record<string, string>;
  cap_drop: string[];
  cap_add: string[];
  security_opt: string[];
  read_only: boolean;
  tmpfs: string[];
  pids_limit: number;
  mem_limit: string;
  memswap_limit: string;
  cpus: number;
  ulimits: Record<string, number>;
  logging: { driver: string; options: { 'max-size': string; 'max-file': string } };
  networks: string[];
  /** The engine's names for the host (host.docker.internal), as `npm run start` adds them on Docker. */
  extra_hosts?: string[];
  ports?: string[];
  volumes?: Array<{ type: 'volume' | 'bind'; source: string; target: string; read_only?: true }>;
  env_file?: string[];
  environment: Record<string, string>;
  /** MCP_ENV's values, mounted as a file for the server alone (server-env.ts): never in environment or env_file. */
  secrets?: Array<{ source: string; target: string }>;
  healthcheck: { test: string[]; interval: string; timeout: string; start_period: string; retries: number };
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  /** The instance's own network (made by Compose, labelled), and MCP_NETWORKS' networks (external: they must exist). */
  networks: Record<string, { name: string; labels: Record<string, string> } | { name: string; external: true }>;
  volumes?: Record<string, { name: string }>;
  secrets?: Record<string, { file: string }>;
}

/** Compose expands `$` in the YAML; `$$` is a literal dollar. */
const literal = (value: string) => value.replace(/\$/g, '$$$$');

/** The variables split: secrets (by name) for the env file, the rest inline. */
export function splitEnv(env: Record<string, string>, secretNames: readonly string[]): { inline: Record<string, string>; secret: Record<string, string> } {
  const inline: Record<string, string> = {};
  const secret: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) (secretNames.includes(name) ? secret : inline)[name] = value;
  return { inline, secret };
}

function publishSpec(publish: NonNullable<SandboxProfile['publish']>): string {
  const host = publish.hostAddress.includes(':') ? `[${publish.hostAddress}]` : publish.hostAddress;
  return `${host}:${publish.hostPort}:${publish.containerPort}`;
}

export function composeService(instance: ComposeInstance): ComposeService {
  const { profile } = instance;
  const { inline, secret } = splitEnv(profile.env, instance.secretNames);
  const volumes = [
    ...profile.volumes.map((v) => ({ type: 'volume' as const, source: v.name, target: v.target })),
    ...profile.binds.map((b) => ({ type: 'bind' as const, source: b.source, target: b.target, ...(b.readOnly ? { read_only: true as const } : {}) })),
  ];
  const h = IMAGE_HEALTHCHECK;
  // Compose is Docker's (docker-compose 1.29, `docker compose` v2): Docker's host aliases, from its engine descriptor.
  const hostAliases = engineOfKind('docker').hostAliases.map(hostAliasSpec);
  return {
    container_name: profile.container,
    image: profile.image,
    restart: profile.lifecycle === 'restart-unless-stopped' ? 'unless-stopped' : 'no',
    labels: { ...profile.labels },
    cap_drop: [...profile.capabilities.drop],
    cap_add: [...profile.capabilities.add],
    security_opt: [...(profile.noNewPrivileges ? ['no-new-privileges'] : []), `seccomp=${instance.seccompFile}`],
    read_only: profile.readOnlyRoot,
    tmpfs: profile.tmpfs.map((t) => `${t.target}:${[...t.options, `mode=${t.mode}`, `size=${t.size}`].join(',')}`),
    pids_limit: profile.limits.pids,
    mem_limit: profile.limits.memory,
    // Equal to the memory limit: no swap.
    memswap_limit: profile.limits.memory,
    cpus: Number(profile.limits.cpus),
    ulimits: { core: profile.limits.coreFileSize },
    logging: { driver: profile.log.driver, options: { 'max-size': profile.log.maxSize, 'max-file': String(profile.log.maxFiles) } },
    networks: [profile.network, ...profile.extraNetworks],
    ...(hostAliases.length > 0 ? { extra_hosts: hostAliases } : {}),
    ...(profile.publish ? { ports: [publishSpec(profile.publish)] } : {}),
    ...(volumes.length > 0 ? { volumes } : {}),
    ...(Object.keys(secret).length > 0 ? { env_file: [instance.envFile] } : {}),
    environment: Object.fromEntries(Object.entries(inline).map(([name, value]) => [name, literal(value)])),
    ...(profile.serverEnv ? { secrets: [{ source: profile.serverEnv.volume, target: SERVER_ENV_FILE }] } : {}),
    healthcheck: {
      test: ['CMD', ...h.command],
      interval: `${h.intervalSeconds}s`,
      timeout: `${h.timeoutSeconds}s`,
      start_period: `${h.startPeriodSeconds}s`,
      retries: h.retries,
    },
  };
}

/** One Compose project for every instance: each keeps its own service, network and volume, named after NAME. */
export function composeFile(instances: readonly ComposeInstance[]): ComposeFile {
  const file: ComposeFile = { services: {}, networks: {} };
  for (const instance of instances) {
    const { profile } = instance;
    file.services[profile.container] = composeService(instance);
    // Named exactly as `npm run start` names it, so `npm run stop` removes it too.
    file.networks[profile.network] = { name: profile.network, labels: { ...pickInstanceLabel(profile.labels) } };
    for (const network of profile.extraNetworks) file.networks[network] = { name: network, external: true };
    for (const volume of profile.volumes) (file.volumes ??= {})[volume.name] = { name: volume.name };
    // docker-compose binds the file read-only at the target; the entrypoint reads it as its owner.
    if (profile.serverEnv) (file.secrets ??= {})[profile.serverEnv.volume] = { file: `./${instance.serverEnvFile ?? `${profile.container}.server-env`}` };
  }
  return file;
}

function pickInstanceLabel(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([key]) => key === 'io.mcp-sandbox.instance'));
}

export const COMPOSE_HEADER = [
  ' Written by `npm run export -- --format compose`: the same sandbox as `npm run start -- -d`.',
  ' Secret values are in the env files named by env_file and in the files of secrets (mode 0600), never in this file.',
  ' Export again after changing the settings, rather than editing the hardening here.',
].join('\n');

/**
 * YAML as a YAML 1.1 reader (PyYAML in docker-compose 1.29) reads it too:
 * strings such as `no`, `on` or `1:20` are quoted so they stay strings.
 */
export function toYaml(document: unknown, header?: string): string {
  const text = stringify(document, { version: '1.1', lineWidth: 0 });
  return header ? `${header.replace(/^/gm, '#')}\n${text}` : text;
}

/**
 * Why a value cannot travel in a Compose env file unchanged, or undefined.
 * docker-compose 1.29 (python-dotenv) expands `${...}` even in single quotes
 * and unescapes `\\` and `\'`; `docker compose` v2 does neither. Values free of
 * these read the same in both.
 */
export function envFileValueProblem(value: string): string | undefined {
  if (value.includes('${')) return 'holds "${"';
  if (/['\\]/.test(value)) return 'holds a quote or a backslash';
  if (/[\r\n]/.test(value)) return 'holds a line break';
  return undefined;
}

/** The env file: one single-quoted value a line (literal for both Compose versions; see envFileValueProblem). */
export function composeEnvFile(secret: Record<string, string>): string {
  return Object.entries(secret)
    .map(([name, value]) => `${name}='${value}'\n`)
    .join('');
}
