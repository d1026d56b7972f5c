import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';

export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface MountContext {
  /** Folder of the env file: relative host paths resolve against it. */
  baseDir: string;
  /** The project folder (this repository): never mounted whole. */
  projectDir: string;
  homeDir: string;
  /** Accept the dangerous host paths below (start --allow-dangerous-mounts). */
  allowDangerous: boolean;
}

const DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];
// Where the sandbox itself lives inside the container; a mount there would
// replace part of it.
const RESERVED_TARGETS = [
  '/',
  '/opt',
  '/opt/sandbox',
  '/opt/mcp-server',
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/etc',
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/tmp',
  '/var/lib/mcp-sandbox',
];

const within = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

const realOrSelf = (path: string) => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

/** Why a host path must not be mounted, or undefined when it may. */
export function dangerousHostPath(hostPath: string, ctx: Pick<MountContext, 'projectDir' | 'homeDir'>): string | undefined {
  const real = realOrSelf(hostPath);
  if (real === '/') return 'it is the whole host filesystem';
  for (const socket of DOCKER_SOCKETS) {
    if (within(realOrSelf(socket), real) || within(socket, real)) {
      return 'it is or contains the Docker socket, which gives root on the host';
    }
  }
  // A folder that contains the home or project folder exposes them as well.
  if (within(realOrSelf(ctx.homeDir), real)) return 'it is or contains your whole home folder (SSH keys, cloud credentials, browser profiles)';
  if (within(realOrSelf(ctx.projectDir), real)) return 'it is or contains the mcp-sandbox project folder, which holds .env and its secrets';
  return undefined;
}

/**
 * MCP_MOUNTS=host:container[:ro|rw],... Read-only unless "rw" is written.
 */
export function parseMounts(spec: string, ctx: MountContext): Mount[] {
  const mounts: Mount[] = [];
  for (const rawEntry of spec.split(',')) {
    const entry = rawEntry.trim();
    if (entry === '') continue;
    const parts = entry.split(':');
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
      throw new UsageError(`MCP_MOUNTS entry '${entry}' must be host:container or host:container:ro|rw`);
    }
    const [host, container, mode = 'ro'] = parts as [string, string, string?];
    if (mode !== 'ro' && mode !== 'rw') {
      throw new UsageError(`MCP_MOUNTS entry '${entry}': the mode must be ro or rw, not '${mode}'`);
    }
    if (!isAbsolute(container) || container.includes('..')) {
      throw new UsageError(`MCP_MOUNTS entry '${entry}': the container path must be absolute, such as /workspace`);
    }
    const target = container.replace(/\/+$/, '') || '/';
    if (target === '/' || RESERVED_TARGETS.some((reserved) => reserved !== '/' && within(target, reserved))) {
      throw new UsageError(`MCP_MOUNTS entry '${entry}': ${target} belongs to the sandbox; mount under another folder such as /workspace`);
    }
    const hostPath = resolve(ctx.baseDir, host.startsWith('~/') ? host.replace('~', ctx.homeDir) : host);
    if (!existsSync(hostPath)) {
      throw new UsageError(`MCP_MOUNTS entry '${entry}': ${hostPath} does not exist; create it or fix the path (relative paths start from the .env folder)`);
    }
    const danger = dangerousHostPath(hostPath, ctx);
    if (danger && !ctx.allowDangerous) {
      throw new UsageError(
        `MCP_MOUNTS entry '${entry}' is refused: ${danger}. Mount a narrower folder, or pass --allow-dangerous-mounts if you really mean it`,
      );
    }
    if (!statSync(hostPath).isDirectory() && !statSync(hostPath).isFile()) {
      throw new UsageError(`MCP_MOUNTS entry '${entry}': ${hostPath} is neither a folder nor a file`);
    }
    mounts.push({ hostPath, containerPath: target, readOnly: mode === 'ro' });
  }
  return mounts;
}
