import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { readAuditArgs } from '../docker/argv.js';
import { parseOrThrow, StateError } from '../errors.js';
import { auditLines, describeAuditLine, describeVerification, splitAuditFiles, verifyAuditFiles, type AuditFilter } from '../instance/audit-log.js';
import { requireInstance } from '../instance/find.js';
import { engineFromEnvFile, type EngineOptions } from '../instance/engine-select.js';
import { instanceName } from '../instance/env-file.js';

const time = (flag: string) =>
  z
    .string()
    .optional()
    .refine((v) => v === undefined || !Number.isNaN(Date.parse(v)), `${flag} must be a date and time such as 2026-12-03T18:00:00Z or 2026-12-03`)
    .transform((v) => (v === undefined ? undefined : Date.parse(v)));

export const auditOptionsSchema = z.object({
  follow: z.boolean().default(false),
  json: z.boolean().default(false),
  verify: z.boolean().default(false),
  tool: z.string().optional(),
  session: z.string().optional(),
  since: time('--since'),
  until: time('--until'),
});
export type AuditOptions = z.input<typeof auditOptionsSchema> & EngineOptions & { name?: string; envFile?: string };

/** How often --follow reads the trail again. */
export const FOLLOW_EVERY_MS = 1000;

/**
 * The instance's audit trail (docker/common/session-gateway/src/audit.mjs), read as the warden in one exec:
 * its lines (filtered, --json as written), or --verify: the chain checked, exit 1 naming each break.
 */
export async function audit(ctx: CommandContext, rawOptions: AuditOptions, wait = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<void> {
  const options = parseOrThrow(auditOptionsSchema, rawOptions);
  const name = instanceName(ctx, rawOptions);
  const docker = engineFromEnvFile(ctx, rawOptions);
  const instance = await requireInstance(docker, name);
  const read = async () => {
    const result = await docker.run(readAuditArgs(instance.container), { allowFailure: true });
    if (result.exitCode !== 0)
      throw new StateError(`Could not read the audit trail of ${instance.container} (is it running?): ${result.stderr.trim().split('\n').at(-1) ?? ''}`);
    return splitAuditFiles(result.stdout);
  };
  if (options.verify) {
    const verdict = describeVerification(verifyAuditFiles(await read()));
    if (!verdict.ok) throw new StateError(verdict.lines.join('\n'));
    ctx.out.success(verdict.lines.join('\n'));
    return;
  }
  const filter: AuditFilter = { tool: options.tool, session: options.session, since: options.since, until: options.until };
  let shown = 0;
  for (;;) {
    const lines = auditLines(await read(), filter).filter((l) => l.seq > shown);
    for (const line of lines) ctx.out.data(options.json ? JSON.stringify(line) : describeAuditLine(line));
    if (lines.length > 0) shown = lines.at(-1)!.seq;
    if (!options.follow) return;
    await wait(FOLLOW_EVERY_MS);
  }
}
