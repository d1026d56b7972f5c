import { existsSync } from 'node:fs';
import type { CommandContext } from '../context.js';
import { findContainerArgs, findNetworkArgs, removeContainerArgs, removeNetworkArgs } from '../docker/argv.js';
import { formatCommand, type DockerEngine } from '../docker/engine.js';
import { instanceNames } from '../docker/names.js';
import { DockerError, parseOrThrow, UsageError } from '../errors.js';
import { findInstances } from '../operator/find.js';
import { readEnvFile } from '../settings/load.js';
import { settingsSchema } from '../settings/schema.js';
import { envFilePath, type EnvOptions } from './shared.js';

export interface StopOptions extends EnvOptions {
  name?: string;
  dryRun?: boolean;
  /** Every instance this tool manages on the engine, found by label. */
  all?: boolean;
}

function nameFromEnvFile(ctx: CommandContext, envFile?: string): string | undefined {
  const file = envFilePath(ctx, envFile);
  // Without .env the default name applies; a file named with --env-file must exist.
  if (!envFile && !existsSync(file)) return undefined;
  return readEnvFile(file, ctx.hostEnv).NAME;
}

/** stop needs only NAME: it must work even when the rest of .env is broken. */
export function instanceName(ctx: CommandContext, options: StopOptions): string {
  const name = options.name ?? nameFromEnvFile(ctx, options.envFile);
  return parseOrThrow(settingsSchema.shape.NAME, name || undefined);
}

export async function stop(ctx: CommandContext, options: StopOptions): Promise<void> {
  if (options.all) return stopAll(ctx, options);
  const name = instanceName(ctx, options);
  const names = instanceNames(name);
  if (options.dryRun) {
    ctx.out.data(formatCommand(removeContainerArgs(names.container)));
    ctx.out.data(formatCommand(removeNetworkArgs(names.network)));
    return;
  }
  const docker = ctx.docker([]);
  const found = await docker.run(findContainerArgs(names.container));
  if (found.stdout.trim() === '') {
    ctx.out.info(`Nothing to stop: no container named ${names.container}.`);
  } else {
    await docker.run(removeContainerArgs(names.container));
    ctx.out.success(`Stopped and removed ${names.container}.`);
  }
  await removeNetwork(ctx, docker, names.network);
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
async function stopAll(ctx: CommandContext, options: StopOptions): Promise<void> {
  if (options.name) throw new UsageError('stop takes a name or --all, not both');
  const docker = ctx.docker([]);
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
    ctx.out.success(`Stopped and removed ${instance.container}.`);
  }
}
