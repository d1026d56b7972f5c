import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { showLogsArgs } from '../docker/argv.js';
import { parseOrThrow } from '../errors.js';
import { requireInstance } from '../instance/find.js';
import { engineFromEnvFile, type EngineOptions } from '../instance/engine-select.js';
import { instanceName } from '../instance/env-file.js';

export const logsOptionsSchema = z.object({
  follow: z.boolean().default(false),
  tail: z
    .string()
    .default('100')
    .refine((v) => v === 'all' || /^\d+$/.test(v), '--tail must be a number of lines or all')
    .transform((v) => (v === 'all' ? undefined : Number(v))),
});
export type LogsOptions = z.input<typeof logsOptionsSchema> & EngineOptions & { name?: string; envFile?: string };

/** The container's log (gateway and Supergateway lines), control characters made visible; -f follows until Ctrl-C. */
export async function logs(ctx: CommandContext, rawOptions: LogsOptions): Promise<void> {
  const options = parseOrThrow(logsOptionsSchema, rawOptions);
  const name = instanceName(ctx, rawOptions);
  const docker = engineFromEnvFile(ctx, rawOptions);
  // Asked first, with output captured: an unknown name or a stopped engine gets a clear message.
  const instance = await requireInstance(docker, name);
  await docker.run(showLogsArgs(instance.container, { follow: options.follow, tail: options.tail }), { inherit: true, untrustedOutput: true });
}
