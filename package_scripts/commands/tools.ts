import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { StateError, UsageError, parseOrThrow } from '../errors.js';
import { requireInstance } from '../instance/find.js';
import { engineFromEnvFile, type EngineOptions } from '../instance/engine-select.js';
import { instanceName } from '../instance/env-file.js';
import { acceptPins, formatPinState, readPinState, type PinState } from '../instance/tool-pins.js';

export const toolsOptionsSchema = z.object({
  accept: z.array(z.string()).optional(),
  acceptAll: z.boolean().default(false),
  json: z.boolean().default(false),
});
export type ToolsOptions = z.input<typeof toolsOptionsSchema> & EngineOptions & { name?: string; envFile?: string };

/**
 * The pinned tool definitions of a running instance: the tools withheld since
 * they changed or are new since pinned, with what changed, and the pinned ones.
 * --accept NAME... or --accept-all pins the new definitions (run as warden
 * inside the container); the gateway serves them at its next listing, no restart.
 */
export async function tools(ctx: CommandContext, rawOptions: ToolsOptions): Promise<PinState | string[]> {
  const options = parseOrThrow(toolsOptionsSchema, rawOptions);
  if (options.acceptAll && options.accept) throw new UsageError('Give --accept NAME... or --accept-all, not both');
  const name = instanceName(ctx, rawOptions);
  const docker = engineFromEnvFile(ctx, rawOptions);
  const instance = await requireInstance(docker, name);
  if (instance.state !== 'running') throw new StateError(`${name} is not running: its pins are read inside it`, `Start it: npm run start -- -d`);
  if (options.accept || options.acceptAll) {
    const accepted = await acceptPins(docker, instance.container, options.acceptAll ? 'all' : options.accept!);
    ctx.out.success(
      accepted.length === 0
        ? `${name}: no tool was withheld; nothing to accept.`
        : `${name}: pinned ${accepted.join(', ')}; served from the next tools/list (clients may need to list again).`,
    );
    return accepted;
  }
  const state = await readPinState(docker, instance.container);
  if (!state) throw new StateError(`Could not read ${name}'s tool pins`, 'An image built before pinned tool definitions has none: rebuild it (npm run up)');
  ctx.out.data(options.json ? JSON.stringify(state, null, 2) : formatPinState(name, state));
  return state;
}
