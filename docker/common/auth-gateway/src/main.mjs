// @ts-check
// mcp-sandbox's auth gateway (AUTH=oauth): the OAuth 2.1 authorization server
// and resource server of this one instance, on 127.0.0.1:8001 as user
// "gateway". See docs/design/OAUTH.md. nginx asks it about every request
// without the static token (/.sandbox/introspect); a tunnel forwards everything
// to it, and it proxies authorized requests to the session gateway.
//
//   node main.mjs              serve
//   node main.mjs revoke-all   revoke every token and pending code of the running gateway
import { ConfigError, parseConfig } from './config.mjs';
import { sendControl } from './control.mjs';
import { makeLogger, startGateway } from './gateway.mjs';

/** @type {(message: string) => never} */
const fail = (message) => {
  console.error(`[auth] error: ${message}`);
  process.exit(78);
};

async function revokeAll() {
  const socket = process.env.AUTH_CONTROL_SOCKET || '/run/sandbox/gateway/auth-control.sock';
  try {
    console.log(await sendControl(socket, 'revoke-all'));
  } catch (error) {
    console.error(
      `[auth] error: the auth gateway is not running (no answer on ${socket}: ${error.code ?? error.message}); with AUTH=oauth, start the instance first`,
    );
    process.exit(1);
  }
}

async function serve() {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const log = makeLogger(config.logLevel);
  let gateway;
  try {
    gateway = await startGateway(config, { log });
  } catch (error) {
    fail(`could not start: ${error.message} (AUTH_PORT ${config.port}, AUTH_STATE_DIR ${config.stateDir}, AUTH_CONTROL_SOCKET ${config.controlSocket})`);
  }
  const where = config.resource ? `resource ${config.resource}` : `resource from ${config.resourceFile}`;
  log.info(`Listening on port ${gateway.port} (127.0.0.1): ${where}, ${config.upstream ? `proxying to ${config.upstream}` : 'introspection for nginx'}`);
  const stop = () => {
    void gateway.close();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const command = process.argv[2];
if (command === 'revoke-all') await revokeAll();
else if (command === undefined) await serve();
else {
  console.error(`[auth] error: unknown command '${command}' (use no argument to serve, or revoke-all)`);
  process.exit(2);
}
