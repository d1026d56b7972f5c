import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { parseOrThrow } from '../errors.js';
import { buildImage } from '../start/build-image.js';
import { engineOption } from '../instance/engine-select.js';
import { envFilePath, settingsFor } from '../instance/env-file.js';
import { writeEnvFile } from '../init/env-init.js';
import { DEFAULT_START_TIMEOUT_SECONDS, startInstance } from '../start/start-instance.js';
import type { ConnectionInfo } from '../start/start-report.js';

export const upOptionsSchema = z.object({ envFile: z.string().optional(), context: z.string().optional() });
export type UpOptions = z.input<typeof upOptionsSchema>;

/**
 * One command from a fresh clone to a running, authenticated sandbox. After an
 * upgrade, tools changed since pinned are shown with their diff and, with `ask`
 * (a terminal), accepted with one answer; without one, start's warning names the command.
 */
export async function up(
  ctx: CommandContext,
  rawOptions: UpOptions,
  ask?: (question: string, defaultValue: string) => Promise<string>,
): Promise<ConnectionInfo | undefined> {
  const options = parseOrThrow(upOptionsSchema, rawOptions);
  const envFile = envFilePath(ctx, options.envFile);
  if (existsSync(envFile)) {
    ctx.out.info(`Using ${envFile} (left as it is).`);
  } else {
    writeEnvFile(ctx, envFile, { force: false });
    ctx.out.success(`Created ${envFile} with a new ACCESS_TOKEN (mode 0600).`);
  }
  // Everything start needs is checked before the build: a token missing from .env stops here, not after minutes of building.
  const settings = settingsFor(ctx, { envFile });
  const engine = engineOption(options);
  await buildImage(ctx, settings, { tag: 'latest', cache: true, dryRun: false, ...engine });
  const confirmPins = ask ? async (question: string) => /^y(es)?$/i.test((await ask(question, 'n')).trim()) : undefined;
  return startInstance(ctx, settings, {
    detach: true,
    tag: 'latest',
    dryRun: false,
    timeout: DEFAULT_START_TIMEOUT_SECONDS,
    ...engine,
    ...(confirmPins ? { confirmPins } : {}),
  });
}
