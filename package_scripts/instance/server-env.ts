import { findVolumeArgs, removeVolumeArgs } from '../docker/argv.js';
import { formatCommand, type DockerEngine } from '../docker/engine.js';
import { DockerError } from '../errors.js';
import type { SandboxProfile } from '../sandbox/profile.js';
import { serverEnvText, serverEnvWriterArgs } from '../sandbox/server-env.js';

/** The volume of MCP_ENV's values, if any: gone, so that no value outlives the instance (`stop`) or a start without MCP_ENV. */
export async function removeServerEnv(docker: DockerEngine, volume: string): Promise<void> {
  const found = await docker.run(findVolumeArgs(volume));
  if (found.stdout.trim() === '') return;
  const removed = await docker.run(removeVolumeArgs(volume), { allowFailure: true });
  if (removed.exitCode !== 0)
    throw new DockerError(`Could not remove the volume ${volume} (the MCP server's variables)`, formatCommand(removeVolumeArgs(volume)), removed.stderr);
}

/**
 * Before `run`: the volume holds exactly this start's values (sandbox/server-env.ts).
 * The old volume goes first, so a start never mounts a previous start's values.
 */
export async function writeServerEnv(docker: DockerEngine, profile: SandboxProfile, volume: string): Promise<void> {
  await removeServerEnv(docker, volume);
  if (!profile.serverEnv) return;
  const args = serverEnvWriterArgs(profile.serverEnv, profile.image);
  const written = await docker.run(args, { input: serverEnvText(profile.serverEnv.values), allowFailure: true });
  if (written.exitCode !== 0)
    throw new DockerError(`Could not write the MCP server's variables into the volume ${volume}`, formatCommand(args), written.stderr);
}
