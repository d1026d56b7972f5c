import { isAbsolute, resolve } from 'node:path';
import type { CommandContext } from '../context.js';
import { loadSettings, type Settings } from '../settings/load.js';

/** Options every command that reads .env accepts. */
export interface EnvOptions {
  envFile?: string;
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
