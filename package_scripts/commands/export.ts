import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { parseOrThrow } from '../errors.js';
import { EXPORT_FORMATS, exportInstances } from '../export/export.js';

export const exportOptionsSchema = z.object({
  format: z.enum(EXPORT_FORMATS, { message: `--format must be one of ${EXPORT_FORMATS.join(', ')}` }),
  out: z.string().min(1, '--out needs a folder').optional(),
  image: z.string().optional(),
  registry: z.string().optional(),
  force: z.boolean().default(false),
  push: z.boolean().default(false),
  envFile: z.array(z.string()).min(1).default(['.env']),
  allowDangerousMounts: z.boolean().default(false),
});
export type ExportCommandOptions = z.input<typeof exportOptionsSchema>;

/** `npm run export`: the instance(s) as a Compose project or a Kubernetes manifest set. */
export async function exportCommand(ctx: CommandContext, rawOptions: ExportCommandOptions): Promise<void> {
  const { envFile, ...options } = parseOrThrow(exportOptionsSchema, rawOptions);
  await exportInstances(ctx, { ...options, envFiles: envFile });
}
