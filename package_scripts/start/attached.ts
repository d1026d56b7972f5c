import type { DockerEngine } from '../docker/engine.js';
import type { DockerInvocation } from '../sandbox/docker-run.js';
import { NotServingError } from '../errors.js';
import { attachedExitCode } from '../instance/readiness.js';

/**
 * `start` without -d: the container runs in the foreground with its log on
 * screen. Ctrl-C is passed on (the docker client hands it to tini, which stops
 * cleanly); the container's status becomes the command's.
 */
export async function runAttached(docker: DockerEngine, container: string, run: DockerInvocation): Promise<void> {
  let forward: (() => void) | undefined;
  let interrupted = false;
  let result;
  try {
    result = await docker.run(run.args, {
      env: run.env,
      inherit: true,
      untrustedOutput: true,
      allowFailure: true,
      onSpawn: (child) => {
        forward = () => {
          interrupted = true;
          child.kill('SIGINT');
        };
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
      },
    });
  } finally {
    if (forward) {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
    }
  }
  const code = attachedExitCode(result.exitCode, interrupted);
  if (code !== 0) {
    throw new NotServingError(
      interrupted
        ? `${container} was interrupted and exited with status ${result.exitCode}`
        : `${container} exited with status ${result.exitCode}; its log is above`,
      [],
      undefined,
      code,
    );
  }
}
