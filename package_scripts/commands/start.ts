import { X509Certificate } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { CommandContext } from '../context.js';
import {
  createNetworkArgs,
  findContainerArgs,
  findNetworkArgs,
  healthcheckArgs,
  imageExistsArgs,
  readCertificateArgs,
  readPublicUrlArgs,
  removeContainerArgs,
  runArgs,
  showLogsArgs,
  stateArgs,
} from '../docker/argv.js';
import { formatCommand, type DockerEngine } from '../docker/engine.js';
import { instanceNames, type InstanceNames } from '../docker/names.js';
import { DockerError, NotServingError, parseOrThrow, UsageError } from '../errors.js';
import { credentialFor, tunnelUrl } from '../operator/endpoint.js';
import { attachedExitCode, describeProbe, probeEndpoint, probeInside, serverFailure, type ProbeOutcome } from '../operator/readiness.js';
import type { Settings } from '../settings/load.js';
import { describeUnknown } from '../settings/unknown.js';
import { npmRun, settingsFor, type EnvOptions } from './shared.js';

export const startOptionsSchema = z.object({
  detach: z.boolean().default(false),
  tag: z.string().default('latest'),
  dryRun: z.boolean().default(false),
  timeout: z.coerce.number({ message: '--timeout must be a number of seconds' }).positive('--timeout must be above 0').default(90),
});
export type StartOptions = z.input<typeof startOptionsSchema> & EnvOptions;

/** What a client needs, printed once the instance is healthy. */
export interface ConnectionInfo {
  url: string;
  /** Where the client finds its credential. */
  credential: string;
  /** nginx only: the self-signed certificate the client must trust. */
  certificateFile?: string;
  fingerprint?: string;
  /** What the readiness round trip found, e.g. "14 tools (read_file, ...)". */
  ready?: string;
}

/** Things the user chose that weaken the sandbox: said out loud every start. */
export function weakeningWarnings(settings: Settings): string[] {
  const warnings: string[] = [];
  if (settings.MCP_EGRESS === 'open') warnings.push('MCP_EGRESS=open: the MCP server may connect to any address, your local network included');
  if (settings.LOG_LEVEL === 'debug') warnings.push('LOG_LEVEL=debug: every JSON-RPC message, file contents included, goes to the container log');
  if (settings.template === 'nginx' && !['127.0.0.1', '::1'].includes(settings.BIND_ADDRESS)) {
    warnings.push(`BIND_ADDRESS=${settings.BIND_ADDRESS}: the server is reachable from other machines (still only with the token)`);
  }
  for (const mount of settings.mounts.filter((m) => !m.readOnly)) {
    warnings.push(`MCP_MOUNTS: ${mount.hostPath} is writable by the MCP server`);
  }
  if (settings.template === 'pinggy' && !settings.gatewayEnv.PINGGY_HOST_KEY) {
    warnings.push("PINGGY_HOST_KEY is not set: the server's SSH key is trusted on first use; the log shows the line to pin it");
  }
  if (settings.template === 'ngrok' && settings.gatewayEnv.NGROK_BASIC_AUTH) {
    warnings.push('NGROK_BASIC_AUTH replaces the bearer token check (both use the Authorization header): clients send user:password');
  }
  return warnings;
}

/** Which setting holds what a client must send (the same choice `connect` makes). */
export function credentialSource(settings: Settings): string {
  const { setting } = credentialFor(settings.template, { ACCESS_TOKEN: settings.accessToken, ...settings.gatewayEnv });
  const how = setting === 'NGROK_BASIC_AUTH' ? 'HTTP basic auth' : 'header: Authorization: Bearer <token>';
  return `${setting} in ${settings.envFile} (${how})`;
}

export function connectionUrl(settings: Settings): string {
  const host = ['0.0.0.0', '::'].includes(settings.BIND_ADDRESS)
    ? '127.0.0.1'
    : settings.BIND_ADDRESS.includes(':')
      ? `[${settings.BIND_ADDRESS}]`
      : settings.BIND_ADDRESS;
  return `https://${host}:${settings.HOST_PORT}/mcp`;
}

export function certificateFile(settings: Settings): string {
  return join(dirname(settings.envFile), '.mcp-sandbox', settings.NAME, 'cert.pem');
}

/** Host names in an MCP_EGRESS allowlist, for resolution on the host. */
export function egressHostNames(egress: string): string[] {
  if (egress === 'none' || egress === 'open') return [];
  const hosts = egress.split(',').map((entry) => entry.trim().split(':')[0]!.split('/')[0]!);
  return [...new Set(hosts.filter((host) => host !== '' && isIP(host) === 0))];
}

/**
 * The allowlist is enforced by address, so names are resolved once, here, and
 * pinned in the container; the server itself gets no DNS.
 */
