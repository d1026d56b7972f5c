import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ExecaError } from 'execa';
import { DockerError } from '../errors.js';
import { shellQuote } from '../shell.js';
import { visibleStream } from '../terminal-text.js';
import { engineFailure } from './engine-failure.js';
import { DEFAULT_SELECTION, endpointOf, selectionEnv, type EngineEndpoint, type EngineSelection } from './target.js';

/**
 * The one place that starts docker. Commands receive a DockerEngine, so unit
 * tests can hand in a recorder and prove that bad input starts nothing.
 */
export interface DockerResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface DockerCallOptions {
  /** Values for `-e NAME` flags; only the docker client process sees them. */
  env?: Record<string, string>;
  /** Stream output to the terminal (build, attached run) instead of capturing it. */
  inherit?: boolean;
  /**
   * With inherit: the output is the MCP server's (its log, an attached run), so it is
   * streamed with control characters made visible (terminal-text.ts) instead of as written.
   */
  untrustedOutput?: boolean;
  /** With untrustedOutput: colour changes are removed (a build's output, which Docker's classic builder colours). */
  dropColours?: boolean;
  /** With untrustedOutput: also handed every chunk of the output as text (a build keeps its tail to explain a failure). */
  onOutput?: (text: string) => void;
  /** Resolve with the exit code instead of throwing (for probes such as "does it exist"). */
  allowFailure?: boolean;
  /** Text for the command's stdin (a secret file's content, which must never be on a command line). */
  input?: string;
  /** Called with the child once it started (attached runs forward Ctrl-C to it). */
  onSpawn?: (child: { kill(signal?: NodeJS.Signals): boolean }) => void;
}

export interface DockerEngine {
  run(args: string[], options?: DockerCallOptions): Promise<DockerResult>;
  /**
   * Where the selected engine runs (this machine or another one). Optional:
   * test recorders leave it out and stand for a local engine.
   */
  endpoint?(): Promise<EngineEndpoint>;
}

/** The endpoint of an engine; engines that cannot tell are local. */
export async function engineEndpoint(docker: DockerEngine): Promise<EngineEndpoint> {
  return docker.endpoint ? docker.endpoint() : { address: 'local' };
}

export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) {
    if (secret.length >= 4) masked = masked.split(secret).join('****');
  }
  return masked;
}

/** How a docker argv is shown to a person: quoted where needed, secrets masked. */
export function formatCommand(args: readonly string[], secrets: readonly string[] = []): string {
  return maskSecrets(['docker', ...args].map(shellQuote).join(' '), secrets);
}

const ENGINE_DOWN = /Cannot connect to the Docker daemon|error during connect|Is the docker daemon running|docker\.sock: connect/i;

/** `docker version` of the server only: the cheapest round trip that proves the engine answers. */
const PREFLIGHT_ARGS = ['version', '--format', '{{.Server.Version}}'];
/**
 * The endpoint the docker CLI talks to (DOCKER_HOST, DOCKER_CONTEXT or the
 * current context; with DOCKER_HOST set, the default context reports it). The
 * one way this tool asks: engine.endpoint() here, and Podman's seccomp check.
 */
export const CONTEXT_ENDPOINT_ARGS: readonly string[] = ['context', 'inspect', '--format', '{{.Endpoints.docker.Host}}'];

/** The context `docker context use` made current, if any (the docker CLI's config file). */
function currentContext(): string | undefined {
  const dir = process.env.DOCKER_CONFIG || join(homedir(), '.docker');
  try {
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { currentContext?: string };
    return config.currentContext && config.currentContext !== 'default' ? config.currentContext : undefined;
  } catch {
    return undefined;
  }
}

