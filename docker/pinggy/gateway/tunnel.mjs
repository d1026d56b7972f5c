// @ts-check
// Pinggy gateway: keeps one OpenSSH session (session.mjs) with a reverse
// forward to the session gateway, reconnecting with backoff (see superviseTunnel).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { RUN_DIR, log, maskSecrets, publishUrl, readConfig, superviseTunnel } from '/opt/sandbox/js/tunnel.mjs';
import { pinggySession, trustedKeyMessage } from './session.mjs';

const dir = `${RUN_DIR}/gateway`;
/** @type {import('./session.mjs').PinggyConfig} */
const config = readConfig();
/** @type {import('./session.mjs').SshProcess | undefined} */
let current;

let keyLogged = false;
function logTrustedKey() {
  if (keyLogged) return;
  keyLogged = true;
  let knownHosts = '';
  try {
    knownHosts = readFileSync(config.knownHostsFile ?? `${dir}/known_hosts`, 'utf8');
  } catch {
    // ssh could not write it: nothing to show
  }
  const message = trustedKeyMessage(knownHosts, config.keptInVolume);
  if (message) log(message);
}

const runSession = () =>
  pinggySession({
    spawn: (command, args, options) => spawn(command, args, options),
    dir,
    config,
    log,
    publishUrl,
    maskSecrets,
    trustedKeyNoted: logTrustedKey,
    onChild: (child) => (current = child),
  });

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    current?.kill('SIGTERM');
    process.exit(0);
  });
}

log(`connecting to ${config.server}:${config.port}`);
await superviseTunnel({ name: 'pinggy', retries: config.retries, connect: runSession });
