import type { CommandContext } from '../context.js';
import { createNetworkArgs, findContainerArgs, findNetworkArgs, imageExistsArgs, removeContainerArgs, showLogsArgs } from '../docker/argv.js';
import { engineEndpoint, formatCommand, type DockerEngine } from '../docker/engine.js';
import { instanceNames, type InstanceNames } from '../docker/names.js';
import { detectEngineKind, ensurePodmanSeccomp } from '../docker/podman.js';
import { engineOfKind } from '../engines/registry.js';
import { StateError } from '../errors.js';
import { launchSteps, type DockerInvocation } from '../sandbox/docker-run.js';
import { sandboxProfile } from '../sandbox/profile.js';
import type { Settings } from '../settings/load.js';
import { settingsReport } from '../settings/report.js';
import { publishesPort } from '../templates/registry.js';
import { withLocalCaCertificate } from '../tls/instance-certificate.js';
import { runAttached } from './attached.js';
import { saveServedCertificate } from './certificate.js';
import { connectionUrl, remoteReach } from '../instance/endpoint.js';
import { checkWritableMounts } from './mount-check.js';
import { oauthResourceUrl } from '../instance/oauth.js';
import { engineFor, type EngineOptions } from '../instance/engine-select.js';
import { refuseLocalPaths, remoteMountWarning, tlsHostnamesWithRemote } from '../instance/remote.js';
import { describeProbe } from '../instance/readiness.js';
import { removeServerEnv, writeServerEnv } from '../instance/server-env.js';
import { acceptPins, formatPinState, pendingSummary, readPinState } from '../instance/tool-pins.js';
import { credentialSource, readyReport, startWarnings, toolPolicyWarnings, type ConnectionInfo } from './start-report.js';
import { readTunnelUrl, waitUntilHealthy, waitUntilServed } from './wait.js';

/** How long `start -d` waits by default. */
export const DEFAULT_START_TIMEOUT_SECONDS = 90;

