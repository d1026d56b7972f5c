import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { isReportedError, StateError } from '../errors.js';
import type { EngineKind, EngineVersion } from '../engines/engine.js';
import { identifyEngine } from '../engines/registry.js';
import { engineVersionArgs } from './argv.js';
import { CONTEXT_ENDPOINT_ARGS, type DockerEngine } from './engine.js';

/**
 * Podman's one check before start: its default seccomp profile must be the
 * sandbox's (engines/podman.ts says why). And which engine answers, for the
 * renderers, which read the engine's descriptor (engines/).
 */
/** Which engine answers; Docker when it cannot be told (a recorder in unit tests, an older engine). */
export function engineKindOf(versionJson: string): EngineKind {
  try {
    return identifyEngine(JSON.parse(versionJson) as EngineVersion).kind;
  } catch {
    return 'docker';
  }
}

/** One `docker version`; an engine that is down is reported by the command that needs it, not here. */
export async function detectEngineKind(docker: DockerEngine): Promise<EngineKind> {
  try {
    return engineKindOf((await docker.run(engineVersionArgs(), { allowFailure: true })).stdout);
  } catch (error) {
    if (isReportedError(error)) return 'docker';
    throw error;
  }
}

/** The socket path of a unix:// endpoint; undefined for ssh://, tcp:// and the like. */
export function unixSocketOf(endpoint: string): string | undefined {
  const match = /^unix:\/\/(\/.+)$/.exec(endpoint.trim());
  return match?.[1];
}

/** The part of Podman's own (libpod) info used here. */
export interface PodmanInfo {
  host?: { security?: { rootless?: boolean; seccompProfilePath?: string } };
}

/** GET /libpod/info on the engine's socket: the only place Podman says which seccomp profile it applies by default. */
export function podmanInfo(socketPath: string, timeoutMs = 10_000): Promise<PodmanInfo> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/v4.0.0/libpod/info', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as PodmanInfo);
        } catch (error) {
          reject(new Error(`${socketPath} answered /libpod/info with HTTP ${res.statusCode} and no JSON`, { cause: error }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${socketPath} did not answer /libpod/info within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

export interface SeccompObservation {
  /** The profile in force for this instance (MCP_SECCOMP_PROFILE or the shipped one). */
  wanted: string;
  /** The engine's endpoint, and what its default profile is (path and content), as far as it could be read. */
  endpoint: string;
  enginePath?: string;
  engineContent?: string;
  /** Why the engine's profile could not be read. */
  error?: string;
}

/**
 * Podman's compat API takes `seccomp=` as a path on the engine's machine, while
 * the docker CLI always sends the profile's content there (podman#27710), so a
 * profile cannot be given per container. It must be the engine's default
 * (containers.conf `seccomp_profile`), and it is checked before anything
 * starts: the same rules, or no start. Undefined means it holds.
 */
export function seccompProblem(observed: SeccompObservation, wantedContent: unknown): { detail: string; fix: string } | undefined {
  const fix =
    `Podman applies its default seccomp profile to every container: make it this one. Under [containers] in /etc/containers/containers.conf ` +
    `(rootless: ~/.config/containers/containers.conf) set seccomp_profile = "${observed.wanted}", then restart \`podman system service\` ` +
    '(`bash scripts/ensure-podman.sh` does both on Debian). MCP_SECCOMP_PROFILE names the profile in force';
  const at = `Podman at ${observed.endpoint}`;
  if (observed.error) return { detail: `${at}: cannot tell which seccomp profile it applies (${observed.error})`, fix };
  if (observed.engineContent === undefined)
    return { detail: `${at} applies ${observed.enginePath ?? 'an unknown seccomp profile'}, which cannot be read here`, fix };
  let engineProfile: unknown;
  try {
    engineProfile = JSON.parse(observed.engineContent);
  } catch {
    return { detail: `${at} applies ${observed.enginePath}, which is not JSON`, fix };
  }
  if (!isDeepStrictEqual(engineProfile, wantedContent)) {
    return { detail: `${at} applies the seccomp profile ${observed.enginePath}, not the sandbox's (${observed.wanted})`, fix };
  }
  return undefined;
}

/** What the engine applies by default, read through its socket; every failure becomes an `error` for seccompProblem. */
export async function observePodmanSeccomp(docker: DockerEngine, wanted: string): Promise<SeccompObservation> {
  const endpoint = (await docker.run([...CONTEXT_ENDPOINT_ARGS], { allowFailure: true })).stdout.trim() || 'unknown';
  const socket = unixSocketOf(endpoint);
  if (!socket) return { wanted, endpoint, error: 'only a local unix:// socket can be asked (set DOCKER_HOST=unix:///run/podman/podman.sock)' };
  let info: PodmanInfo;
  try {
    info = await podmanInfo(socket);
  } catch (error) {
    return { wanted, endpoint, error: (error as Error).message };
  }
  const enginePath = info.host?.security?.seccompProfilePath;
  if (!enginePath) return { wanted, endpoint, error: 'its info names no seccomp profile' };
  try {
    return { wanted, endpoint, enginePath, engineContent: readFileSync(enginePath, 'utf8') };
  } catch {
    return { wanted, endpoint, enginePath };
  }
}

/** Refuse to start on a Podman whose default seccomp profile is not the sandbox's (exit 1, after read-only queries only). */
export async function ensurePodmanSeccomp(docker: DockerEngine, wantedFile: string): Promise<void> {
  const problem = seccompProblem(await observePodmanSeccomp(docker, wantedFile), JSON.parse(readFileSync(wantedFile, 'utf8')));
  if (problem) throw new StateError(`MCP_SECCOMP_PROFILE: ${problem.detail}. Nothing was started`, problem.fix);
}