export function createDockerEngine(secrets: readonly string[] = [], selection: EngineSelection = DEFAULT_SELECTION, binary = 'docker'): DockerEngine {
  // The engine selection travels in the client's environment only (never argv).
  const engineEnv = selectionEnv(selection);
  let reached: Promise<void> | undefined;
  let endpoint: Promise<EngineEndpoint> | undefined;

  async function spawn(args: string[], options: DockerCallOptions): Promise<DockerResult> {
    const command = formatCommand(args, secrets);
    // Loaded on first use: commands that never reach the engine (cli, -h, bad settings) do not pay for it.
    const { execa } = await import('execa');
    const rendered = options.inherit && options.untrustedOutput;
    const child = execa(binary, args, {
      env: { ...engineEnv, ...(options.env ?? {}) },
      extendEnv: true,
      ...(options.input !== undefined ? { input: options.input } : { stdin: options.inherit ? ('inherit' as const) : ('ignore' as const) }),
      stdout: options.inherit && !rendered ? 'inherit' : 'pipe',
      stderr: options.inherit && !rendered ? 'inherit' : 'pipe',
      buffer: !rendered,
      reject: false,
      stripFinalNewline: true,
    });
    if (rendered) {
      for (const [from, to] of [
        [child.stdout, process.stdout],
        [child.stderr, process.stderr],
      ] as const) {
        const stream = visibleStream((text) => to.write(text), { dropColours: options.dropColours ?? false });
        from?.on('data', (chunk: Buffer) => {
          stream.push(chunk);
          options.onOutput?.(chunk.toString('utf8'));
        });
        from?.on('end', () => stream.end());
      }
    }
    options.onSpawn?.(child);
    const result = await child;
    const stdout = typeof result.stdout === 'string' ? result.stdout : '';
    const stderr = typeof result.stderr === 'string' ? result.stderr : '';
    const failure = result as unknown as ExecaError;
    if (failure.code === 'ENOENT') {
      throw new DockerError(
        'The docker command was not found. Install Docker (Docker Desktop, Docker Engine or Podman with its docker alias) and retry',
        command,
      );
    }
    const exitCode = result.exitCode ?? 1;
    // A chosen engine (DOCKER_HOST, a context) that cannot be reached is named, with its fix.
    const unreachable = exitCode !== 0 && selection.variable ? engineFailure(stderr, selection) : undefined;
    if (unreachable) throw new DockerError(unreachable, command, maskSecrets(stderr, secrets));
    if (exitCode !== 0 && ENGINE_DOWN.test(stderr)) {
      throw new DockerError(
        'The Docker engine is not reachable. Start Docker (Docker Desktop, or `sudo systemctl start docker`) and retry; `docker info` should answer',
        command,
        maskSecrets(stderr, secrets),
      );
    }
    if (exitCode !== 0 && !options.allowFailure) {
      const signal = result.signal ? ` (${result.signal})` : '';
      throw new DockerError(`docker ${args[0]} failed with exit code ${exitCode}${signal}`, command, maskSecrets(stderr, secrets));
    }
    return { stdout, stderr: maskSecrets(stderr, secrets), exitCode };
  }

  return {
    async run(args, options = {}) {
      // A streamed command's errors go to the terminal uncaught: a chosen engine is
      // asked once first, so that an unreachable one is named before any build.
      if (options.inherit && selection.variable) {
        reached ??= spawn(PREFLIGHT_ARGS, {}).then(() => undefined);
        await reached;
      }
      return spawn(args, options);
    },
    endpoint() {
      endpoint ??= (async () => {
        if (selection.variable === 'DOCKER_HOST') return endpointOf(selection.value!);
        // Nothing chosen and no current context set with `docker context use`: the local engine, without a docker process.
        if (!selection.variable && !currentContext()) return { address: 'default' };
        const inspected = await spawn([...CONTEXT_ENDPOINT_ARGS], { allowFailure: true });
        if (inspected.exitCode !== 0) {
          throw new DockerError(
            engineFailure(inspected.stderr, selection) ?? `Could not read the Docker context's endpoint (${selection.source})`,
            formatCommand(CONTEXT_ENDPOINT_ARGS),
            inspected.stderr,
          );
        }
        return endpointOf(inspected.stdout.trim());
      })();
      return endpoint;
    },
  };
}
