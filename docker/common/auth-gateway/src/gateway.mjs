// Assembles the auth gateway from its parts: the store, the limiters, the
// HTTP handler and the control socket. main.mjs runs it from the environment;
// the tests run it in-process with a temporary state folder and their own clock.
import http from 'node:http';
import { CimdClients } from './cimd.mjs';
import { trustedCas } from './cimd-fetch.mjs';
import { serveControl } from './control.mjs';
import { createHandler } from './handler.mjs';
import { RateLimiter } from './rate-limit.mjs';
import { resourceSource } from './resource.mjs';
import { Store } from './store.mjs';

const FIFTEEN_MINUTES = 15 * 60_000;

export function makeLogger(level, write = (line) => process.stdout.write(line)) {
  const info = level === 'none' ? () => {} : (line) => write(`[auth] ${line}\n`);
  return { info, debug: level === 'debug' ? info : () => {} };
}

/**
 * @param {ReturnType<typeof import('./config.mjs').parseConfig>} config
 * @param {{ now?: () => number, log?: ReturnType<typeof makeLogger>, host?: string }} [options]
 */
export async function startGateway(config, { now = Date.now, log = makeLogger(config.logLevel), host = '127.0.0.1' } = {}) {
  const store = new Store({
    dir: config.stateDir,
    ownerSecret: config.accessToken,
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
    consentLimiter: new RateLimiter({ perSource: 5, total: 20, windowMs: FIFTEEN_MINUTES, now }),
    registerLimiter: new RateLimiter({ perSource: 20, total: 200, windowMs: FIFTEEN_MINUTES, now }),
  };
  const server = http.createServer(createHandler(ctx));
  // nginx keeps upstream connections for reuse; streams through the proxy stay open as long as the client wants.
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 76_000;
  server.requestTimeout = 0;
  const control = await serveControl(config.controlSocket, {
    'revoke-all': () => {
      const count = store.revokeAll();
      log.info(`revoked all OAuth tokens and codes (${count}) at the owner's request`);
      return `revoked ${count} tokens`;
    },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, host, resolve);
  });
  const port = server.address().port;
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
        server.close(() => resolve());
      }),
  };
}
