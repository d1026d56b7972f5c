import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { findContainerArgs, findNetworkArgs, findVolumeArgs, removeContainerArgs, removeNetworkArgs, removeVolumeArgs } from '../docker/argv.js';
import { formatCommand, type DockerEngine } from '../docker/engine.js';
import { instanceNames } from '../docker/names.js';
import { DockerError, parseOrThrow } from '../errors.js';
import { findInstances } from '../instance/find.js';
import { engineFromEnvFile } from '../instance/engine-select.js';
import { instanceName } from '../instance/env-file.js';
import { removeServerEnv } from '../instance/server-env.js';

export const stopOptionsSchema = z
  .object({
    name: z.string().optional(),
    envFile: z.string().optional(),
    /** --context NAME (instance/engine-select.ts). */
    context: z.string().optional(),
    dryRun: z.boolean().default(false),
    /** Every instance this tool manages on the engine, found by label. */
    all: z.boolean().default(false),
    /** Also delete the MCP_DATA volume NAME-data: the server's data, gone for good. Never implied. */
    deleteData: z.boolean().default(false),
  })
  .refine((o) => !(o.all && o.name), 'stop takes a name or --all, not both')
  .refine((o) => !(o.all && o.deleteData), "--delete-data deletes one instance's data: name it (or use its --env-file), not --all");
export type StopOptions = z.input<typeof stopOptionsSchema>;

export async function stop(ctx: CommandContext, rawOptions: StopOptions): Promise<void> {
  const options = parseOrThrow(stopOptionsSchema, rawOptions);
  if (options.all) return stopAll(ctx, options);
  const name = instanceName(ctx, options);
  const names = instanceNames(name);
  if (options.dryRun) {
    ctx.out.data(formatCommand(removeContainerArgs(names.container)));
    ctx.out.data(formatCommand(removeNetworkArgs(names.network)));
    ctx.out.data(formatCommand(removeVolumeArgs(names.serverEnvVolume)));
    if (options.deleteData) ctx.out.data(formatCommand(removeVolumeArgs(names.dataVolume)));
    return;
  }
  const docker = engineFromEnvFile(ctx, options);
  const found = await docker.run(findContainerArgs(names.container));
  if (found.stdout.trim() === '') {
    ctx.out.info(`Nothing to stop: no container named ${names.container}.`);
  } else {
    await docker.run(removeContainerArgs(names.container));
    ctx.out.success(`Stopped and removed ${names.container}.`);
  }
  await removeNetwork(ctx, docker, names.network);
  // MCP_ENV's values (operator/server-env.ts), unlike the data volume, never outlive the instance.
  await removeServerEnv(docker, names.serverEnvVolume);
  await dataVolume(ctx, docker, names.dataVolume, options.deleteData);
}

/** The MCP_DATA volume outlives every stop; only --delete-data removes it, and a plain stop says it is kept. */
async function dataVolume(ctx: CommandContext, docker: DockerEngine, volume: string, remove: boolean): Promise<void> {
  const found = await docker.run(findVolumeArgs(volume));
  if (found.stdout.trim() === '') {
    if (remove) ctx.out.info(`No data volume ${volume} to delete.`);
    return;
  }
  if (!remove) {
    ctx.out.info(`Kept the data volume ${volume} (MCP_DATA): the next start finds it as it was. \`npm run stop -- --delete-data\` deletes it.`);
    return;
  }
  const removed = await docker.run(removeVolumeArgs(volume), { allowFailure: true });
  if (removed.exitCode !== 0) throw new DockerError(`Could not delete the data volume ${volume}`, formatCommand(removeVolumeArgs(volume)), removed.stderr);
  ctx.out.success(`Deleted the data volume ${volume}: the server's MCP_DATA is gone.`);
}

/** The instance's network goes too, unless a container that is not ours still uses it. */
async function removeNetwork(ctx: CommandContext, docker: DockerEngine, network: string): Promise<void> {
  const found = await docker.run(findNetworkArgs(network));
  if (found.stdout.trim() === '') return;
  const removed = await docker.run(removeNetworkArgs(network), { allowFailure: true });
  if (removed.exitCode !== 0 && /active endpoints/.test(removed.stderr)) {
    ctx.out.info(`Kept the network ${network}: other containers are still attached to it.`);
  } else if (removed.exitCode !== 0) {
    throw new DockerError(`Could not remove the network ${network}`, formatCommand(removeNetworkArgs(network)), removed.stderr);
  }
}

/** stop --all: the instances are found through their label, so every env file's instance goes. */
async function stopAll(ctx: CommandContext, options: { dryRun: boolean; envFile?: string | undefined; context?: string | undefined }): Promise<void> {
  const docker = engineFromEnvFile(ctx, options);
  const instances = await findInstances(docker);
  if (instances.length === 0) {
    ctx.out.info('Nothing to stop: no mcp-sandbox instance on this engine.');
    return;
  }
  for (const instance of instances) {
    const network = instanceNames(instance.name).network;
    if (options.dryRun) {
      ctx.out.data(formatCommand(removeContainerArgs(instance.container)));
      ctx.out.data(formatCommand(removeNetworkArgs(network)));
      continue;
    }
    await docker.run(removeContainerArgs(instance.container));
    await removeNetwork(ctx, docker, network);
    await removeServerEnv(docker, instanceNames(instance.name).serverEnvVolume);
    ctx.out.success(`Stopped and removed ${instance.container}.`);
  }
}
