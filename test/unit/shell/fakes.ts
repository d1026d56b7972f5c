/**
 * The fast tests of the bash layer run the image's real scripts on this
 * machine, with fake iptables, ip6tables (and their -restore), id, setpriv and install first on PATH
 * (test/fixtures/shell/fake-command): each call is logged, nothing is changed
 * outside a temporary folder, and no Docker is needed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const FAKED = ['iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore', 'id', 'setpriv', 'install'] as const;

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Every call of a fake, in order: [name, ...arguments]. */
  calls: string[][];
  /** The environment each call of the fake setpriv received, in order. */
  setprivEnvironments: Array<Record<string, string>>;
  /** The PATH the command was given: the fakes, then the system's commands. */
  path: string;
}

/**
 * Runs `command` with only `env` (and PATH) in its environment, in `dir` (the
 * fakes go to dir/bin, their log to dir/calls.log), or else in a folder of its
 * own, removed afterwards. Runs in different folders may go concurrently.
 */
export async function runWithFakes(command: string, args: string[], env: Record<string, string> = {}, dir?: string): Promise<Run> {
  const folder = dir ?? mkdtempSync(join(tmpdir(), 'mcps-shell-'));
  try {
    const bin = join(folder, 'bin');
    if (!existsSync(bin)) {
      mkdirSync(bin);
      for (const name of FAKED) symlinkSync(join(projectDir, 'test', 'fixtures', 'shell', 'fake-command'), join(bin, name));
    }
    const path = `${bin}:/usr/local/bin:/usr/bin:/bin`;
    writeFileSync(join(folder, 'calls.log'), '');
    writeFileSync(join(folder, 'setpriv.environ'), '');
    // Only what the test gives: nothing of this machine's environment leaks in.
    const child = spawn(command, args, { cwd: folder, env: { PATH: path, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const status = await new Promise<number | null>((done, fail) => {
      child.once('error', fail);
      child.once('close', (code) => done(code));
    });
    const calls = readFileSync(join(folder, 'calls.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t'));
    const setprivEnvironments = readFileSync(join(folder, 'setpriv.environ'), 'utf8')
      .split('\0\0')
      .filter(Boolean)
      .map((block) => Object.fromEntries(block.split('\0').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])));
    return { status, stdout, stderr, calls, setprivEnvironments, path };
  } finally {
    if (!dir) rmSync(folder, { recursive: true, force: true });
  }
}
