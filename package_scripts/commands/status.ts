import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { parseOrThrow } from '../errors.js';
import { engineFromEnvFile, type EngineOptions } from '../instance/engine-select.js';
import { findInstances } from '../instance/find.js';
import { formatStatusTable, type InstanceStatus } from '../instance/instances.js';
import { describeProbe, probeInside } from '../instance/readiness.js';
import { pendingSummary, readPinState } from '../instance/tool-pins.js';

export const statusOptionsSchema = z.object({ json: z.boolean().default(false), probe: z.boolean().default(false) });
export type StatusOptions = z.input<typeof statusOptionsSchema> & EngineOptions & { envFile?: string };

/** How long `status --probe` gives each instance's round trip. */
const PROBE_TIMEOUT_SECONDS = 15;

/**
 * Every instance on this engine, whatever env file started it: Docker's labels
 * are the only record. With --probe, each running one also gets the readiness
 * round trip on its internal path (status has no env file, so no token: the
 * round trip goes from inside the container to the session gateway).
 */
export async function status(ctx: CommandContext, rawOptions: StatusOptions): Promise<InstanceStatus[]> {
  const options = parseOrThrow(statusOptionsSchema, rawOptions);
  // The engine named in the env file (DOCKER_HOST, DOCKER_CONTEXT), --context, or the shell's.
  const docker = engineFromEnvFile(ctx, rawOptions);
  const rows = await findInstances(docker);
  // Tools withheld since they changed or are new since pinned: one exec per running instance.
  for (const row of rows) {
    if (row.state !== 'running') continue;
    const pins = await readPinState(docker, row.container);
    const summary = pins && pendingSummary(pins);
    if (summary) row.toolPins = summary;
  }
  if (options.probe) {
    for (const row of rows) {
      if (row.state !== 'running') continue;
      const outcome = await probeInside(docker, row.container, PROBE_TIMEOUT_SECONDS);
      row.probe = outcome.ok
        ? { ok: true, summary: describeProbe(outcome.result!), tools: outcome.result!.tools, ms: outcome.result!.ms }
        : { ok: false, summary: `failed: ${outcome.error}`, serverLines: outcome.serverLines };
    }
  }
  if (options.json) {
    ctx.out.data(JSON.stringify(rows, null, 2));
  } else if (rows.length === 0) {
    ctx.out.info('No mcp-sandbox instance on this engine. Start one with: npm run up');
  } else {
    ctx.out.data(formatStatusTable(rows));
    if (rows.some((r) => r.toolPins))
      ctx.out.info('Tools changed or new since pinned are withheld: `npm run tools -- NAME` shows what changed and accepts them.');
  }
  if (options.probe && rows.some((r) => r.probe && !r.probe.ok)) process.exitCode = 1;
  return rows;
}
