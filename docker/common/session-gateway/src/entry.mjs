// @ts-check
// The session gateway's entry (/opt/session-gateway/entry.mjs): drop from root
// to "mcp" and check that this process is non-dumpable (drop-privileges.mjs),
// then load the gateway. Static imports run first, so the gateway's bundle is
// imported dynamically, after the drop: none of its code ever runs as root.
import { dropPrivileges } from './drop-privileges.mjs';

try {
  dropPrivileges();
} catch (error) {
  console.error(`[gateway] error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(78);
}
// @ts-expect-error gateway.mjs is the bundle of main.mjs, made beside this file at build time (../bundle)
await import('./gateway.mjs');
