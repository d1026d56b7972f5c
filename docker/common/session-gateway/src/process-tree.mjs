// @ts-check
// A session's processes, tracked by pid, not by process group: a server's
// child that calls setsid() leaves the group the session's end signals, and
// once its parent exits it is reparented to PID 1 (tini), out of the tree.
// So the gateway notes every descendant of each live server while it is still
// attached (pid and start time, so that a reused pid is never mistaken for
// it), ends the ones it noted when the session ends, and sweeps processes of
// its own user that were reparented to PID 1 and that no live session noted.
// Pure functions over a table read from /proc, so they can be tested alone.
import { readdirSync, readFileSync } from 'node:fs';
import { asServerUser } from './privileges.mjs';

/** @typedef {{ pid: number, ppid: number, uid: number, state: string, start: string }} ProcessEntry */

/**
 * The fields of /proc/PID/stat this module needs. The command name (field 2)
 * may hold spaces and parentheses; nothing after its last ')' does.
 * @param {string} text
 */
export function parseStat(text) {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 of proc(5): state; ppid is field 4, starttime field 22.
  return { state: fields[0] ?? '', ppid: Number(fields[1]), start: fields[19] ?? '' };
}

/**
 * The real uid of a /proc/PID/status text (world-readable, even for a non-dumpable process).
 * @param {string} text
 */
export function parseUid(text) {
  const line = text.split('\n').find((l) => l.startsWith('Uid:')) ?? '';
  return Number(line.split(/\s+/)[1]);
}

/**
 * Every process in view, by pid. One that ends while it is read is left out.
 * @param {string} [root]
 * @returns {Map<number, ProcessEntry>}
 */
export function readProcessTable(root = '/proc') {
  /** @type {Map<number, ProcessEntry>} */
  const table = new Map();
  for (const name of readdirSync(root)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseStat(readFileSync(`${root}/${name}/stat`, 'utf8'));
      const uid = parseUid(readFileSync(`${root}/${name}/status`, 'utf8'));
      table.set(Number(name), { pid: Number(name), uid, ...stat });
    } catch {
      // ENOENT/ESRCH: it ended meanwhile.
    }
  }
  return table;
}

/**
 * `root` and every process below it, each as "pid:start" (zombies left out: they are gone but for their exit status).
 * @param {Map<number, ProcessEntry>} table
 * @param {number} root
 * @returns {string[]}
 */
export function treeOf(table, root) {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  for (const p of table.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const found = [];
  const queue = [root];
  const seen = new Set();
  while (queue.length > 0) {
    const pid = /** @type {number} */ (queue.shift());
    const entry = table.get(pid);
    if (!entry || seen.has(pid)) continue;
    seen.add(pid);
    if (entry.state !== 'Z') found.push(`${pid}:${entry.start}`);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/**
 * Processes of `uid` reparented to PID 1 that no live session noted: what an
 * ended session left behind (or what escaped before it was ever seen).
 * @param {Map<number, ProcessEntry>} table
 * @param {{ uid: number, self: number, noted: Set<string> }} options
 * @returns {string[]} "pid:start" of each
 */
export function strays(table, { uid, self, noted }) {
  // Never root's: PID 1's own helpers are root's children too.
  if (uid === 0) return [];
  return [...table.values()]
    .filter((p) => p.uid === uid && p.ppid === 1 && p.pid !== self && p.state !== 'Z' && !noted.has(`${p.pid}:${p.start}`))
    .map((p) => `${p.pid}:${p.start}`);
}

/**
 * SIGKILL each "pid:start" that is still that same process (its start time
 * unchanged). Returns how many were signalled.
 * @param {Iterable<string>} keys
 * @param {string} [root]
 */
export function killNoted(keys, root = '/proc') {
  let killed = 0;
  for (const key of keys) {
    const [pid, start] = key.split(':');
    try {
      const stat = parseStat(readFileSync(`${root}/${pid}/stat`, 'utf8'));
      if (stat.start !== start || stat.state === 'Z') continue;
      asServerUser(() => process.kill(Number(pid), 'SIGKILL'));
      killed++;
    } catch {
      // Gone already, or not ours to signal.
    }
  }
  return killed;
}
