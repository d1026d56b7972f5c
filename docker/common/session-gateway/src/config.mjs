// @ts-check
// The session gateway's settings, read from its environment once, at start:
// what the entrypoint let through (run_session_gateway in
// docker/common/runtime/lib/sandbox.sh). Pure: an environment in, a
// configuration out, or a ConfigError whose message names the setting.
import { parseToolList } from './tool-policy.mjs';
import { splitWords } from './words.mjs';

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
  // The server sees only what the entrypoint let through (PATH, HOME, MCP_ENV),
  // minus the gateway's own settings.
  const serverEnv = { ...env };
  for (const name of GATEWAY_SETTINGS) delete serverEnv[name];
  return { port, maxSessions, idleMs, level, command, args, serverEnv, tools };
}

/**
 * @param {string} level
 * @returns {level is LogLevel}
 */
const isLogLevel = (level) => LOG_LEVELS.includes(level);
