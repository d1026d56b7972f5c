// @ts-check
// The session gateway's settings, read from its environment once, at start:
// what the entrypoint let through (run_session_gateway in
// docker/common/runtime/lib/sandbox.sh). Pure: an environment in, a
// configuration out, or a ConfigError whose message names the setting.
import { AUDIT_DIR } from './audit.mjs';
import { parseToolList } from './tool-policy.mjs';
import { splitWords } from './words.mjs';
import rules from '../../runtime/js/setting-rules.cjs';

/** A setting the gateway cannot run with; main.mjs prints it and exits 78. */
export class ConfigError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const LOG_LEVELS = ['info', 'debug', 'none'];
const DEFAULT_COMMAND = '/usr/local/bin/mcp-server';

/** The gateway's own settings: removed from the environment its servers get. */
export const GATEWAY_SETTINGS = [
  'GATEWAY_PORT',
  'MCP_MAX_SESSIONS',
  'MCP_SESSION_IDLE',
  'LOG_LEVEL',
  'MCP_SERVER_COMMAND',
  'NPM_MCP_ARGS',
  'MCP_TOOLS',
  'MCP_TOOLS_DENY',
  'MCP_AUDIT',
  'MCP_AUDIT_ARGUMENTS',
  'MCP_AUDIT_MAX_SIZE',
  'MCP_AUDIT_KEEP',
  'MCP_AUDIT_STDOUT',
  'SANDBOX_NAME',
];

/**
 * @typedef {'info' | 'debug' | 'none'} LogLevel
 * @typedef {{
 *   port: number,
 *   maxSessions: number,
 *   idleMs: number,
 *   level: LogLevel,
 *   command: string,
 *   args: string[],
 *   serverEnv: NodeJS.ProcessEnv,
 *   tools: import('./tool-policy.mjs').ToolLists,
 *   audit: import('./audit.mjs').AuditSettings,
 * }} GatewayConfig
 */

/**
 * @param {NodeJS.ProcessEnv} env
 * @returns {GatewayConfig}
 */
export function readConfig(env) {
  /** @type {(name: string, fallback: number, min: number) => number} */
  const wholeNumber = (name, fallback, min) => {
    const raw = env[name] || String(fallback);
    if (!/^\d+$/.test(raw) || Number(raw) < min) throw new ConfigError(`${name} must be a whole number of at least ${min} (got '${raw}')`);
    return Number(raw);
  };
  const port = wholeNumber('GATEWAY_PORT', 8000, 1);
  const maxSessions = wholeNumber('MCP_MAX_SESSIONS', 16, 1);
  const idleMs = wholeNumber('MCP_SESSION_IDLE', 300, 1) * 1000;
  const level = env.LOG_LEVEL || 'info';
  if (!isLogLevel(level)) throw new ConfigError(`LOG_LEVEL '${level}' is not info, debug or none`);
  const command = env.MCP_SERVER_COMMAND || DEFAULT_COMMAND;
  let args;
  try {
    args = splitWords(env.NPM_MCP_ARGS ?? '');
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  /** @type {(name: string) => string[]} */
  const toolList = (name) => {
    const parsed = parseToolList(name, env[name] ?? '');
    if ('issue' in parsed) throw new ConfigError(parsed.issue);
    return parsed.entries;
  };
  const tools = { allow: toolList('MCP_TOOLS'), deny: toolList('MCP_TOOLS_DENY') };
  const audit = readAuditSettings(env, wholeNumber);
  // The server sees only what the entrypoint let through (PATH, HOME, MCP_ENV),
  // minus the gateway's own settings.
  const serverEnv = { ...env };
  for (const name of GATEWAY_SETTINGS) delete serverEnv[name];
  return { port, maxSessions, idleMs, level, command, args, serverEnv, tools, audit };
}

/**
 * @param {string} level
 * @returns {level is LogLevel}
 */
const isLogLevel = (level) => LOG_LEVELS.includes(level);

/**
 * The audit trail's settings (package_scripts/settings/audit.ts checks them before the container starts).
 * @param {NodeJS.ProcessEnv} env
 * @param {(name: string, fallback: number, min: number) => number} wholeNumber
 * @returns {import('./audit.mjs').AuditSettings}
 */
function readAuditSettings(env, wholeNumber) {
  /** @type {(name: string, fallback: string) => boolean} */
  const flag = (name, fallback) => {
    const raw = (env[name] || fallback).toLowerCase();
    if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${name} must be true or false (got '${raw}')`);
    return raw === 'true';
  };
  const argumentsMode = env.MCP_AUDIT_ARGUMENTS || 'names';
  if (argumentsMode !== 'names' && argumentsMode !== 'values') throw new ConfigError(`MCP_AUDIT_ARGUMENTS must be names or values (got '${argumentsMode}')`);
  const rawSize = env.MCP_AUDIT_MAX_SIZE || '10m';
  const size = rules.AUDIT_SIZE_PATTERN.exec(rawSize);
  if (!size) throw new ConfigError(`MCP_AUDIT_MAX_SIZE must be a size such as 10m (got '${rawSize}')`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[/** @type {'' | 'k' | 'm' | 'g'} */ ((size[2] ?? '').toLowerCase())];
  return {
    enabled: flag('MCP_AUDIT', 'true'),
    dir: AUDIT_DIR,
    instance: env.SANDBOX_NAME || '',
    maxSize: Math.max(1024, Number(size[1]) * unit),
    keep: wholeNumber('MCP_AUDIT_KEEP', 5, 1),
    values: argumentsMode === 'values',
    stdout: flag('MCP_AUDIT_STDOUT', 'false'),
  };
}
