/**
 * One MCP server process per session (session-gateway/src/server-process.mjs):
 * newline-delimited JSON-RPC on stdout, stderr lines and their tail, the exit
 * reported after the last stderr line, and stop() ending the whole process
 * group. Real child processes (node -e), no shell.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, gatewayModule } from '../container-module.js';

const { startServer } = await gatewayModule('server-process.mjs');

type Exit = { code: number | null; signal: string | null; error?: Error };
function run(script: string, env: Record<string, string | undefined> = { PATH: process.env.PATH }) {
  const seen = { messages: [] as any[], nonJson: [] as string[], stderr: [] as string[], exit: undefined as Exit | undefined };
  const server = startServer({
    command: process.execPath,
    args: ['-e', script],
    env,
    onMessage: (m: any) => seen.messages.push(m),
    onNonJson: (l: string) => seen.nonJson.push(l),
    onStderrLine: (l: string) => seen.stderr.push(l),
    onExit: (code: number | null, signal: string | null, error?: Error) => (seen.exit = { code, signal, error }),
  });
  return { server, seen, exited: () => eventually(() => seen.exit !== undefined, 10_000, 'the exit') };
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the MCP server process (server-process.mjs)', () => {
  it('stdout: JSON-RPC lines to onMessage, split across writes and with CRLF; other lines to onNonJson; blank lines ignored', async () => {
    const { seen, exited } = run(
      `process.stdout.write('{"jsonrpc":"2.0","id":1,'); setTimeout(() => { process.stdout.write('"result":{}}\\r\\n\\n  \\nnot json\\n{"jsonrpc":"2.0","method":"n"}\\n'); }, 50);`,
    );
    await exited();
    assert.deepEqual(seen.messages, [
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', method: 'n' },
    ]);
    assert.deepEqual(seen.nonJson, ['not json']);
    assert.deepEqual(seen.exit, { code: 0, signal: null, error: undefined });
  });

  it('send() writes one JSON line to stdin (an echo server answers it); false once the server exited', async () => {
    const { server, seen, exited } = run(
      `process.stdin.setEncoding('utf8'); process.stdin.once('data', (d) => { process.stdout.write(d); process.exit(0); });`,
    );
    assert.equal(server.send({ jsonrpc: '2.0', id: 'a', method: 'ping' }), true);
    await exited();
    assert.deepEqual(seen.messages, [{ jsonrpc: '2.0', id: 'a', method: 'ping' }]);
    assert.equal(server.send({ jsonrpc: '2.0', id: 'b', method: 'ping' }), false);
  });

  it('stderr: every line to onStderrLine, the last 20 kept, all of them there before the exit is reported', async () => {
    const { server, seen, exited } = run(`for (let i = 1; i <= 25; i++) console.error('line ' + i); process.exit(4);`);
    await exited();
    assert.equal(seen.stderr.length, 25);
    assert.deepEqual(
      server.stderrTail(),
      Array.from({ length: 20 }, (_, i) => `line ${i + 6}`),
    );
    assert.deepEqual(seen.exit, { code: 4, signal: null, error: undefined });
  });

  it('the environment is exactly the one given (nothing of the gateway process leaks)', async () => {
    const { seen, exited } = run(`console.log(JSON.stringify({ jsonrpc: '2.0', method: 'env', params: process.env }))`, {
      PATH: process.env.PATH,
      ONLY: 'this',
    });
    await exited();
    const env = seen.messages[0].params as Record<string, string>;
    assert.deepEqual(
      Object.keys(env).filter((k) => k !== 'PATH' && !k.startsWith('NODE_') && k !== '__CF_USER_TEXT_ENCODING'),
      ['ONLY'],
    );
  });

  it('a command that cannot start is reported once, with the spawn error', async () => {
    let exits = 0;
    let error: Error | undefined;
    startServer({
      command: '/nonexistent/mcp-server',
      args: [],
      env: {},
      onMessage: () => undefined,
      onNonJson: () => undefined,
      onStderrLine: () => undefined,
      onExit: (_c: unknown, _s: unknown, e?: Error) => {
        exits++;
        error = e;
      },
    });
    await eventually(() => exits > 0, 5000, 'the spawn error');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(exits, 1);
    assert.match(String(error?.message), /ENOENT/);
  });

  it('stop() ends the server and what it started in its group, and resolves once; a stopped server reports its signal', async () => {
    const { server, seen } = run(
      `const c = require('node:child_process').spawn('sleep', ['30'], { stdio: 'ignore' }); console.log(JSON.stringify({ jsonrpc: '2.0', method: 'child', params: { pid: c.pid } })); setInterval(() => {}, 1000);`,
    );
    await eventually(() => seen.messages.length > 0, 10_000, 'the child pid');
    const child = seen.messages[0].params.pid as number;
    assert.ok(alive(child) && alive(server.pid), 'both run before stop (control)');
    const first = server.stop();
    assert.equal(server.stop(), first, 'stop() twice is the same stop');
    await first;
    await eventually(() => seen.exit !== undefined, 5000, 'the exit report');
    assert.equal(seen.exit?.signal, 'SIGTERM');
    await eventually(() => !alive(child), 5000, 'the grandchild to end');
  });

  it('stop(): a server that ignores SIGTERM is killed after the grace period', async () => {
    const { server, seen } = run(`process.on('SIGTERM', () => {}); console.log('{"jsonrpc":"2.0","method":"ready"}'); setInterval(() => {}, 1000);`);
    await eventually(() => seen.messages.length > 0, 10_000, 'the server to be ready');
    const started = Date.now();
    await server.stop();
    await eventually(() => seen.exit !== undefined, 5000, 'the exit report');
    assert.equal(seen.exit?.signal, 'SIGKILL');
    assert.ok(Date.now() - started >= 2900, 'after the grace period');
  });
});
