// @ts-check
// One MCP server process per session, started without a shell in its own
// process group (so everything it spawns is stopped with it). stdout carries
// newline-delimited JSON-RPC; stderr lines are handed back one by one and the
// last few are kept, so that a server that dies can be explained by its own words.
import { spawn } from 'node:child_process';
import { asServerUser } from './privileges.mjs';

const STDERR_TAIL = 20;
const STOP_GRACE_MS = 3000;

/**
 * A started server, as a session holds it.
 * @typedef {{ pid: number | undefined, stderrTail: () => string[], send: (message: unknown) => boolean, stop: () => Promise<void> }} ServerProcess
 */

/**
 * @returns {ServerProcess}
 * @param {{command: string, args: string[], env: NodeJS.ProcessEnv, uid?: number, gid?: number,
 *   onMessage: (message: any) => void, onNonJson: (line: string) => void,
 *   onStderrLine: (line: string) => void, onExit: (code: number|null, signal: string|null, error?: Error) => void}} options
 */
export function startServer(options) {
  // uid and gid: the servers' user, when the gateway runs as its own (privileges.mjs).
  const identity = options.uid === undefined ? {} : { uid: options.uid, gid: options.gid };
  const child = spawn(options.command, options.args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...identity });
  /** @type {string[]} */
  const tail = [];
  let exited = false;
  /** @type {Promise<void> | undefined} */
  let stopping;

  const lines = (stream, onLine) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      let start = 0;
      let end;
      while ((end = chunk.indexOf('\n', start)) !== -1) {
        const line = rest + chunk.slice(start, end);
        rest = '';
        start = end + 1;
        onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      }
      rest += chunk.slice(start);
    });
    stream.on('error', () => {});
  };

  lines(child.stdout, (line) => {
    if (line.trim() === '') return;
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      options.onNonJson(line);
      return;
    }
    options.onMessage(message);
  });
  lines(child.stderr, (line) => {
    if (line.trim() === '') return;
    tail.push(line);
    if (tail.length > STDERR_TAIL) tail.shift();
    options.onStderrLine(line);
  });
  child.stdin.on('error', () => {});

  let reported = false;
  const report = (code, signal, error) => {
    exited = true;
    if (reported) return;
    reported = true;
    // Let the last stderr lines arrive before the exit is explained with them.
    setImmediate(() => options.onExit(code, signal, error));
  };
  child.on('error', (error) => report(null, null, error));
  child.on('exit', (code, signal) => report(code, signal));

  /** @param {NodeJS.Signals} signal */
  const signalGroup = (signal) => {
    // Without a pid the server never started: there is no group to signal.
    if (child.pid === undefined) return;
    const pid = child.pid;
    try {
      asServerUser(() => process.kill(-pid, signal));
    } catch {
      // ESRCH: the group is gone already.
    }
  };

  return {
    pid: child.pid,
    stderrTail: () => [...tail],
    send(message) {
      if (exited || !child.stdin.writable) return false;
      child.stdin.write(`${JSON.stringify(message)}\n`);
      return true;
    },
    /** SIGTERM to the whole group, SIGKILL after a grace period. */
    stop() {
      if (stopping) return stopping;
      stopping = new Promise(
        /** @param {(value?: void) => void} resolve */ (resolve) => {
          if (child.pid === undefined) return resolve();
          child.stdin.end();
          signalGroup('SIGTERM');
          const timer = setTimeout(() => {
            signalGroup('SIGKILL');
            resolve();
          }, STOP_GRACE_MS);
          timer.unref();
          const done = () => {
            clearTimeout(timer);
            // Descendants that outlived the leader get the same fate.
            signalGroup('SIGKILL');
            resolve();
          };
          if (exited) done();
          else child.once('exit', done);
        },
      );
      return stopping;
    },
  };
}
