import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { parseOrThrow } from '../errors.js';
import { engineOption } from '../instance/engine-select.js';
import { settingsFor, type EnvOptions } from '../instance/env-file.js';
import { DEFAULT_START_TIMEOUT_SECONDS, startInstance } from '../start/start-instance.js';
import type { ConnectionInfo } from '../start/start-report.js';

export const startOptionsSchema = z.object({
  detach: z.boolean().default(false),
  tag: z.string().default('latest'),
  dryRun: z.boolean().default(false),
  timeout: z.coerce.number({ message: '--timeout must be a number of seconds' }).positive('--timeout must be above 0').default(DEFAULT_START_TIMEOUT_SECONDS),
});
export type StartOptions = z.input<typeof startOptionsSchema> & EnvOptions;

/** `npm run start`: every setting is checked before anything runs. */
export async function start(ctx: CommandContext, rawOptions: StartOptions): Promise<ConnectionInfo | undefined> {
  const options = parseOrThrow(startOptionsSchema, rawOptions);
  return startInstance(ctx, settingsFor(ctx, rawOptions), { ...options, ...engineOption(rawOptions) });
}
