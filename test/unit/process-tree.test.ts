/**
 * The session gateway's process tracking (docker/common/session-gateway/src/process-tree.mjs,
 * loaded as the image runs it): /proc parsing, a session's tree, strays
 * reparented to PID 1, and the kill that checks a pid is still the same
 * process. The end-to-end test (escape-battery.test.ts) ends a session whose
 * server left a setsid() sleeper behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tree = (await import(pathToFileURL(join(repoRoot, 'docker', 'common', 'session-gateway', 'src', 'process-tree.mjs')).href)) as Record<string, any>;

type Entry = { pid: number; ppid: number; uid: number; state: string; start: string };
const table = (...entries: Entry[]) => new Map(entries.map((e) => [e.pid, e]));
const p = (pid: number, ppid: number, uid = 10002, state = 'S'): Entry => ({ pid, ppid, uid, state, start: String(pid * 100) });

describe('parsing /proc', () => {
  it('reads state, ppid and start time past a command name with spaces and parentheses', () => {
    const fields = ['S', '42', ...Array.from({ length: 17 }, (_, i) => String(i)), '987654', '1'];
    assert.deepEqual(tree.parseStat(`123 (a) b (c)) ${fields.join(' ')}`), { state: 'S', ppid: 42, start: '987654' });
  });
  it('reads the real uid of a status text', () => {
    assert.equal(tree.parseUid('Name:\tsleep\nUid:\t10002\t10002\t10002\t10002\nGid:\t0\n'), 10002);
  });
  it('reads this machine: this process is in the table with its parent (control)', () => {
    const found = tree.readProcessTable().get(process.pid);
    assert.equal(found.ppid, process.ppid);
    assert.equal(found.uid, process.getuid!());
  });
});

describe("a session's tree and the strays", () => {
  // 1 tini; 10 gateway; 20 server A with 21 (setsid'd) and 22 under 21; 30 server B; 40 reparented stray; 50 another user's; 60 a zombie.
  const now = table(p(1, 0, 0), p(10, 1), p(20, 10), p(21, 20), p(22, 21), p(30, 10), p(31, 30), p(40, 1), p(50, 1, 10001), p(60, 1, 10002, 'Z'));

  it('the tree of a server holds everything below it, whatever its group or session', () => {
    assert.deepEqual(tree.treeOf(now, 20).sort(), ['2000', '2100', '2200'].map((s, i) => `${[20, 21, 22][i]}:${s}`).sort());
    assert.deepEqual(tree.treeOf(now, 30).sort(), ['30:3000', '31:3100']);
    assert.deepEqual(tree.treeOf(now, 99), [], 'a server that is gone');
  });

  it('strays: our user, reparented to PID 1, noted by no live session; never the gateway, another user or a zombie', () => {
    assert.deepEqual(tree.strays(now, { uid: 10002, self: 10, noted: new Set() }), ['40:4000']);
  });

  it("never root's processes, whatever they look like", () => {
    assert.deepEqual(tree.strays(now, { uid: 0, self: 10, noted: new Set() }), []);
  });

  it("a live session's noted process is no stray (control)", () => {
    assert.deepEqual(tree.strays(now, { uid: 10002, self: 10, noted: new Set(['40:4000']) }), []);
  });

  it('a reused pid (another start time) is a stray even where the old one was noted', () => {
    assert.deepEqual(tree.strays(now, { uid: 10002, self: 10, noted: new Set(['40:1']) }), ['40:4000']);
  });
});

describe('killNoted: only the same process', () => {
  it('kills a noted live process, skips one whose start time changed', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise<string | null>((done) => child.once('exit', (_code, signal) => done(signal)));
    await new Promise((done) => child.once('spawn', done));
    const start = tree.readProcessTable().get(child.pid).start as string;
    assert.equal(tree.killNoted([`${child.pid}:${Number(start) + 1}`]), 0, 'a different start time: not the noted process');
    assert.equal(tree.killNoted([`${child.pid}:${start}`, '999999999:1']), 1);
    assert.equal(await exited, 'SIGKILL');
  });

  it('reads the start time from the given /proc root', () => {
    const root = mkdtempSync(join(tmpdir(), 'mcps-proc-'));
    try {
      mkdirSync(join(root, '77'));
      writeFileSync(join(root, '77', 'stat'), `77 (x) Z 1 ${Array.from({ length: 18 }, () => '0').join(' ')} 5 0`);
      assert.equal(tree.killNoted(['77:5'], root), 0, 'a zombie is not signalled');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
