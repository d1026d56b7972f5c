import { imageExistsArgs } from '../docker/argv.js';
import type { DockerEngine } from '../docker/engine.js';
import { certificateName, type RemoteHost } from '../docker/target.js';
import { UsageError } from '../errors.js';
import type { Settings } from '../settings/load.js';

/**
 * What changes when the engine runs on another machine (DOCKER_HOST=ssh://...,
 * or a context that points there): the build context travels, the container
 * runs there, and clients dial that machine instead of this one.
 */

/** The image the Dockerfile starts from. */
export function baseImage(settings: Pick<Settings, 'BASE_IMAGE' | 'NODE_VERSION'>): string {
  return settings.BASE_IMAGE || `node:${settings.NODE_VERSION}-bookworm-slim`;
}

/** How to copy an image from this machine's engine to the remote one, without a registry. */
export function loadCommand(image: string, address: string): string {
  return `docker save ${image} | docker -H ${address} load`;
}

/** A warning when the remote engine lacks the base image (a build there would have to pull it). */
export async function remoteBaseImageNote(docker: DockerEngine, settings: Settings, address: string): Promise<string | undefined> {
  const image = baseImage(settings);
  const found = await docker.run(imageExistsArgs(image), { allowFailure: true });
  if (found.exitCode === 0) return undefined;
  return `the remote engine has no ${image}: the build pulls it from its registry. Without a registry there, load it from this machine first: ${loadCommand(image, address)}`;
}

/**
 * CERT_FILE and KEY_FILE are read from this machine (checked, fingerprinted),
 * but a remote engine would mount whatever the remote has at those paths.
 */
export function refuseLocalPaths(settings: Settings, source: string): void {
  if (settings.tlsFiles) {
    throw new UsageError(
      `CERT_FILE and KEY_FILE are files on this machine, but the engine is remote (${source}): it cannot mount them. Leave both empty (the gateway makes a certificate naming the remote host), or use a local engine`,
    );
  }
}

/**
 * A bind mount names a path of the engine's machine: on a remote engine,
 * MCP_MOUNTS shares the remote's folders, while the checks (existence,
 * dangerous paths) could only look at this machine's. Said on every start.
 */
export function remoteMountWarning(settings: Settings, source: string): string | undefined {
  if (settings.mounts.length === 0) return undefined;
  const paths = settings.mounts.map((m) => m.hostPath).join(', ');
  return `MCP_MOUNTS: the engine is remote (${source}), so Docker mounts the remote machine's ${paths}; they were checked on this machine only. Make sure those paths on the remote hold only what the server may see`;
}

/** TLS_HOSTNAMES with the remote host's name added, so that the certificate names what clients dial. */
export function tlsHostnamesWithRemote(current: string | undefined, remote: RemoteHost): string {
  const entries = (current ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const name = certificateName(remote);
  if (!entries.some((e) => e.toLowerCase() === name.toLowerCase())) entries.push(name);
  return entries.join(',');
}
