/**
 * How many MCP sessions an instance holds at once by default. Each session is
 * one server process, so the default follows the container's limits
 * (MCP_MEMORY, MCP_PIDS) divided by what one session of the default server
 * (server-filesystem) was measured to take; docs/SETTINGS.md gives the figures.
 */
import { memoryBytes } from './schema.js';

/** Resident memory of one server-filesystem session (measured about 40 MiB), with headroom for use. */
export const SESSION_MEMORY_BYTES = 48 * 2 ** 20;
/** Processes and threads one Node.js server counts against --pids-limit (measured 11), with headroom. */
export const SESSION_PIDS = 12;
/** What the rest of the container takes: nginx or a tunnel agent, the session gateway, tini, the watcher. */
export const RESERVED_MEMORY_BYTES = 128 * 2 ** 20;
export const RESERVED_PIDS = 40;
/** Above this the default stops growing: a bigger instance can still set MCP_MAX_SESSIONS. */
export const DEFAULT_SESSIONS_CAP = 64;

export function defaultMaxSessions(memory: string, pids: number): number {
  const byMemory = Math.floor((memoryBytes(memory) - RESERVED_MEMORY_BYTES) / SESSION_MEMORY_BYTES);
  const byPids = Math.floor((pids - RESERVED_PIDS) / SESSION_PIDS);
  return Math.max(1, Math.min(byMemory, byPids, DEFAULT_SESSIONS_CAP));
}

/** MCP_SESSION_IDLE's default: 5 minutes (docs/SETTINGS.md says why). */
export const DEFAULT_SESSION_IDLE_SECONDS = 300;
