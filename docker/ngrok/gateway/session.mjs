// @ts-check
// One ngrok session, as superviseTunnel wants it: resolves when the session
// ends, with { established, permanent, reason }. The SDK reconnects a dropped
// session by itself; a session that stays down longer than `graceMs` ends.
// tunnel.mjs passes the SDK and the shared tunnel helpers (image paths); the
// fast tests pass fakes (test/unit/tunnel-sessions.test.ts).
import { classifyError } from './forward-options.cjs';

/**
 * @typedef {{ url: () => string | null, close: () => Promise<unknown> }} Listener
 * @typedef {{ established: boolean, permanent?: string, reason: string }} SessionOutcome
 */

/**
 * @param {{
 *   forward: (options: Record<string, unknown>) => Promise<Listener>,
 *   options: Record<string, unknown>,
 *   secrets: Array<string | undefined>,
 *   graceMs: number,
 *   log: (message: string) => void,
 *   publishUrl: (url: string | null) => void,
 *   maskSecrets: (line: string, secrets: Array<string | undefined>) => string,
 * }} deps
 * @returns {Promise<SessionOutcome>}
 */
export function ngrokSession({ forward, options, secrets, graceMs, log, publishUrl, maskSecrets }) {
  return new Promise((resolve) => {
    /** @type {Listener | undefined} */
    let listener;
    /** @type {NodeJS.Timeout | undefined} */
    let graceTimer;
    /** @param {SessionOutcome} outcome */
    const finish = (outcome) => {
      clearTimeout(graceTimer);
      listener?.close().catch(() => undefined);
      resolve(outcome);
    };
    /** @param {string} status */
    const onStatusChange = (status) => {
      // Before the first session exists, a failure is reported by forward() itself.
      if (!listener) return;
      if (status === 'closed') {
        log(`ngrok session lost; the SDK reconnects (giving up after ${graceMs / 1000} s)`);
        graceTimer = setTimeout(() => finish({ established: true, reason: 'the ngrok session did not come back' }), graceMs);
      } else if (status === 'connected') {
        clearTimeout(graceTimer);
        publishUrl(listener.url());
      }
    };
    forward({ ...options, onStatusChange })
      .then((opened) => {
        listener = opened;
        publishUrl(listener.url());
      })
      .catch((/** @type {any} */ error) => {
        const verdict = classifyError(error);
        const message = maskSecrets(String(error?.message ?? error), secrets);
        finish({ established: false, permanent: verdict.permanent ? `${verdict.hint} (${message})` : undefined, reason: message });
      });
  });
}
