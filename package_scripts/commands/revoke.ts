import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { findContainerArgs, revokeOAuthArgs } from '../docker/argv.js';
import { formatCommand } from '../docker/engine.js';
import { instanceNames } from '../docker/names.js';
import { parseOrThrow, StateError } from '../errors.js';
import { engineFromEnvFile } from '../instance/engine-select.js';
import { instanceName } from '../instance/env-file.js';

export const revokeOptionsSchema = z.object({
  name: z.string().optional(),
  envFile: z.string().optional(),
  /** --context NAME (instance/engine-select.ts). */
  context: z.string().optional(),
  dryRun: z.boolean().default(false),
});
export type RevokeOptions = z.input<typeof revokeOptionsSchema>;

/**
 * `npm run revoke`: every OAuth access token, refresh token and pending code of
 * an AUTH=oauth instance stops working at once; registered clients stay and
 * must go through consent again. The static ACCESS_TOKEN is not touched
 * (rotating it also revokes every OAuth token, at the next start).
 */
export async function revoke(ctx: CommandContext, rawOptions: RevokeOptions): Promise<void> {
  const options = parseOrThrow(revokeOptionsSchema, rawOptions);
  const names = instanceNames(instanceName(ctx, options));
  const args = revokeOAuthArgs(names.container);
  if (options.dryRun) {
    ctx.out.data(formatCommand(args));
    return;
  }
  const docker = engineFromEnvFile(ctx, options);
  const found = await docker.run(findContainerArgs(names.container));
  if (found.stdout.trim() === '')
    throw new StateError(`No container named ${names.container} runs, so it holds no token to revoke.`, 'npm run status lists the instances');
  const result = await docker.run(args, { allowFailure: true });
  if (result.exitCode !== 0) {
    const reason = result.stderr.trim() || result.stdout.trim() || `exit code ${result.exitCode}`;
    throw new StateError(`Could not revoke the OAuth tokens of ${names.container}: ${reason}`, 'only an instance started with AUTH=oauth has OAuth tokens');
  }
  ctx.out.success(`${names.container}: ${result.stdout.trim()}. Clients must go through consent again; ACCESS_TOKEN still works.`);
}
