import { z } from 'zod';
import type { Phase } from './mcp-load.js';

export const benchOptionsSchema = z.object({
  quick: z.boolean().default(false),
  sessions: z.coerce
    .number({ message: '--sessions must be a number of concurrent sessions' })
    .int('--sessions must be a whole number')
    .min(2, '--sessions must be at least 2 (one session is the sequential run)')
    .max(32, '--sessions must be at most 32 (each session is a server process)')
    .optional(),
  prefix: z
    .string()
    .default('mcp-bench')
    .refine(
      (p) => /^[a-z0-9][a-z0-9_.-]{0,40}$/.test(p),
      '--prefix must be lowercase letters, digits, ".", "_" or "-" (it names every Docker object of the bench)',
    ),
  out: z.string().default('bench/results'),
});
export type BenchOptions = z.output<typeof benchOptionsSchema>;

export interface Plan {
  sessions: number;
  sequential: Phase;
  concurrent: Phase;
  /** The guide's runtime takes about half a second a call: fewer calls, same shape. */
  guideSequential: Phase;
  guideConcurrent: Phase;
  coldStartMaxMs: number;
  cliRepeats: number;
}

export function planFor(options: BenchOptions): Plan {
  if (options.quick) {
    return {
      sessions: options.sessions ?? 2,
      sequential: { callsPerSession: 40, warmupCalls: 5, maxMs: 10_000 },
      concurrent: { callsPerSession: 20, warmupCalls: 2, maxMs: 10_000 },
      guideSequential: { callsPerSession: 3, warmupCalls: 1, maxMs: 20_000 },
      guideConcurrent: { callsPerSession: 2, warmupCalls: 0, maxMs: 20_000 },
      coldStartMaxMs: 60_000,
      cliRepeats: 1,
    };
  }
  return {
    sessions: options.sessions ?? 8,
    sequential: { callsPerSession: 1000, warmupCalls: 50, maxMs: 20_000 },
    concurrent: { callsPerSession: 250, warmupCalls: 10, maxMs: 30_000 },
    guideSequential: { callsPerSession: 20, warmupCalls: 2, maxMs: 30_000 },
    guideConcurrent: { callsPerSession: 3, warmupCalls: 0, maxMs: 60_000 },
    coldStartMaxMs: 60_000,
    cliRepeats: 5,
  };
}
