import type { ExecaError } from 'execa';
import { DockerError } from '../errors.js';
import { shellQuote } from '../shell.js';

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
  /** Resolve with the exit code instead of throwing (for probes such as "does it exist"). */
  allowFailure?: boolean;
  /** Called with the child once it started (attached runs forward Ctrl-C to it). */
  onSpawn?: (child: { kill(signal?: NodeJS.Signals): boolean }) => void;
}

export interface DockerEngine {
  run(args: string[], options?: DockerCallOptions): Promise<DockerResult>;
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

export function createDockerEngine(secrets: readonly string[] = [], binary = 'docker'): DockerEngine {
  return {
    async run(args, options = {}) {
      const command = formatCommand(args, secrets);
      // Loaded on first use: commands that never reach the engine (cli, -h, bad settings) do not pay for it.
      const { execa } = await import('execa');
      const child = execa(binary, args, {
        env: options.env ?? {},
        extendEnv: true,
        stdin: options.inherit ? 'inherit' : 'ignore',
        stdout: options.inherit ? 'inherit' : 'pipe',
        stderr: options.inherit ? 'inherit' : 'pipe',
        reject: false,
        stripFinalNewline: true,
      });
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
    },
  };
}
