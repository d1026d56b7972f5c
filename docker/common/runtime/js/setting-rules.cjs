// Generated from package_scripts/settings/schema.ts by scripts/write-container-rules.mjs; do not edit.
// The settings rules the container's JavaScript shares with the CLI (package_scripts/settings/container-rules.ts).
'use strict';

/** The values of AUTH (bearer when unset). */
const AUTH_MODES = ['bearer', 'oauth'];
/** The values of LOG_LEVEL (info when unset). */
const LOG_LEVELS = ['info', 'debug', 'none'];
/** ACCESS_TOKEN, the bearer token: 32 to 256 hex characters (npm run gen_key makes one). */
const ACCESS_TOKEN_PATTERN = /^[0-9A-Fa-f]{32,256}$/;
/** One entry of MCP_TOOLS and MCP_TOOLS_DENY (comma-separated): a tool name, * for any run of characters. */
const TOOL_PATTERN = /^[A-Za-z0-9_./:*-]{1,128}$/;
/** MCP_AUDIT_MAX_SIZE: bytes, or k, m, g (binary). */
const AUDIT_SIZE_PATTERN = /^(\d+)([kmg]?)$/i;

module.exports = { AUTH_MODES, LOG_LEVELS, ACCESS_TOKEN_PATTERN, TOOL_PATTERN, AUDIT_SIZE_PATTERN };
