// @ts-check
// The control socket: a Unix socket in a folder only "gateway" can enter, so
// `docker exec -u gateway ... main.mjs revoke-all` reaches the running process
// and nobody else does. One line in, one line out.
import { existsSync, mkdirSync, unlinkSync, chmodSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';

/** Serve `commands` (name -> () => reply line) on `path`; resolves with the server once listening. */
export function serveControl(path, commands) {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // A socket left by a process that died would make listen fail with EADDRINUSE.
  if (existsSync(path)) unlinkSync(path);
  const server = net.createServer((socket) => {
    let input = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      input += chunk;
      if (input.length > 256) return socket.destroy();
      const end = input.indexOf('\n');
      if (end < 0) return;
      const command = commands[input.slice(0, end).trim()];
      try {
        socket.end(command ? `${command()}\n` : 'error: unknown command\n');
      } catch (error) {
        socket.end(`error: ${error.message}\n`);
      }
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      chmodSync(path, 0o600);
      resolve(server);
    });
  });
}

/** Send one command; resolves with the reply line, rejects when nothing listens. */
export function sendControl(path, command, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(path);
    let reply = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('no answer from the auth gateway')));
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (chunk) => (reply += chunk));
    socket.on('end', () => resolve(reply.trim()));
    socket.on('error', reject);
  });
}
