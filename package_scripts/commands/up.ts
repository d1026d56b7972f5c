import { existsSync } from 'node:fs';
import type { CommandContext } from '../context.js';
import { build } from './build.js';
import { writeEnvFile } from './init.js';
import { envFilePath, settingsFor } from './shared.js';
import { start, type ConnectionInfo } from './start.js';

export interface UpOptions {
  envFile?: string;
}

/** One command from a fresh clone to a running, authenticated sandbox. */
export async function up(ctx: CommandContext, options: UpOptions): Promise<ConnectionInfo | undefined> {
  const envFile = envFilePath(ctx, options.envFile);
  if (existsSync(envFile)) {
    ctx.out.info(`Using ${envFile} (left as it is).`);
  } else {
    writeEnvFile(ctx, envFile, { force: false });
    ctx.out.success(`Created ${envFile} with a new ACCESS_TOKEN (mode 0600).`);
  }
  // Everything start will need is checked before the build: a token missing from .env stops here, not after minutes of building.
  settingsFor(ctx, { envFile });
  await build(ctx, { envFile });
  return start(ctx, { envFile, detach: true });
}
