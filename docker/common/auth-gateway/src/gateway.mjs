// @ts-check
// Assembles the auth gateway from its parts: the store, the limiters, the
// HTTP handler and the control socket. main.mjs runs it from the environment;
// the tests run it in-process with a temporary state folder and their own clock.
import http from 'node:http';
import { CimdClients } from './cimd.mjs';
import { trustedCas } from './cimd-fetch.mjs';
import { serveControl } from './control.mjs';
import { createHandler } from './handler.mjs';
import { ownerGuard } from './owner-guard.mjs';
import { RateLimiter } from './rate-limit.mjs';
import { resourceSource } from './resource.mjs';
import { Store } from './store.mjs';

const FIFTEEN_MINUTES = 15 * 60_000;
// The server faces the internet in tunnel mode: a request must arrive whole
// (headers and body) within REQUEST_DEADLINE_MS, and at most MAX_CONNECTIONS
// are open at once, so slow requests cannot hold the gateway (MCP traffic
// included). A request counts as arrived when its body has; the streams that
// follow (SSE answers) are not limited.
export const HEADERS_DEADLINE_MS = 10_000;
export const REQUEST_DEADLINE_MS = 20_000;
export const MAX_CONNECTIONS = 512;

/**
 * What the tokens are made under: a change of ACCESS_TOKEN or of
 * OAUTH_OWNER_PASSPHRASE drops them all at the next start (store.mjs keeps a
 * hash of this). Without a passphrase it is ACCESS_TOKEN alone, as before.
 */
export const ownerSecretOf = ({ accessToken, passphrase }) => (passphrase ? `${accessToken}\n${passphrase}` : accessToken);

export function makeLogger(level, write = (line) => process.stdout.write(line)) {
  const info = level === 'none' ? () => {} : (line) => write(`[auth] ${line}\n`);
  return { info, debug: level === 'debug' ? info : () => {} };
}

/**
 * @param {ReturnType<typeof import('./config.mjs').parseConfig>} config
 * @param {{ now?: () => number, log?: ReturnType<typeof makeLogger>, host?: string, deadlines?: { headersMs: number, requestMs: number, checkMs: number }, maxConnections?: number }} [options]
 *   deadlines and maxConnections: shorter ones for the tests
 */
export async function startGateway(
  config,
  {
    now = Date.now,
    log = makeLogger(config.logLevel),
    host = '127.0.0.1',
    deadlines = { headersMs: HEADERS_DEADLINE_MS, requestMs: REQUEST_DEADLINE_MS, checkMs: 1_000 },
    maxConnections = MAX_CONNECTIONS,
  } = {},
) {
  const store = new Store({
    dir: config.stateDir,
    ownerSecret: ownerSecretOf(config),
    accessTtl: config.accessTtl,
    refreshTtl: config.refreshTtl,
    now,
    log: log.info,
  });
  const ctx = {
    store,
    log,
    resource: resourceSource(config),
    accessToken: config.accessToken,
    passphrase: config.passphrase,
    upstream: config.upstream,
    cimd: new CimdClients({ allowance: config.cimdAllowance, ca: trustedCas(config.cimdCaFile), now, log: log.info }),
    ownerGuard: ownerGuard({
      accessToken: config.accessToken,
      passphrase: config.passphrase,
      limiter: new RateLimiter({ perSource: 5, total: 20, windowMs: FIFTEEN_MINUTES, now }),
    }),
    // Per source only, and only where sources differ: through a tunnel every request has the agent's address,
    // so any limit there would be one stranger's to fill for everyone. The store bounds what registrations hold.
    registerLimiter: config.upstream ? undefined : new RateLimiter({ perSource: 20, windowMs: FIFTEEN_MINUTES, now }),
  };
  const server = http.createServer({ connectionsCheckingInterval: deadlines.checkMs }, createHandler(ctx));
  // nginx keeps upstream connections for reuse (an idle one is closed after keepAliveTimeout, longer than nginx's 60 s);
  // streams through the proxy stay open as long as the client wants once the request has arrived.
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = deadlines.headersMs;
  server.requestTimeout = deadlines.requestMs;
  server.maxConnections = maxConnections;
  const control = await serveControl(config.controlSocket, {
    'revoke-all': () => {
      const count = store.revokeAll();
      log.info(`revoked all OAuth tokens and codes (${count}) at the owner's request`);
      return `revoked ${count} tokens`;
    },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, host, () => resolve(undefined));
  });
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  return {
    server,
    control,
    store,
    ctx,
    port,
    close: () =>
      new Promise((resolve) => {
        control.close();
        server.closeAllConnections?.();
        server.close(() => resolve(undefined));
      }),
  };
}
