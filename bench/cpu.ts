/**
 * CPU time of the serving side, read before and after a timed phase: a
 * container's cgroup (every process in it: nginx, gateways, servers), or a
 * set of host processes and their descendants. Parsers are pure; readers touch
 * /proc or docker.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { docker } from './run.js';

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ: 100 on every Linux build that matters). */
const USER_HZ = 100;

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in milliseconds. */
  cpuMs: number;
}

/** One /proc/PID/stat line; the command name may hold spaces and parentheses, so fields count from the last ')'. */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is the state (field 3); utime..cstime are fields 14..17.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  if (close < 0 || !Number.isFinite(pid) || !Number.isFinite(ticks)) throw new Error(`not a /proc/PID/stat line: '${text.slice(0, 80)}'`);
  return { pid, ppid: Number(fields[1]), cpuMs: (ticks * 1000) / USER_HZ };
}

/** The roots and every process below them, by parent pid. */
export function treeCpuMs(table: readonly ProcStat[], roots: readonly number[]): number {
  const children = new Map<number, ProcStat[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const byPid = new Map(table.map((p) => [p.pid, p]));
  let total = 0;
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    total += byPid.get(pid)?.cpuMs ?? 0;
    for (const child of children.get(pid) ?? []) stack.push(child.pid);
  }
  return total;
}

function readProcTable(): ProcStat[] {
  const table: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      table.push(parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8')));
    } catch {
      // Gone since readdir.
    }
  }
  return table;
}

/** CPU milliseconds of these host processes and their descendants now. */
export const hostTreeCpuMs = (roots: readonly number[]) => treeCpuMs(readProcTable(), roots);

/** A container's cgroup CPU usage as the kernel reports it: cgroup v2 cpu.stat (usage_usec) or v1 cpuacct.usage (ns). */
export function parseCgroupCpuMs(text: string): number {
  const v2 = /^usage_usec\s+(\d+)$/m.exec(text);
  if (v2) return Number(v2[1]) / 1000;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) / 1e6;
  throw new Error(`neither cgroup v2 cpu.stat nor v1 cpuacct.usage: '${text.slice(0, 80)}'`);
}

/** The container's own cgroup, read from inside (`cat`, which every image here has). */
export async function containerCpuMs(name: string): Promise<number> {
  const v2 = await docker(['exec', name, 'cat', '/sys/fs/cgroup/cpu.stat']).catch(() => undefined);
  if (v2) return parseCgroupCpuMs(v2.stdout);
  return parseCgroupCpuMs((await docker(['exec', name, 'cat', '/sys/fs/cgroup/cpuacct/cpuacct.usage'])).stdout);
}
