/**
 * MCP_DATA: the folder inside the container where the MCP server keeps data
 * that must survive stop, start and rebuilds. It is the mount point of the
 * named volume NAME-data (docker/names.ts), which the entrypoint hands to the
 * server's user the first time (docker/common/runtime/bin/entrypoint).
 */

/**
 * Folders of the image and the sandbox's own mounts: a volume over them would
 * hide or replace what the sandbox runs (and the entrypoint must never chown them).
 */
export const DATA_FORBIDDEN_ROOTS = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib64',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/sys',
  '/tmp',
  '/usr',
  '/var/lib/mcp-sandbox',
] as const;

/** Folders an MCP_DATA may not be an ancestor of, either: it would cover them. */
const COVERED = [...DATA_FORBIDDEN_ROOTS, '/var', '/var/lib'];

const within = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/** The message for a bad MCP_DATA, or undefined. Empty means no data folder. */
export function dataPathIssue(value: string): string | undefined {
  if (value === '') return undefined;
  if (!/^(\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/.test(value) || value.split('/').some((part) => part === '.' || part === '..')) {
    return `MCP_DATA must be an absolute folder inside the container such as /data (letters, digits, ".", "_", "-"; no "..", no trailing "/"), not '${value}'`;
  }
  const clash = DATA_FORBIDDEN_ROOTS.find((root) => within(value, root)) ?? COVERED.find((root) => within(root, value));
  if (clash) {
    return `MCP_DATA=${value} would cover ${clash}, which the image or the sandbox itself uses; choose a folder of its own such as /data or /srv/data`;
  }
  return undefined;
}
