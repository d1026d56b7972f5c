// @ts-check
// ngrok gateway: one SDK session forwarding to the session gateway (port 8000)
// at a time (session.mjs); this program decides when to give up (see superviseTunnel).
import ngrok from '@ngrok/ngrok';
import { log, maskSecrets, publishUrl, readConfig, superviseTunnel } from '/opt/sandbox/js/tunnel.mjs';
import { forwardOptions } from './forward-options.cjs';
import { ngrokSession } from './session.mjs';

const config = readConfig();
const secrets = [config.authtoken, config.bearer, config.basicAuth];
// How long a dropped session may take to come back before the container restarts.
const RECONNECT_GRACE_SECONDS = 120;

const connect = () =>
  ngrokSession({
    forward: (options) => ngrok.forward(options),
    options: forwardOptions(config),
    secrets,
    graceMs: RECONNECT_GRACE_SECONDS * 1000,
    log,
    publishUrl,
    maskSecrets,
  });

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));

log(`connecting to ${config.serverAddr || 'ngrok'}`);
await superviseTunnel({ name: 'ngrok', retries: config.retries, connect });
