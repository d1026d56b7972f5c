// @ts-check
// The session gateway's entry (/opt/session-gateway/entry.mjs): prove that this
// process is "warden" with CAP_SETUID and CAP_SETGID alone and non-dumpable
// (privileges.mjs), then load the gateway. Static imports run first, so the
// gateway's bundle is imported dynamically, after the check.
import { checkPrivileges } from './privileges.mjs';

try {
  checkPrivileges();
} catch (error) {
  console.error(`[gateway] error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(78);
}
// @ts-expect-error gateway.mjs is the bundle of main.mjs, made beside this file at build time (../bundle)
await import('./gateway.mjs');
