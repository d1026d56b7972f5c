import type { CommandContext } from '../context.js';
import { createNetworkArgs, findContainerArgs, findNetworkArgs, imageExistsArgs, removeContainerArgs } from '../docker/argv.js';
import { formatCommand, type DockerEngine } from '../docker/engine.js';
import { instanceNames, type InstanceNames } from '../docker/names.js';
import { detectEngineKind, ensurePodmanSeccomp } from '../docker/podman.js';
import { StateError } from '../errors.js';
import { dockerRunArgs } from '../sandbox/docker-run.js';
import { sandboxProfile } from '../sandbox/profile.js';
import type { Settings } from '../settings/load.js';
import { withLocalCaCertificate } from '../tls/instance-certificate.js';
import { runAttached } from './attached.js';
import { saveServedCertificate } from './certificate.js';
import { resolveEgress } from './egress.js';
import { describeProbe } from './readiness.js';
import { connectionUrl, credentialSource, readyReport, startWarnings, type ConnectionInfo } from './start-report.js';
import { readTunnelUrl, waitUntilHealthy, waitUntilServed } from './wait.js';

/** How long `start -d` waits by default. */
export const DEFAULT_START_TIMEOUT_SECONDS = 90;

export interface StartInstanceOptions {
  detach: boolean;
  tag: string;
  dryRun: boolean;
  /** Seconds -d waits, counted from the container's start (health and the MCP round trip share it). */
  timeout: number;
}

async function removeExisting(docker: DockerEngine, names: InstanceNames): Promise<boolean> {
  const found = await docker.run(findContainerArgs(names.container));
  if (found.stdout.trim() === '') return false;
  await docker.run(removeContainerArgs(names.container));
  return true;
}

async function ensureNetwork(docker: DockerEngine, names: InstanceNames, instance: string): Promise<void> {
  const found = await docker.run(findNetworkArgs(names.network));
  if (found.stdout.trim() === '') await docker.run(createNetworkArgs(names.network, instance));
}

/**
 * Runs the instance's sandbox profile: attached (log on screen until Ctrl-C),
 * or detached and then waits until a new MCP client is served.
 */
export async function startInstance(ctx: CommandContext, given: Settings, options: StartInstanceOptions): Promise<ConnectionInfo | undefined> {
  // nginx without CERT_FILE/KEY_FILE: the certificate the local CA signs on this machine, mounted like them.
  const settings = await withLocalCaCertificate(ctx, given, { dryRun: options.dryRun });
  const names = instanceNames(settings.NAME, options.tag);
  const profile = sandboxProfile(settings, names, { detached: options.detach, egress: await resolveEgress(settings.MCP_EGRESS) });
  if (options.dryRun) {
    // Runs no docker command, so it cannot ask which engine answers: Docker's argv (Podman's differs, docs/GUIDE.md).
    ctx.out.data(formatCommand(dockerRunArgs(profile).args, settings.secrets));
    return undefined;
  }
  for (const warning of startWarnings(settings)) ctx.out.warn(warning);

  const docker = ctx.docker(settings.secrets);
  // The argv differs a little on Podman (docker/podman.ts), and its seccomp profile is checked first.
  const engine = await detectEngineKind(docker);
  if (engine === 'podman') await ensurePodmanSeccomp(docker, profile.seccompProfile);
  const run = dockerRunArgs(profile, engine);
  const image = await docker.run(imageExistsArgs(names.image), { allowFailure: true });
  if (image.exitCode !== 0) throw new StateError(`The image ${names.image} does not exist yet. Build it first: npm run build`);
  if (await removeExisting(docker, names)) ctx.out.info(`Replaced the existing container ${names.container}.`);
  await ensureNetwork(docker, names, settings.NAME);

  if (!options.detach) {
    const endpoint = settings.template === 'nginx' ? connectionUrl(settings) : 'the tunnel logs its public URL once connected';
    ctx.out.info(`Starting ${names.container} attached; Ctrl-C stops it. Endpoint: ${endpoint}`);
    await runAttached(docker, names.container, run);
    return undefined;
  }

  await docker.run(run.args, { env: run.env });
  const deadline = Date.now() + options.timeout * 1000;
  await waitUntilHealthy(ctx, docker, settings, names.container, deadline, options.timeout);
  const info: ConnectionInfo = { url: '', credential: credentialSource(settings) };
  if (settings.template === 'nginx') {
    const { file, certificate } = await saveServedCertificate(docker, settings);
    Object.assign(info, { url: connectionUrl(settings), certificateFile: file, fingerprint: certificate.fingerprint256 });
  } else {
    info.url = await readTunnelUrl(docker, names.container);
  }
  const served = await waitUntilServed(ctx, docker, settings, names.container, deadline, info);
  info.ready = describeProbe(served.result!);
  ctx.out.success(`${names.container} is running and healthy.`);
  ctx.out.info(`Ready: ${info.ready}${served.path === 'internal' ? " (checked on the container's loopback)" : ''}`);
  ctx.out.info(readyReport(ctx, settings, info));
  return info;
}