async function resolveEgressHosts(egress: string): Promise<Record<string, string[]>> {
  const resolved: Record<string, string[]> = {};
  for (const host of egressHostNames(egress)) {
    try {
      resolved[host] = [...new Set((await lookup(host, { all: true, family: 4 })).map((a) => a.address))];
    } catch (error) {
      throw new UsageError(
        `MCP_EGRESS names ${host}, which does not resolve on this machine (${(error as NodeJS.ErrnoException).code}); fix the name or use an IPv4 address`,
      );
    }
  }
  return resolved;
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
 * First wait: the image's own health check, run directly with `docker exec`
 * every half second rather than waiting for Docker's first scheduled check.
 * It passes once the gateway's self-check (one MCP round trip inside the
 * container) succeeded; when the server failed instead, it says so with the
 * server's own lines, and the wait ends at once.
 */
async function waitUntilHealthy(
  ctx: CommandContext,
  docker: DockerEngine,
  settings: Settings,
  name: string,
  deadline: number,
  timeoutSeconds: number,
): Promise<void> {
  const started = Date.now();
  let last = '';
  try {
    while (Date.now() < deadline) {
      const state = await docker.run(stateArgs(name), { allowFailure: true });
      last = state.stdout.trim();
      if (state.exitCode !== 0 || last !== 'running') break;
      const probe = await docker.run(healthcheckArgs(name), { allowFailure: true });
      if (probe.exitCode === 0) return;
      const failed = serverFailure(`${probe.stdout}\n${probe.stderr}`);
      if (failed) throw notServing(ctx, settings, `${name} runs, but its MCP server failed: ${failed.reason}`, failed.serverLines);
      ctx.out.waiting?.(`Waiting for ${name} to become healthy`, (Date.now() - started) / 1000);
      await sleep(500);
    }
  } finally {
    ctx.out.done?.();
  }
  const logs = await docker.run(showLogsArgs(name, { follow: false, tail: 30 }), { allowFailure: true });
  const tail = [logs.stdout, logs.stderr].filter(Boolean).join('\n');
  const what = last === 'running' ? `did not become healthy within ${timeoutSeconds} s` : `stopped before it became healthy (state: ${last || 'unknown'})`;
  throw new DockerError(`The container ${name} ${what}. Its last log lines are below; \`npm run stop\` removes it`, formatCommand(healthcheckArgs(name)), tail);
}

function notServing(ctx: CommandContext, settings: Settings, message: string, serverLines: readonly string[]): NotServingError {
  return new NotServingError(
    message,
    serverLines,
    `Read the whole log with: ${npmRun('logs', ctx, settings)}\nFix the server's settings (MCP_SERVER_ARGS, MCP_MOUNTS, MCP_ENV, MCP_EGRESS), then start again; \`${npmRun('stop', ctx, settings)}\` removes it.`,
  );
}

/**
 * Second wait: ready means a new client is served. One MCP round trip through
 * the endpoint a client uses: nginx's URL with TLS pinned to the saved
 * certificate and the token; a tunnel's public URL with its credential, or,
 * when that URL cannot be reached from this machine, the container's loopback.
 * Retried while the endpoint is not up yet; a failed server ends it at once.
 */
async function waitUntilServed(
  ctx: CommandContext,
  docker: DockerEngine,
  settings: Settings,
  name: string,
  deadline: number,
  info: ConnectionInfo,
): Promise<ProbeOutcome> {
  const viaEndpoint = ctx.probeEndpoint ?? ((target) => probeEndpoint(ctx.projectDir, target));
  const authorization = credentialFor(settings.template, { ACCESS_TOKEN: settings.accessToken, ...settings.gatewayEnv }).authorization;
  let outcome: ProbeOutcome;
  let publicUnreachable = false;
  for (;;) {
    const timeoutSeconds = Math.max(1, (deadline - Date.now()) / 1000);
    if (settings.template === 'nginx') {
      outcome = await viaEndpoint({ url: info.url, authorization, ...(info.fingerprint ? { fingerprint: info.fingerprint } : {}), timeoutSeconds });
    } else if (!publicUnreachable) {
      // A short try: a public URL that does not answer from here is common (firewalls, test stand-ins).
      outcome = await viaEndpoint({ url: info.url, authorization, timeoutSeconds: Math.min(timeoutSeconds, 10) });
      if (!outcome.ok && outcome.serverLines.length === 0 && !outcome.httpAnswered) {
        publicUnreachable = true;
        ctx.out.note?.(`${info.url} did not answer from this machine (${outcome.error}); checking on the container's loopback instead`);
        continue;
      }
    } else {
      outcome = await probeInside(docker, name, timeoutSeconds);
    }
    if (outcome.ok || !outcome.retryable || Date.now() + 500 >= deadline) break;
    await sleep(500);
  }
  if (!outcome.ok) {
    const where = outcome.path === 'endpoint' ? info.url : `${name}'s internal endpoint`;
    throw notServing(ctx, settings, `${name} runs, but an MCP client is not served at ${where}: ${outcome.error}`, outcome.serverLines);
  }
  return outcome;
}

