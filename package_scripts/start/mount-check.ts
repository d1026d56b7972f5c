import { statSync } from 'node:fs';
import { formatCommand, type DockerEngine } from '../docker/engine.js';
import { DockerError, StateError } from '../errors.js';
import { bindArgs } from '../sandbox/docker-run.js';
import type { Mount } from '../settings/mounts.js';

/** The MCP server's user in the image (docker/common/build/setup-os). */
export const MCP_UID = 10002;
const TARGET = '/mcp-sandbox-write-check';
const WRITE_REFUSED = 3;

/**
 * A writable mount is checked for real, not by reasoning about modes: a
 * short-lived container of the instance's own image, as uid 10002, without
 * network or capability, creates and removes a file in the folder (or, for a
 * file, asks the kernel whether it may write it). ACLs, root squash, rootless
 * user namespaces and read-only file systems all answer as they will for the server.
 */
export function writeCheckArgs(image: string, mount: Mount): string[] {
  // Exit 3 means "cannot write"; any other failure is the engine's (the image, the mount) and reported as such.
  const script = `if [ -d ${TARGET} ]; then f=${TARGET}/.mcp-sandbox-write-check-$$; (: >"$f") && rm -f "$f" || exit 3; else [ -w ${TARGET} ] || exit 3; fi`;
  return [
    'run',
    '--rm',
    ...['--network', 'none'],
    '--read-only',
    ...['--cap-drop', 'ALL'],
    ...['--security-opt', 'no-new-privileges'],
    ...['--user', `${MCP_UID}:${MCP_UID}`],
    ...['--entrypoint', '/bin/sh'],
    ...bindArgs({ source: mount.hostPath, target: TARGET, readOnly: false }),
    image,
    ...['-c', script],
  ];
}

/** Owner and mode as this machine sees them, for the message (a remote engine's paths are not here). */
function describeHostFolder(path: string, local: boolean): string {
  if (!local) return '';
  try {
    const s = statSync(path);
    return ` (owner uid ${s.uid}, group ${s.gid}, mode ${(s.mode & 0o7777).toString(8)})`;
  } catch {
    return '';
  }
}

/** Every rw mount of MCP_MOUNTS must be writable by the server's user; the message says how to make it so. */
export async function checkWritableMounts(docker: DockerEngine, image: string, mounts: readonly Mount[], local: boolean): Promise<void> {
  for (const mount of mounts.filter((m) => !m.readOnly)) {
    const args = writeCheckArgs(image, mount);
    const result = await docker.run(args, { allowFailure: true });
    if (result.exitCode === 0) continue;
    if (result.exitCode !== WRITE_REFUSED)
      throw new DockerError(`Could not check whether uid ${MCP_UID} may write to ${mount.hostPath}`, formatCommand(args), result.stderr);
    throw new StateError(
      `MCP_MOUNTS: ${mount.hostPath} is mounted writable (rw) at ${mount.containerPath}, but the MCP server's user (uid ${MCP_UID}) cannot write there${describeHostFolder(mount.hostPath, local)}. ` +
        `Give it to that user: sudo chown -R ${MCP_UID}:${MCP_UID} ${mount.hostPath} (or grant it: sudo setfacl -m u:${MCP_UID}:rwx ${mount.hostPath}; or chmod o+w), ` +
        `or mount it read-only (drop :rw). For data only the server keeps, MCP_DATA needs no host folder`,
      `checked with: ${formatCommand(args)}${result.stderr.trim() ? `\n${result.stderr.trim()}` : ''}`,
    );
  }
}
