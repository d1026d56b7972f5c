import type { InstanceNames } from '../../package_scripts/docker/names.js';
import { dockerRunArgs, type DockerInvocation } from '../../package_scripts/sandbox/docker-run.js';
import { egressPolicy } from '../../package_scripts/sandbox/firewall.js';
import { containerEnv, sandboxProfile } from '../../package_scripts/sandbox/profile.js';
import type { Settings } from '../../package_scripts/settings/load.js';

/** What `start` runs for these settings, with MCP_EGRESS's names "resolved" to the given addresses (no DNS in unit tests). */
export function runArgs(settings: Settings, names: InstanceNames, options: { detached: boolean; egressHosts?: Record<string, string[]> }): DockerInvocation {
  return dockerRunArgs(sandboxProfile(settings, names, { detached: options.detached, egress: egressPolicy(settings.MCP_EGRESS, options.egressHosts ?? {}) }));
}

/** The container's environment for these settings (names resolved as above). */
export function envOf(settings: Settings, egressHosts: Record<string, string[]> = {}): Record<string, string> {
  return containerEnv(settings, egressPolicy(settings.MCP_EGRESS, egressHosts));
}
