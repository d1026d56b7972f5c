import { AUTH_MODES, LOG_LEVELS, MAX_TOKEN_HEX, MIN_TOKEN_HEX } from './schema.js';
import { TOOL_PATTERN } from './tools.js';
import { AUDIT_SIZE_PATTERN } from './audit.js';

/**
 * The settings rules the container's JavaScript applies too (the tunnels' modules, the auth
 * gateway), rendered from the CLI's own table into docker/common/runtime/js/setting-rules.cjs by
 * scripts/write-container-rules.mjs. test/unit/one-source.test.ts fails while they differ, and
 * holds the bash copies (the entrypoint's check_settings, nginx's prepare) to the same values.
 */
export const ACCESS_TOKEN_PATTERN = new RegExp(`^[0-9A-Fa-f]{${MIN_TOKEN_HEX},${MAX_TOKEN_HEX}}$`);

const list = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;

export function renderSettingRules(): string {
  return [
    '// Generated from package_scripts/settings/schema.ts by scripts/write-container-rules.mjs; do not edit.',
    "// The settings rules the container's JavaScript shares with the CLI (package_scripts/settings/container-rules.ts).",
    "'use strict';",
    '',
    '/** The values of AUTH (bearer when unset). */',
    `const AUTH_MODES = ${list(AUTH_MODES)};`,
    '/** The values of LOG_LEVEL (info when unset). */',
    `const LOG_LEVELS = ${list(LOG_LEVELS)};`,
    `/** ACCESS_TOKEN, the bearer token: ${MIN_TOKEN_HEX} to ${MAX_TOKEN_HEX} hex characters (npm run gen_key makes one). */`,
    `const ACCESS_TOKEN_PATTERN = ${ACCESS_TOKEN_PATTERN.toString()};`,
    '/** One entry of MCP_TOOLS and MCP_TOOLS_DENY (comma-separated): a tool name, * for any run of characters. */',
    `const TOOL_PATTERN = ${TOOL_PATTERN.toString()};`,
    '/** MCP_AUDIT_MAX_SIZE: bytes, or k, m, g (binary). */',
    `const AUDIT_SIZE_PATTERN = ${AUDIT_SIZE_PATTERN.toString()};`,
    '',
    'module.exports = { AUTH_MODES, LOG_LEVELS, ACCESS_TOKEN_PATTERN, TOOL_PATTERN, AUDIT_SIZE_PATTERN };',
    '',
  ].join('\n');
}
