import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { parseOrThrow } from '../errors.js';
import { buildImage } from '../start/build-image.js';
import { engineOption } from '../instance/engine-select.js';
import { settingsFor, type EnvOptions } from '../instance/env-file.js';

export const buildOptionsSchema = z.object({
  tag: z
    .string()
    .default('latest')
    .refine((t) => /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(t), '--tag must be a Docker tag such as latest or 1.2'),
  cache: z.boolean().default(true),
  platform: z
    .string()
    .optional()
    .refine((p) => p === undefined || /^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/.test(p), '--platform must look like linux/amd64'),
  dryRun: z.boolean().default(false),
});
export type BuildOptions = z.input<typeof buildOptionsSchema> & EnvOptions;

/** `npm run build`: only build settings are read (no runtime secret is needed for a build). */
export async function build(ctx: CommandContext, rawOptions: BuildOptions): Promise<void> {
  const options = parseOrThrow(buildOptionsSchema, rawOptions);
  await buildImage(ctx, settingsFor(ctx, rawOptions, 'build'), { ...options, ...engineOption(rawOptions) });
}
