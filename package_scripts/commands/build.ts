import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { buildArgs } from '../docker/argv.js';
import { stageBuildContext } from '../docker/context.js';
import { formatCommand } from '../docker/engine.js';
import { instanceNames } from '../docker/names.js';
import { parseOrThrow } from '../errors.js';
import { describeUnknown } from '../settings/unknown.js';
import { settingsFor, type EnvOptions } from './shared.js';

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

export async function build(ctx: CommandContext, rawOptions: BuildOptions): Promise<void> {
  const options = parseOrThrow(buildOptionsSchema, rawOptions);
  const settings = settingsFor(ctx, rawOptions, 'build');
  const names = instanceNames(settings.NAME, options.tag);

  const staged = await stageBuildContext(settings, ctx.projectDir);
  try {
    const args = buildArgs(settings, names, {
      contextDir: staged.dir,
      noCache: !options.cache,
      platform: options.platform,
      serverSpec: staged.serverSpec,
    });
    if (options.dryRun) {
      ctx.out.data(formatCommand(args, settings.secrets));
      return;
    }
    for (const unknown of settings.unknownSettings) ctx.out.warn(describeUnknown(unknown));
    ctx.out.info(`Building ${names.image} (template ${settings.template}, server ${settings.server.display})`);
    await ctx.docker(settings.secrets).run(args, { inherit: true });
    ctx.out.success(`Built ${names.image}. Next: npm run start -- -d`);
  } finally {
    staged.dispose();
  }
}
