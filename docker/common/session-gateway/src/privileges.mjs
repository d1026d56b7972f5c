// @ts-check
// Who the session gateway is, checked before any of its code runs (entry.mjs),
// and how it acts as the servers' user. The entrypoint starts it as "warden"
// (docker/common/runtime/lib/sandbox.sh, run_session_gateway) holding
// CAP_SETUID and CAP_SETGID alone: "warden" is not the servers' "mcp", so a
// server can neither signal it nor open its /proc/PID files, and the two
// capabilities are what starting each server as "mcp" (spawn's uid and gid) and
// signalling it (asServerUser) take. The seteuid round trip at start also makes
// this process non-dumpable, so its /proc/PID files belong to root.
import { readFileSync, statSync } from 'node:fs';

/** The user the session gateway runs as, and the MCP servers' (docker/common/build/setup-os). */
export const ENFORCER_USER = Object.freeze({ name: 'warden', uid: 10004, gid: 10004 });
export const SERVER_USER = Object.freeze({ name: 'mcp', uid: 10002, gid: 10002 });

/** CAP_SETUID (7) and CAP_SETGID (6): the only capabilities the gateway holds. */
export const GATEWAY_CAPABILITIES = (1n << 6n) | (1n << 7n);

/**
 * What the check calls of `process` (on Linux, where the gateway runs, all of them exist).
 * @typedef {{ getuid(): number, geteuid(): number, getgid(): number, getegid(): number, getgroups(): number[],
 *   seteuid(id: string | number): void }} ProcessIds
 */

/**
 * A capability set (hex) of a /proc/PID/status text, such as CapEff or CapInh.
 * @param {string} statusText
 * @param {string} set
 */
export function capabilitySet(statusText, set) {
  const line = statusText.split('\n').find((l) => l.startsWith(`${set}:`));
  return line ? BigInt(`0x${line.slice(set.length + 1).trim()}`) : 0n;
}

/**
 * Prove this process is "warden" with CAP_SETUID and CAP_SETGID alone, make it
 * non-dumpable and prove that too, or throw an Error whose message says what is
 * wrong and how to fix it. The parameters are for the unit tests.
 * @param {{ proc?: ProcessIds, statusText?: () => string, memOwner?: () => number }} [options]
 */
export function checkPrivileges({
  proc = /** @type {ProcessIds} */ (process),
  statusText = () => readFileSync('/proc/self/status', 'utf8'),
  memOwner = () => statSync('/proc/self/mem').uid,
} = {}) {
  const { name, uid, gid } = ENFORCER_USER;
  const ids = [proc.getuid(), proc.geteuid(), proc.getgid(), proc.getegid()];
  // Node lists the effective gid among the groups; no other group may remain.
  const groups = proc.getgroups().filter((g) => g !== proc.getegid());
  if (ids.some((id, i) => id !== (i < 2 ? uid : gid)) || groups.length > 0) {
    throw new Error(
      `the session gateway must run as "${name}" (${uid}:${gid}, no other group), not uid/euid/gid/egid ${ids.join('/')} groups ${groups.join(',') || 'none'}: start the image through its entrypoint, without --user`,
    );
  }
  const status = statusText();
  const held = ['CapEff', 'CapPrm', 'CapBnd'].map((set) => [set, capabilitySet(status, set)]);
  const wrong = held.filter(([set, value]) => value !== (set === 'CapBnd' ? 0n : GATEWAY_CAPABILITIES));
  if (wrong.length > 0) {
    throw new Error(
      `the session gateway must hold CAP_SETUID and CAP_SETGID alone (c0) with an empty bounding set, not ${wrong.map(([set, v]) => `${set} ${v.toString(16)}`).join(', ')}: start the image through its entrypoint`,
    );
  }
  // An effective-uid change makes a process non-dumpable (fs.suid_dumpable 0 or 2).
  asServerUser(() => undefined, proc);
  const owner = memOwner();
  if (owner !== 0) {
    throw new Error(
      `the session gateway is still dumpable (/proc/self/mem belongs to uid ${owner}, not root). ` +
        `The host's fs.suid_dumpable is probably 1; set it to 0 or 2 (sysctl -w fs.suid_dumpable=2)`,
    );
  }
}

/**
 * Run `act` with the servers' uid as the effective uid, so that it may signal
 * their processes (the gateway holds no CAP_KILL), and return to "warden". Only
 * synchronous work belongs in `act`: the enforcer's own files are written with
 * synchronous calls on this thread, so no write of theirs can happen meanwhile.
 * Outside the image (the unit tests) `act` just runs.
 * @template T
 * @param {() => T} act
 * @param {Pick<ProcessIds, 'geteuid' | 'seteuid'>} [proc]
 * @returns {T}
 */
export function asServerUser(act, proc = /** @type {ProcessIds} */ (process)) {
  if (proc.geteuid() !== ENFORCER_USER.uid) return act();
  proc.seteuid(SERVER_USER.uid);
  try {
    return act();
  } finally {
    proc.seteuid(ENFORCER_USER.uid);
  }
}

/**
 * How a server starts: as "mcp" when this process is "warden" (spawn's uid and
 * gid), behind `setpriv --inh-caps=-all --` while this process holds
 * inheritable capabilities: emptying the inheritable set empties the ambient
 * one, so the server execs with no capability at all.
 * @param {{ statusText?: string, euid?: number }} [options]
 * @returns {{ prefix: string[], uid?: number, gid?: number }}
 */
export function serverLaunch({ statusText = readFileSync('/proc/self/status', 'utf8'), euid = process.geteuid?.() ?? -1 } = {}) {
  const prefix = capabilitySet(statusText, 'CapInh') === 0n ? [] : ['setpriv', '--inh-caps=-all', '--'];
  return euid === ENFORCER_USER.uid ? { prefix, uid: SERVER_USER.uid, gid: SERVER_USER.gid } : { prefix };
}
