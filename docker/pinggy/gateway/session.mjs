// @ts-check
// One OpenSSH session to Pinggy, as superviseTunnel wants it: resolves when
// ssh exits, with { established, permanent, reason }. ssh's output (secrets
// masked) is logged; the first URL it prints (or the port a plain SSH server
// allocates) is published. tunnel.mjs passes spawn and the shared tunnel
// helpers (image paths); the fast tests pass fakes (test/unit/tunnel-sessions.test.ts).
import { createInterface } from 'node:readline';
import { readSessionLine, sshArgs } from './ssh-config.cjs';

/**
 * The settings configure.mjs wrote (tunnel.json).
 * @typedef {{ server: string, port: number, pinned: boolean, knownHostsFile?: string, keptInVolume: boolean, retries: number, secrets: string[] }} PinggyConfig
 * @typedef {{ established: boolean, permanent?: string, reason: string }} SessionOutcome
 * @typedef {import('node:child_process').ChildProcessByStdio<import('node:stream').Writable, import('node:stream').Readable, import('node:stream').Readable>} SshProcess
 */

/**
 * The line that tells the owner how to pin the key ssh trusted on first use,
 * from the known_hosts text ssh wrote; undefined when it holds no key.
 * @param {string} knownHosts
 * @param {boolean} keptInVolume
 */
export function trustedKeyMessage(knownHosts, keptInVolume) {
  const line = knownHosts.trim().split('\n').pop() ?? '';
  const key = line.split(' ').slice(1).join(' ');
  const kept = keptInVolume ? " and kept in the instance's volume (a different key is refused from now on)" : '';
  return key ? `trusted the server's key on first use${kept}; to pin it, set PINGGY_HOST_KEY=${key}` : undefined;
}

/**
 * @param {{
 *   spawn: (command: string, args: string[], options: { env: NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] }) => SshProcess,
 *   dir: string,
 *   config: PinggyConfig,
 *   log: (message: string) => void,
 *   publishUrl: (url: string) => void,
 *   maskSecrets: (line: string, secrets: string[]) => string,
 *   trustedKeyNoted: () => void,
 *   onChild?: (child: SshProcess | undefined) => void,
 * }} deps
 * @returns {Promise<SessionOutcome>}
 */
export function pinggySession({ spawn, dir, config, log, publishUrl, maskSecrets, trustedKeyNoted, onChild = () => {} }) {
  return new Promise((resolve) => {
    let established = false;
    /** @type {string | undefined} */
    let permanent;
    let lastLine = '';
    let httpsUrl = false;
    // ssh wants a home for ~/.ssh; everything it needs is named in the config.
    const child = spawn('ssh', sshArgs(`${dir}/ssh_config`), {
      env: { PATH: process.env.PATH, HOME: dir },
      // stdin stays an open pipe: the session never sees end-of-input.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    onChild(child);
    /** @param {string} raw */
    const onLine = (raw) => {
      const line = maskSecrets(raw, config.secrets);
      if (line.trim()) {
        log(`ssh: ${line}`);
        lastLine = line.trim();
      }
      const seen = readSessionLine(line);
      if (seen.url && !httpsUrl) {
        httpsUrl = true;
        established = true;
        publishUrl(seen.url);
        if (!config.pinned) trustedKeyNoted();
      } else if (seen.allocatedPort && !httpsUrl) {
        // A plain SSH server (not Pinggy) only allocates a port on its side.
        established = true;
        publishUrl(`http://${config.server}:${seen.allocatedPort}`);
        if (!config.pinned) trustedKeyNoted();
      } else if (seen.permanent) {
        permanent = seen.permanent;
        if (config.keptInVolume && /host key|HOST IDENTIFICATION/i.test(seen.permanent)) {
          log(
            "the server's key differs from the one first seen, kept in the instance's volume NAME-tunnel. If Pinggy really changed its key: npm run stop, docker volume rm NAME-tunnel, start again (or pin the new key with PINGGY_HOST_KEY)",
          );
        }
      }
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.on('close', (code, signal) => {
      onChild(undefined);
      const reason = `ssh exited (${signal ?? `code ${code}`})${lastLine ? `: ${lastLine}` : ''}`;
      resolve({ established, permanent: permanent ? `${permanent}` : undefined, reason });
    });
  });
}
