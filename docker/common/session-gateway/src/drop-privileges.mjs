// @ts-check
// The session gateway's first step, before any of its code runs
// (entry.mjs): it starts as root holding only CAP_SETUID and CAP_SETGID
// (docker/common/runtime/lib/sandbox.sh, run_session_gateway) and becomes "mcp" itself.
// A process whose uid changes from 0 is made non-dumpable by the kernel
// (fs.suid_dumpable 0 or 2): its /proc/PID/mem, environ and the like belong to
// root, so the MCP servers it starts, which run as "mcp" too, can neither read
// nor write its memory. `setpriv --reuid` before exec would not do: an exec
// makes a process dumpable again. Node has no prctl, so the drop is the way.
import { readFileSync, statSync } from 'node:fs';

/** The user the session gateway and the MCP servers run as (docker/common/build/setup-os). */
export const GATEWAY_USER = 'mcp';

/**
 * What the drop calls of `process` (on Linux, where the gateway runs, all of them exist).
 * @typedef {{ getuid(): number, geteuid(): number, getgid(): number, getegid(): number, getgroups(): number[],
 *   setgroups(groups: ReadonlyArray<string | number>): void, setgid(id: string | number): void, setuid(id: string | number): void }} ProcessIds
 */

/**
 * Drop from root to `user` and prove the result, or throw an Error whose message
 * says what is wrong and how to fix it. `proc` and `memOwner` are parameters for
 * the unit tests; the gateway passes the real process and /proc/self/mem.
 * @param {{ user?: string, proc?: ProcessIds, memOwner?: () => number }} [options]
 */
export function dropPrivileges({ user = GATEWAY_USER, proc = /** @type {ProcessIds} */ (process), memOwner = () => statSync('/proc/self/mem').uid } = {}) {
  if (proc.getuid() !== 0 || proc.geteuid() !== 0) {
    throw new Error(
      `the session gateway must start as root with CAP_SETUID and CAP_SETGID only, and drop to "${user}" itself (uid ${proc.getuid()} now): start the image through its entrypoint, without --user`,
    );
  }
  proc.setgroups([]);
  proc.setgid(user);
  proc.setuid(user);
  const ids = [proc.getuid(), proc.geteuid(), proc.getgid(), proc.getegid()];
  // Node lists the effective gid among the groups; no other group may remain.
  const groups = proc.getgroups().filter((g) => g !== proc.getegid());
  if (ids.includes(0) || groups.length > 0)
    throw new Error(`the drop to "${user}" did not take: uid/euid/gid/egid ${ids.join('/')}, groups ${groups.join(',') || 'none'}`);
  const owner = memOwner();
  if (owner !== 0) {
    throw new Error(
      `the session gateway is still dumpable after dropping to "${user}" (/proc/self/mem belongs to uid ${owner}, not root): the MCP server could read and write its memory. ` +
        `The host's fs.suid_dumpable is probably 1; set it to 0 or 2 (sysctl -w fs.suid_dumpable=2)`,
    );
  }
}

/**
 * The inheritable capabilities (hex) of a /proc/PID/status text. The gateway
 * keeps CAP_SETUID and CAP_SETGID there (a uid change empties the other sets,
 * not that one, and Node cannot call capset); the servers must start with none.
 * @param {string} statusText
 */
export function inheritableCapabilities(statusText) {
  const line = statusText.split('\n').find((l) => l.startsWith('CapInh:'));
  return line ? BigInt(`0x${line.slice('CapInh:'.length).trim()}`) : 0n;
}

/**
 * What goes in front of the server's command: `setpriv --inh-caps=-all --`
 * while this process holds inheritable capabilities, so that no server inherits
 * them; nothing otherwise.
 * @param {string} [statusText]
 * @returns {string[]}
 */
export function serverLauncher(statusText = readFileSync('/proc/self/status', 'utf8')) {
  return inheritableCapabilities(statusText) === 0n ? [] : ['setpriv', '--inh-caps=-all', '--'];
}
