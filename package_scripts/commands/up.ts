import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandContext } from '../context.js';
import { PLACEHOLDER_SECRET } from '../settings/schema.js';
import { build } from './build.js';
import { generateKey } from './gen-key.js';
import { envFilePath } from './shared.js';
import { start, type ConnectionInfo } from './start.js';

export interface UpOptions {
  envFile?: string;
}

/** .env from .env.example with a fresh token in place of each placeholder. */
export function envFromExample(example: string, newKey: () => string = generateKey): string {
  return example
    .split('\n')
    .map((line) => (line.includes(PLACEHOLDER_SECRET) ? line.replace(PLACEHOLDER_SECRET, newKey()) : line))
    .join('\n');
}

/** One command from a fresh clone to a running, authenticated sandbox. */
export async function up(ctx: CommandContext, options: UpOptions): Promise<ConnectionInfo | undefined> {
  const envFile = envFilePath(ctx, options.envFile);
  if (existsSync(envFile)) {
    ctx.out.info(`Using ${envFile} (left as it is).`);
  } else {
    const example = readFileSync(join(ctx.projectDir, '.env.example'), 'utf8');
    writeFileSync(envFile, envFromExample(example), { mode: 0o600, flag: 'wx' });
    ctx.out.success(`Created ${envFile} with a new ACCESS_TOKEN (mode 0600).`);
  }
  await build(ctx, { envFile });
  return start(ctx, { envFile, detach: true });
}
