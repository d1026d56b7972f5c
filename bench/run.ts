/** The bench's side effects at the edge: docker, the CLI, and timing whole commands. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** dist/bench/run.js sits two folders below the project. */
export const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = join(projectDir, 'dist', 'package_scripts', 'main.js');

export interface Ran {
  stdout: string;
  ms: number;
}

function failure(what: string, result: { exitCode?: number; all?: string; stderr?: string; stdout?: string; timedOut?: boolean }): Error {
  const output = (result.all ?? `${result.stdout ?? ''}\n${result.stderr ?? ''}`).trim().split('\n').slice(-25).join('\n');
  return new Error(`${what} ${result.timedOut ? 'timed out' : `exited with ${result.exitCode}`}\n${output}`);
}

/** docker ARGS, failing with its output; never used with a secret in argv. */
export async function docker(args: string[], timeoutMs = 120_000): Promise<Ran> {
  const start = process.hrtime.bigint();
  const result = await execa('docker', args, { reject: false, all: true, timeout: timeoutMs });
  if (result.exitCode !== 0) throw failure(`docker ${args.join(' ')}`, result);
  return { stdout: result.stdout.trim(), ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

/** docker ARGS whose failure is expected and harmless (removing what may not exist). */
export async function dockerQuiet(args: string[]): Promise<void> {
  await execa('docker', args, { reject: false, timeout: 60_000 });
}

/** The product CLI exactly as `npm run <command>` runs it. */
export async function cli(args: string[], timeoutMs = 15 * 60_000): Promise<Ran> {
  const start = process.hrtime.bigint();
  const result = await execa(process.execPath, ['--', cliPath, ...args], {
    cwd: projectDir,
    reject: false,
    all: true,
    timeout: timeoutMs,
    env: { NO_COLOR: '1' },
  });
  if (result.exitCode !== 0) throw failure(`npm run ${args[0]} (${args.slice(1).join(' ')})`, result);
  return { stdout: result.stdout, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

/** Wall time of a command that must succeed. */
export async function timeCommand(command: string, args: string[]): Promise<number> {
  const start = process.hrtime.bigint();
  const result = await execa(command, args, { cwd: projectDir, reject: false, all: true, timeout: 60_000, env: { NO_COLOR: '1' } });
  if (result.exitCode !== 0) throw failure(`${command} ${args.join(' ')}`, result);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Docker's StartedAt (RFC 3339, nanoseconds) as milliseconds since the epoch. */
export function parseStartedAt(text: string): number {
  const trimmed = text.trim().replace(/(\.\d{3})\d*/, '$1');
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) throw new Error(`not a docker timestamp: '${text}'`);
  return ms;
}
