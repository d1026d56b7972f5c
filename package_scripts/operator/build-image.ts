import type { CommandContext } from '../context.js';
import { buildArgs } from '../docker/argv.js';
import { stageBuildContext } from '../docker/context.js';
import { formatCommand } from '../docker/engine.js';
import { instanceNames } from '../docker/names.js';
import type { Settings } from '../settings/load.js';
import { describeUnknown } from '../settings/unknown.js';

export interface BuildImageOptions {
  tag: string;
  cache: boolean;
  platform?: string | undefined;
  dryRun: boolean;
}

/** docker build of the template with the server inside, from a staged context that holds no secret (docker/context.ts). */
export async function buildImage(ctx: CommandContext, settings: Settings, options: BuildImageOptions): Promise<void> {
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
