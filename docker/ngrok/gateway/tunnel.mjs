// ngrok gateway: one SDK session forwarding to the session gateway (port 8000). The SDK
// reconnects a dropped session by itself; this program decides when to give up
// (see superviseTunnel).
import ngrok from '@ngrok/ngrok';
import { log, maskSecrets, publishUrl, readConfig, superviseTunnel } from '/opt/sandbox/js/tunnel.mjs';
import { classifyError, forwardOptions } from './forward-options.cjs';

const config = readConfig();
const secrets = [config.authtoken, config.bearer, config.basicAuth];
// How long a dropped session may take to come back before the container restarts.
const RECONNECT_GRACE_SECONDS = 120;

function connect() {
  return new Promise((resolve) => {
    let listener;
    let graceTimer;
    const finish = (outcome) => {
      clearTimeout(graceTimer);
      listener?.close().catch(() => undefined);
      resolve(outcome);
    };
    const onStatusChange = (status) => {
      // Before the first session exists, a failure is reported by forward() itself.
      if (!listener) return;
      if (status === 'closed') {
        log(`ngrok session lost; the SDK reconnects (giving up after ${RECONNECT_GRACE_SECONDS} s)`);
        graceTimer = setTimeout(() => finish({ established: true, reason: 'the ngrok session did not come back' }), RECONNECT_GRACE_SECONDS * 1000);
      } else if (status === 'connected') {
        clearTimeout(graceTimer);
        if (listener) publishUrl(listener.url());
      }
    };
    ngrok
      .forward({ ...forwardOptions(config), onStatusChange })
      .then((opened) => {
        listener = opened;
        publishUrl(listener.url());
      })
      .catch((error) => {
        const verdict = classifyError(error);
        const message = maskSecrets(String(error?.message ?? error), secrets);
        finish({ established: false, permanent: verdict.permanent ? `${verdict.hint} (${message})` : undefined, reason: message });
      });
  });
}

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));

log(`connecting to ${config.serverAddr || 'ngrok'}`);
await superviseTunnel({ name: 'ngrok', retries: config.retries, connect });
