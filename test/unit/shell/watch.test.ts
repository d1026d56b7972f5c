/**
 * docker/common/runtime/bin/watch, run for real on processes of this test: it keeps
 * watching a running one (control) and exits 1, naming the reason, for one
 * that exited, is a zombie, or is stopped (the MCP server may SIGSTOP the
 * session gateway, which runs as its user). The end-to-end test
 * (escape-battery.test.ts) stops the gateway and sees the instance serve again.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { projectDir } from './fakes.js';

const WATCH = join(projectDir, 'docker', 'common', 'runtime', 'bin', 'watch');
const started: ChildProcess[] = [];
after(() => {
  for (const child of started) child.kill('SIGKILL');
});

function sleeper(): ChildProcess {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  started.push(child);
  return child;
}

/** Runs watch on `entries` for at most `ms`: its exit status (null: still watching) and stderr. */
async function watchFor(entries: string[], ms: number): Promise<{ status: number | null; stderr: string }> {
  const watch = spawn('bash', [WATCH, ...entries], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  watch.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const status = await new Promise<number | null>((done) => {
    const timer = setTimeout(() => {
      watch.kill('SIGTERM');
      done(null);
    }, ms);
    // 'close', not 'exit': stderr is complete only once its pipe has closed.
    watch.once('close', (code) => {
      clearTimeout(timer);
      done(code);
    });
  });
  return { status, stderr };
}

describe('watch: a process that no longer serves stops the container', { concurrency: true }, () => {
  test('a running process is watched on (control)', async () => {
    const running = sleeper();
    assert.deepEqual(await watchFor([`gateway=${running.pid}`, `session-gateway=${running.pid}`], 2500), { status: null, stderr: '' });
  });

  test('a stopped process (SIGSTOP) ends the watch, exit 1', async () => {
    const stopped = sleeper();
    process.kill(stopped.pid!, 'SIGSTOP');
    const { status, stderr } = await watchFor([`session-gateway=${stopped.pid}`], 15_000);
    assert.equal(status, 1);
    assert.match(stderr, /session-gateway stopped \(SIGSTOP or a tracer\); stopping the container/);
  });

  test('a process that exited ends the watch, exit 1', async () => {
    const gone = spawn('true');
    await new Promise((done) => gone.once('exit', done));
    const { status, stderr } = await watchFor([`gateway=${gone.pid}`], 15_000);
    assert.equal(status, 1);
    assert.match(stderr, /gateway exited; stopping the container/);
  });

  test('a zombie ends the watch, exit 1', async () => {
    // A forked child exits under a parent that never reaps it (a shell may reap on its own, so perl, which only reaps when asked).
    const parent = spawn('perl', ['-e', '$| = 1; my $pid = fork(); exit 0 unless $pid; print "$pid\\n"; sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    started.push(parent);
    const zombie = await new Promise<string>((done) => parent.stdout.setEncoding('utf8').once('data', (d: string) => done(d.trim())));
    // Wait until the kernel shows it as a zombie, so the test does not depend on timing.
    for (let i = 0; i < 100 && !/\) Z /.test(readFileSync(`/proc/${zombie}/stat`, 'utf8')); i++) await new Promise((done) => setTimeout(done, 50));
    assert.match(readFileSync(`/proc/${zombie}/stat`, 'utf8'), /\) Z /, 'control: the child is a zombie');
    const { status, stderr } = await watchFor([`auth-gateway=${zombie}`], 15_000);
    assert.equal(status, 1);
    assert.match(stderr, /auth-gateway exited \(a zombie\)/);
  });
});
