import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { CommandContext } from '../context.js';
import { parseOrThrow } from '../errors.js';
import { loadSettings, readEnvFile, type Settings } from '../settings/load.js';
import { settingsSchema } from '../settings/schema.js';

/** Options every command that reads .env accepts. */
export interface EnvOptions {
  envFile?: string;
  /** --context NAME: the Docker context every docker command goes to (instance/engine-select.ts). */
  context?: string;
  template?: string;
  allowDangerousMounts?: boolean;
}

/** --env-file is relative to where the user typed the command (npm runs scripts from the project root). */
export function envFilePath(ctx: CommandContext, envFile = '.env'): string {
  if (isAbsolute(envFile)) return envFile;
  return resolve(ctx.hostEnv.INIT_CWD ?? process.cwd(), envFile);
}

/** The settings of the env file; `purpose` 'build' requires no runtime secret (see LoadContext). */
export function settingsFor(ctx: CommandContext, options: EnvOptions, purpose: 'build' | 'run' = 'run'): Settings {
  return loadSettings(envFilePath(ctx, options.envFile), {
    hostEnv: ctx.hostEnv,
    purpose,
    projectDir: ctx.projectDir,
    overrides: { template: options.template },
    allowDangerousMounts: options.allowDangerousMounts,
  });
}

/** How to run COMMAND (with ARGS) for the same instance: the env file is named unless it is the default one. */
export function npmRun(command: string, ctx: CommandContext, settings: { envFile: string }, ...args: string[]): string {
  const all = [...args, ...(settings.envFile === envFilePath(ctx) ? [] : ['--env-file', settings.envFile])];
  return all.length === 0 ? `npm run ${command}` : `npm run ${command} -- ${all.join(' ')}`;
}

function nameFromEnvFile(ctx: CommandContext, envFile?: string): string | undefined {
  const file = envFilePath(ctx, envFile);
  // Without .env the default name applies; a file named with --env-file must exist.
  if (!envFile && !existsSync(file)) return undefined;
  return readEnvFile(file, ctx.hostEnv).NAME;
}

/** The instance a command acts on: NAME given, or NAME of the env file. It needs only NAME, so it works even when the rest of .env is broken. */
export function instanceName(ctx: CommandContext, options: { name?: string; envFile?: string }): string {
  const name = options.name ?? nameFromEnvFile(ctx, options.envFile);
  return parseOrThrow(settingsSchema.shape.NAME, name || undefined);
}
