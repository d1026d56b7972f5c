import { existsSync } from 'node:fs';
import type { CommandContext } from '../context.js';
import type { DockerEngine } from '../docker/engine.js';
import { selectEngine, type EngineSelection } from '../docker/target.js';
import { parseOrThrow } from '../errors.js';
import { readEnvFile } from '../settings/load.js';
import { settingsSchema } from '../settings/schema.js';
import { envFilePath } from './env-file.js';

/** --context NAME, accepted by every command that talks to an engine. */
export interface EngineOptions {
  context?: string;
}

/** --context as an option object to pass on (empty when not given: optional properties stay absent). */
export function engineOption(options: EngineOptions): EngineOptions {
  return options.context !== undefined ? { context: options.context } : {};
}

interface EngineSettings {
  envFile: string;
  DOCKER_HOST?: string;
  DOCKER_CONTEXT?: string;
}

/** The engine of a command that loaded its settings (build, start, connect, doctor). */
export function engineFor(ctx: CommandContext, options: EngineOptions, settings: EngineSettings | undefined, secrets: readonly string[]): DockerEngine {
  return ctx.docker(secrets, selectionFor(ctx, options, settings));
}

export function selectionFor(ctx: CommandContext, options: EngineOptions, settings: EngineSettings | undefined): EngineSelection {
  return selectEngine({
    ...(options.context !== undefined ? { context: options.context } : {}),
    ...(settings ? { fileValues: { DOCKER_HOST: settings.DOCKER_HOST, DOCKER_CONTEXT: settings.DOCKER_CONTEXT }, envFile: settings.envFile } : {}),
    hostEnv: ctx.hostEnv,
  });
}

/**
 * The engine of a command that reads only a few names of the env file (stop,
 * logs, status): they must work while the rest of it is broken. Without an
 * env file (none named, none in the folder) the shell's choice applies.
 */
export function engineFromEnvFile(ctx: CommandContext, options: EngineOptions & { envFile?: string }): DockerEngine {
  const file = envFilePath(ctx, options.envFile);
  let settings: EngineSettings | undefined;
  if (options.envFile || existsSync(file)) {
    const raw = readEnvFile(file, ctx.hostEnv);
    settings = {
      envFile: file,
      DOCKER_HOST: parseOrThrow(settingsSchema.shape.DOCKER_HOST, raw.DOCKER_HOST || undefined),
      DOCKER_CONTEXT: parseOrThrow(settingsSchema.shape.DOCKER_CONTEXT, raw.DOCKER_CONTEXT || undefined),
    };
  }
  return ctx.docker([], selectionFor(ctx, options, settings));
}
