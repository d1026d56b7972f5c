import type { CommandContext } from '../context.js';
import { learnedEgressArgs } from '../docker/argv.js';
import { StateError } from '../errors.js';
import { requireInstance } from '../instance/find.js';
import { engineFromEnvFile, type EngineOptions } from '../instance/engine-select.js';
import { instanceName } from '../instance/env-file.js';
import { describeEgress, parseEgressSetting } from '../settings/egress.js';

export type EgressLearnedOptions = EngineOptions & { name?: string; envFile?: string };

/**
 * MCP_EGRESS=learn: the line that allows exactly the names the server reached
 * so far (the egress enforcer keeps it in /run/sandbox/egress/learned), for the
 * user to paste into the env file. The line is checked with the grammar before
 * it is printed: it is made of names a server sent.
 */
export async function egressLearned(ctx: CommandContext, options: EgressLearnedOptions): Promise<void> {
  const name = instanceName(ctx, options);
  const docker = engineFromEnvFile(ctx, options);
  const instance = await requireInstance(docker, name);
  const read = await docker.run(learnedEgressArgs(instance.container), { allowFailure: true });
  const line = read.stdout.trim();
  if (read.exitCode !== 0 || !line.startsWith('MCP_EGRESS=')) {
    throw new StateError(
      `${name} records no egress: it does not run with MCP_EGRESS=learn (or is not running)`,
      'Set MCP_EGRESS=learn in its env file, start it again, use the server, then run this again',
    );
  }
  const setting = parseEgressSetting(line.slice('MCP_EGRESS='.length));
  if ('error' in setting) throw new StateError(`${name}'s recorded egress line is not valid: ${setting.error}`);
  ctx.out.data(`MCP_EGRESS=${describeEgress(setting)}`);
}
