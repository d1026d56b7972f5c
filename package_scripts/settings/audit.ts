/**
 * The audit trail's settings (MCP_AUDIT, MCP_AUDIT_ARGUMENTS, MCP_AUDIT_MAX_SIZE,
 * MCP_AUDIT_KEEP, MCP_AUDIT_STDOUT). The session gateway writes the trail
 * (docker/common/session-gateway/src/audit.mjs) and reads the same size grammar
 * from the generated setting-rules.cjs (settings/container-rules.ts).
 */

/** A size: bytes, or k, m, g (binary). */
export const AUDIT_SIZE_PATTERN = /^(\d+)([kmg]?)$/i;
/** What a tools/call line keeps of the arguments: their names and hash, or their values too. */
export const AUDIT_ARGUMENT_MODES = ['names', 'values'] as const;
/** Below this a file would hold a handful of lines: the size cap's floor, and its default. */
export const AUDIT_MIN_SIZE = 64 * 1024;
export const AUDIT_DEFAULT_SIZE = '10m';

/** The size in bytes, or undefined when it is not a size. */
export function auditSizeBytes(value: string): number | undefined {
  const match = AUDIT_SIZE_PATTERN.exec(value);
  if (!match) return undefined;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(match[1]) * unit;
}