export interface StartInstanceOptions extends EngineOptions {
  detach: boolean;
  tag: string;
  dryRun: boolean;
  /** Seconds -d waits, counted from the container's start (health and the MCP round trip share it). */
  timeout: number;
  /** `up` on a terminal: tools withheld since pinned are shown with their diff and this asks once whether to accept them all. */
  confirmPins?: (question: string) => Promise<boolean>;
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

/** MCP_NETWORKS names networks that must exist already: the instance joins them, it never makes them. */
async function checkJoinedNetworks(docker: DockerEngine, networks: readonly string[]): Promise<void> {
  for (const network of networks) {
    const found = await docker.run(findNetworkArgs(network));
    if (found.stdout.trim() === '') {
      throw new StateError(
        `MCP_NETWORKS lists ${network}, which the engine does not have. Start the containers that make it (or: docker network create ${network}), or fix the name in MCP_NETWORKS`,
      );
    }
  }
}

/** The steps before the container starts (create, join networks); a failure removes the container it created. */
async function prepareContainer(docker: DockerEngine, container: string, steps: readonly DockerInvocation[]): Promise<void> {
  try {
    for (const step of steps) await docker.run(step.args, { env: step.env });
  } catch (error) {
    if (steps.length > 0) await docker.run(removeContainerArgs(container), { allowFailure: true });
    throw error;
  }
}

/**
 * Runs the instance's sandbox profile: attached (log on screen until Ctrl-C),
 * or detached and then waits until a new MCP client is served.
 */
export async function startInstance(ctx: CommandContext, loaded: Settings, options: StartInstanceOptions): Promise<ConnectionInfo | undefined> {
  const names = instanceNames(loaded.NAME, options.tag);
  const egress = loaded.MCP_EGRESS;
  const docker = engineFor(ctx, options, loaded, loaded.secrets);
  const { remote, address } = await engineEndpoint(docker);
  if (remote) refuseLocalPaths(loaded, address);
  // On a remote engine the certificate also names the remote host, which clients dial; it is made there
  // (the local CA's files are on this machine). Locally, a published port without CERT_FILE/KEY_FILE serves
  // the certificate the local CA signs on this machine, mounted like them.
  const published = publishesPort(loaded.template);
  const settings: Settings = remote
    ? published
      ? { ...loaded, gatewayEnv: { ...loaded.gatewayEnv, TLS_HOSTNAMES: tlsHostnamesWithRemote(loaded.gatewayEnv.TLS_HOSTNAMES, remote) } }
      : loaded
    : await withLocalCaCertificate(ctx, loaded, { dryRun: options.dryRun });
  const oauthResource = settings.AUTH === 'oauth' && published ? oauthResourceUrl(settings, remote) : undefined;
  const profile = sandboxProfile(settings, names, { detached: options.detach, egress, ...(oauthResource ? { oauthResource } : {}) });
  // The same lines with --dry-run as without (on stderr; the argv alone is data).
  for (const note of settingsReport(settings).notes) ctx.out.note(note);
  for (const warning of startWarnings(settings)) ctx.out.warn(warning);
  if (options.dryRun) {
    // Runs no docker command, so it cannot ask which engine answers: Docker's argv (Podman's differs, docs/GUIDE.md).
    for (const step of launchSteps(profile)) ctx.out.data(formatCommand(step.args, settings.secrets));
    return undefined;
  }
  const mountWarning = remote ? remoteMountWarning(settings, address) : undefined;
  if (mountWarning) ctx.out.warn(mountWarning);
  if (remote) ctx.out.info(`Engine: ${address} (another machine); the container runs there.`);

  // The argv differs a little by engine (engines/), and where the engine applies its own seccomp default, that is checked first.
  const engine = await detectEngineKind(docker);
  if (engineOfKind(engine).seccomp === 'engine-default') await ensurePodmanSeccomp(docker, profile.seccompProfile);
  const steps = launchSteps(profile, engine);
  const run = steps.at(-1)!;
  const image = await docker.run(imageExistsArgs(names.image), { allowFailure: true });
  if (image.exitCode !== 0) throw new StateError(`The image ${names.image} does not exist yet. Build it first: npm run build`);
  await checkWritableMounts(docker, names.image, settings.mounts, !remote);
  await checkJoinedNetworks(docker, profile.extraNetworks);
  if (await removeExisting(docker, names)) ctx.out.info(`Replaced the existing container ${names.container}.`);
  await ensureNetwork(docker, names, settings.NAME);
  await writeServerEnv(docker, profile, names.serverEnvVolume);

  if (!options.detach) {
    const endpoint = published ? connectionUrl(settings, remote) : 'the tunnel logs its public URL once connected';
    ctx.out.info(`Starting ${names.container} attached; Ctrl-C stops it. Endpoint: ${endpoint}`);
    try {
      await prepareContainer(docker, names.container, steps.slice(0, -1));
      await runAttached(docker, names.container, run);
    } finally {
      // The container removed itself (--rm): its variables go with it. A failure here is named but does not hide the
      // container's own outcome; the next start or stop removes the volume anyway.
      await removeServerEnv(docker, names.serverEnvVolume).catch((error: Error) => ctx.out.warn(`${error.message}; npm run stop removes it`));
    }
    return undefined;
  }

  await prepareContainer(docker, names.container, steps.slice(0, -1));
  await docker.run(run.args, { env: run.env });
  const deadline = Date.now() + options.timeout * 1000;
  await waitUntilHealthy(ctx, docker, settings, names.container, deadline, options.timeout);
  const info: ConnectionInfo = { url: '', credential: credentialSource(settings), ...(oauthResource ? { oauthResource } : {}) };
  if (published) {
    const { file, certificate } = await saveServedCertificate(docker, settings);
    const forward = remote ? remoteReach(settings.BIND_ADDRESS, settings.HOST_PORT, remote).sshForward : undefined;
    Object.assign(info, {
      url: connectionUrl(settings, remote),
      certificateFile: file,
      fingerprint: certificate.fingerprint256,
      ...(forward ? { sshForward: forward } : {}),
    });
  } else {
    info.url = await readTunnelUrl(docker, names.container);
  }
  const served = await waitUntilServed(ctx, docker, settings, names.container, deadline, info, remote !== undefined);
  info.ready = describeProbe(served.result!);
  ctx.out.success(`${names.container} is running and healthy.`);
  ctx.out.info(`Ready: ${info.ready}${served.path === 'internal' ? " (checked on the container's loopback)" : ''}`);
  if (settings.MCP_TOOLS.length + settings.MCP_TOOLS_DENY.length > 0) {
    // A typo in a deny list must not pass silently: the gateway logged it at the listing just made.
    const logs = await docker.run(showLogsArgs(names.container, { follow: false, tail: 500 }), { allowFailure: true });
    for (const warning of toolPolicyWarnings(`${logs.stdout}\n${logs.stderr}`)) ctx.out.warn(warning);
  }
  // Tools changed or new since pinned (an upgrade, or a rug pull) are withheld: the round trip just made listed them.
  const pins = await readPinState(docker, names.container);
  const withheld = pins && pendingSummary(pins);
  if (pins && withheld) {
    ctx.out.warn(`${withheld}: withheld until accepted. See what changed: npm run tools -- ${settings.NAME}; then --accept NAME... or --accept-all`);
    if (options.confirmPins) {
      ctx.out.data(formatPinState(settings.NAME, pins));
      if (await options.confirmPins(`Serve these ${Object.keys(pins.pending).length} tool definition(s) as they are now? (y/N)`)) {
        const accepted = await acceptPins(docker, names.container, 'all');
        ctx.out.success(`Pinned ${accepted.join(', ')}: served from the next tools/list.`);
      } else ctx.out.info('Left withheld.');
    }
  }
  ctx.out.info(readyReport(ctx, settings, info));
  return info;
}