/** The certificate the instance serves, saved beside the env file where client configurations point (start and connect). */
export async function saveServedCertificate(docker: DockerEngine, settings: Settings): Promise<{ file: string; certificate: X509Certificate }> {
  const pem = (await docker.run(readCertificateArgs(settings.NAME))).stdout;
  const certificate = new X509Certificate(pem);
  const file = certificateFile(settings);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${pem.trim()}\n`);
  return { file, certificate };
}

async function saveCertificate(docker: DockerEngine, settings: Settings): Promise<{ certificateFile: string; fingerprint: string }> {
  const { file, certificate } = await saveServedCertificate(docker, settings);
  return { certificateFile: file, fingerprint: certificate.fingerprint256 };
}

/** The tunnel's MCP endpoint: the public URL its agent published (healthy means it did). */
async function readTunnelUrl(docker: DockerEngine, container: string): Promise<string> {
  const published = (await docker.run(readPublicUrlArgs(container))).stdout;
  const url = tunnelUrl(published);
  if (!url) throw new DockerError(`${container} published no usable URL ('${published.trim()}')`, formatCommand(readPublicUrlArgs(container)));
  return url;
}

export async function start(ctx: CommandContext, rawOptions: StartOptions): Promise<ConnectionInfo | undefined> {
  const options = parseOrThrow(startOptionsSchema, rawOptions);
  const settings = settingsFor(ctx, rawOptions);
  const names = instanceNames(settings.NAME, options.tag);
  const run = runArgs(settings, names, { detached: options.detach, egressHosts: await resolveEgressHosts(settings.MCP_EGRESS) });

  if (options.dryRun) {
    ctx.out.data(formatCommand(run.args, settings.secrets));
    return undefined;
  }
  for (const warning of weakeningWarnings(settings)) ctx.out.warn(warning);
  for (const unknown of settings.unknownSettings) ctx.out.warn(describeUnknown(unknown));
  if (settings.unusedSettings.length > 0) {
    ctx.out.warn(`TEMPLATE=${settings.template} does not use ${settings.unusedSettings.join(', ')}: ignored`);
  }

  const docker = ctx.docker(settings.secrets);
  const image = await docker.run(imageExistsArgs(names.image), { allowFailure: true });
  if (image.exitCode !== 0) {
    throw new UsageError(`The image ${names.image} does not exist yet. Build it first: npm run build`);
  }
  if (await removeExisting(docker, names)) ctx.out.info(`Replaced the existing container ${names.container}.`);
  await ensureNetwork(docker, names, settings.NAME);

  if (!options.detach) {
    const endpoint = settings.template === 'nginx' ? connectionUrl(settings) : 'the tunnel logs its public URL once connected';
    ctx.out.info(`Starting ${names.container} attached; Ctrl-C stops it. Endpoint: ${endpoint}`);
    let forward: (() => void) | undefined;
    let interrupted = false;
    let result;
    try {
      result = await docker.run(run.args, {
        env: run.env,
        inherit: true,
        allowFailure: true,
        onSpawn: (child) => {
          // The docker client passes the signal on to the container (tini), which stops cleanly.
          forward = () => {
            interrupted = true;
            child.kill('SIGINT');
          };
          process.on('SIGINT', forward);
          process.on('SIGTERM', forward);
        },
      });
    } finally {
      if (forward) {
        process.off('SIGINT', forward);
        process.off('SIGTERM', forward);
      }
    }
    // The container's status is the command's: a container that died is a failure.
    const code = attachedExitCode(result.exitCode, interrupted);
    if (code !== 0) {
      throw new NotServingError(
        interrupted
          ? `${names.container} was interrupted and exited with status ${result.exitCode}`
          : `${names.container} exited with status ${result.exitCode}; its log is above`,
        [],
        undefined,
        code,
      );
    }
    return undefined;
  }

  await docker.run(run.args, { env: run.env });
  // --timeout counts from the container's start: the health wait and the MCP round trip share it.
  const deadline = Date.now() + options.timeout * 1000;
  await waitUntilHealthy(ctx, docker, settings, names.container, deadline, options.timeout);
  const info: ConnectionInfo =
    settings.template === 'nginx'
      ? { url: connectionUrl(settings), credential: credentialSource(settings), ...(await saveCertificate(docker, settings)) }
      : { url: await readTunnelUrl(docker, names.container), credential: credentialSource(settings) };
  const served = await waitUntilServed(ctx, docker, settings, names.container, deadline, info);
  info.ready = describeProbe(served.result!);
  ctx.out.success(`${names.container} is running and healthy.`);
  ctx.out.info(`Ready: ${info.ready}${served.path === 'internal' ? " (checked on the container's loopback)" : ''}`);
  ctx.out.info(
    [
      `  URL:          ${info.url}`,
      `  Credential:   ${info.credential}`,
      ...(info.certificateFile
        ? [
            `  Certificate:  ${info.certificateFile}`,
            `  SHA-256:      ${info.fingerprint}`,
            settings.tlsFiles && !settings.tlsFiles.selfSigned
              ? `  From CERT_FILE, issued by ${settings.tlsFiles.issuer}: clients trust it through that CA`
              : `  Clients trust it with NODE_EXTRA_CA_CERTS=${info.certificateFile}`,
          ]
        : []),
      `  Next:         ${npmRun('connect', ctx, settings)}   (ready-to-paste client configurations)`,
      `  Stop it with: ${npmRun('stop', ctx, settings)}`,
    ].join('\n'),
  );
  return info;
}
