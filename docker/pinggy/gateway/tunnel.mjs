// Pinggy gateway: keeps one OpenSSH session with a reverse forward to
// the session gateway, reconnecting with backoff (see superviseTunnel).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { RUN_DIR, log, maskSecrets, publishUrl, readConfig, superviseTunnel } from '/opt/sandbox/lib/tunnel.mjs';
import { sshArgs, readSessionLine } from './ssh-config.cjs';

const dir = `${RUN_DIR}/gateway`;
const config = readConfig();
let current;

function runSession() {
  return new Promise((resolve) => {
    let established = false;
    let permanent;
    let lastLine = '';
    let httpsUrl = false;
    // ssh wants a home for ~/.ssh; everything it needs is named in the config.
    const child = spawn('ssh', sshArgs(`${dir}/ssh_config`), {
      env: { PATH: process.env.PATH, HOME: dir },
      // stdin stays an open pipe: the session never sees end-of-input.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    current = child;
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
        if (!config.pinned) logTrustedKey();
      } else if (seen.allocatedPort && !httpsUrl) {
        // A plain SSH server (not Pinggy) only allocates a port on its side.
        established = true;
        publishUrl(`http://${config.server}:${seen.allocatedPort}`);
        if (!config.pinned) logTrustedKey();
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
      current = undefined;
      const reason = `ssh exited (${signal ?? `code ${code}`})${lastLine ? `: ${lastLine}` : ''}`;
      resolve({ established, permanent: permanent ? `${permanent}` : undefined, reason });
    });
  });
}

let keyLogged = false;
function logTrustedKey() {
  if (keyLogged) return;
  keyLogged = true;
  let line = '';
  try {
    line =
      readFileSync(config.knownHostsFile ?? `${dir}/known_hosts`, 'utf8')
        .trim()
        .split('\n')
        .pop() ?? '';
  } catch {
    // ssh could not write it: nothing to show
  }
  const key = line.split(' ').slice(1).join(' ');
  const kept = config.keptInVolume ? " and kept in the instance's volume (a different key is refused from now on)" : '';
  if (key) log(`trusted the server's key on first use${kept}; to pin it, set PINGGY_HOST_KEY=${key}`);
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    current?.kill('SIGTERM');
    process.exit(0);
  });
}

log(`connecting to ${config.server}:${config.port}`);
await superviseTunnel({ name: 'pinggy', retries: config.retries, connect: runSession });
