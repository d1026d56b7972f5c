import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { parseOrThrow } from '../errors.js';
import { findInstances } from '../operator/find.js';
import { formatStatusTable, type InstanceStatus } from '../operator/instances.js';

export const statusOptionsSchema = z.object({ json: z.boolean().default(false) });
export type StatusOptions = z.input<typeof statusOptionsSchema>;

/** Every instance on this engine, whatever env file started it: Docker's labels are the only record. */
export async function status(ctx: CommandContext, rawOptions: StatusOptions): Promise<InstanceStatus[]> {
  const options = parseOrThrow(statusOptionsSchema, rawOptions);
  const rows = await findInstances(ctx.docker([]));
  if (options.json) {
    ctx.out.data(JSON.stringify(rows, null, 2));
  } else if (rows.length === 0) {
    ctx.out.info('No mcp-sandbox instance on this engine. Start one with: npm run up');
  } else {
    ctx.out.data(formatStatusTable(rows));
  }
  return rows;
}
