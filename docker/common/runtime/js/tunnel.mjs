// @ts-check
// Shared by the tunnel gateways (ngrok, pinggy); runs as "gateway" with no
// capability. Plain Node, no dependencies.
import { readFileSync, writeFileSync } from 'node:fs';

export const RUN_DIR = '/run/sandbox';
/** The tunnel's settings, written by the template's prepare step (0600, owned by "gateway"). */
export const CONFIG_FILE = `${RUN_DIR}/gateway/tunnel.json`;
/**
 * Public and readable by anyone in the container: the CLI reads it with
 * `docker exec` (root there has no DAC_OVERRIDE), and the health check needs it.
 * Empty while the tunnel is down.
 */
export const PUBLIC_URL_FILE = `${RUN_DIR}/public-url`;

export function readConfig(file = CONFIG_FILE) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Seconds to wait before attempt number `attempt` (1-based): 1, 2, 4, ... capped at 30. */
export function backoffSeconds(attempt) {
  return Math.min(30, 2 ** Math.max(0, attempt - 1));
}

/** Replace every secret in a line of agent output, so nothing secret reaches the log. */
export function maskSecrets(line, secrets) {
  let masked = line;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) masked = masked.split(secret).join('****');
  }
  return masked;
}

export function log(message) {
  process.stdout.write(`[gateway] ${message}\n`);
}

export function publishUrl(url) {
  writeFileSync(PUBLIC_URL_FILE, `${url}\n`);
  log(`public URL: ${url}`);
}

export function clearUrl() {
  writeFileSync(PUBLIC_URL_FILE, '');
}

export const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/**
 * Keep a tunnel up. `connect(attempt)` resolves when a session ends (after it
 * was established or not) with { established, permanent, reason }. Transient
 * failures are retried with backoff; after `retries` consecutive failures
 * without a session, or at once for a permanent one (rejected credentials, a
 * changed host key), the process exits 1 so that the container stops and
 * Docker's restart policy takes over. `exit`, `wait` and `down` are replaced
 * in unit tests only.
 */
export async function superviseTunnel({ name, retries, connect, exit = process.exit, wait = sleep, down = clearUrl }) {
  let failures = 0;
  for (;;) {
    const outcome = await connect(failures + 1);
    down();
    if (outcome.permanent) {
      log(`${name} refused the tunnel: ${outcome.permanent}`);
      return exit(1);
    }
    failures = outcome.established ? 1 : failures + 1;
    if (failures >= retries) {
      log(`${name}: ${failures} attempts in a row failed (last: ${outcome.reason}); giving up so the container restarts`);
      return exit(1);
    }
    const seconds = backoffSeconds(failures);
    log(`${name}: ${outcome.reason}; trying again in ${seconds} s (attempt ${failures + 1} of ${retries})`);
    await wait(seconds);
  }
}
