import type { InstanceNames } from '../../package_scripts/docker/names.js';
import { dockerRunArgs, type DockerInvocation } from '../../package_scripts/sandbox/docker-run.js';
import { containerEnv, sandboxProfile } from '../../package_scripts/sandbox/profile.js';
import type { Settings } from '../../package_scripts/settings/load.js';

/** What `start` runs for these settings (MCP_EGRESS's names go to the container as written: nothing is resolved on the host). */
export function runArgs(settings: Settings, names: InstanceNames, options: { detached: boolean }): DockerInvocation {
  return dockerRunArgs(sandboxProfile(settings, names, { detached: options.detached, egress: settings.MCP_EGRESS }));
}

/** The container's environment for these settings. */
export function envOf(settings: Settings): Record<string, string> {
  return containerEnv(settings, settings.MCP_EGRESS);
}
