/**
 * MCP_TOOLS and MCP_TOOLS_DENY: comma-separated tool names, `*` matching any run
 * of characters. The session gateway enforces them (docker/common/session-gateway/src/tool-policy.mjs)
 * and reads the same grammar from the generated setting-rules.cjs (settings/container-rules.ts);
 * test/unit/one-source.test.ts runs one case table through both.
 */

/** One entry: a tool name (MCP's letters, digits, `_ - .`, and `/ :` some servers use), `*` a wildcard, at most 128 characters. */
export const TOOL_PATTERN = /^[A-Za-z0-9_./:*-]{1,128}$/;

export const TOOL_SETTINGS = ['MCP_TOOLS', 'MCP_TOOLS_DENY'] as const;

/** The entries of a list (empty for an empty value), or the message naming the first bad entry. */
export function parseToolList(setting: string, value: string): { entries: string[] } | { issue: string } {
  if (value.trim() === '') return { entries: [] };
  const entries = value.split(',').map((e) => e.trim());
  const bad = entries.find((e) => !TOOL_PATTERN.test(e));
  if (bad === undefined) return { entries };
  return {
    issue:
      `${setting} has ${bad === '' ? 'an empty entry' : `'${bad}', which is not a tool name or pattern`}: ` +
      'give comma-separated tool names of letters, digits and _ - . / :, with * for any run of characters (such as read_*,list_directory)',
  };
}
