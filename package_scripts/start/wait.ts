import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandContext } from '../context.js';
import { healthcheckArgs, readPublicUrlArgs, showLogsArgs, stateArgs } from '../docker/argv.js';
import { formatCommand, type DockerEngine } from '../docker/engine.js';
import { DockerError, NotServingError } from '../errors.js';
import type { Settings } from '../settings/load.js';
import { credentialFor, publishesPort } from '../templates/registry.js';
import { tunnelUrl } from '../instance/endpoint.js';
import { npmRun } from '../instance/env-file.js';
import type { ProbeOutcome } from '../mcp-probe.js';
import { probeEndpoint, probeInside, serverFailure } from '../instance/readiness.js';
import { explainServerFailure } from '../instance/server-error.js';
import type { ConnectionInfo } from './start-report.js';

/**
 * The pause between two looks of the waits below. Short: each look is itself a
 * `docker exec` or an MCP round trip (tens to hundreds of milliseconds), and
 * the pause is time `start -d` waits after the container is ready (issue 26:
 * 500 ms added up to half a second to every start).
 */
const POLL_MS = 100;

export function notServing(ctx: CommandContext, settings: Settings, message: string, serverLines: readonly string[]): NotServingError {
  return new NotServingError(
    message,
    serverLines,
    `Read the whole log with: ${npmRun('logs', ctx, settings)}\nFix the server's settings (MCP_SERVER_ARGS, MCP_MOUNTS, MCP_ENV, MCP_EGRESS), then start again; \`${npmRun('stop', ctx, settings)}\` removes it.`,
  );
}

/**
 * First wait: the image's own health check, run directly with `docker exec`
 * again and again (POLL_MS apart) rather than waiting for Docker's first scheduled check.
 * It passes once the gateway's self-check (one MCP round trip inside the
 * container) succeeded; when the server failed instead, it says so with the
 * server's own lines, and the wait ends at once.
 */
export async function waitUntilHealthy(
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
      if (failed) {
        const lines = await explainServerFailure(docker, name, failed.serverLines);
        throw notServing(ctx, settings, `${name} runs, but its MCP server failed: ${failed.reason}`, lines);
      }
      ctx.out.waiting(`Waiting for ${name} to become healthy`, (Date.now() - started) / 1000);
      await sleep(POLL_MS);
    }
  } finally {
    ctx.out.done();
  }
  const logs = await docker.run(showLogsArgs(name, { follow: false, tail: 30 }), { allowFailure: true });
  const tail = [logs.stdout, logs.stderr].filter(Boolean).join('\n');
  const what = last === 'running' ? `did not become healthy within ${timeoutSeconds} s` : `stopped before it became healthy (state: ${last || 'unknown'})`;
  throw new DockerError(`The container ${name} ${what}. Its last log lines are below; \`npm run stop\` removes it`, formatCommand(healthcheckArgs(name)), tail);
}

/**
 * Second wait: ready means a new client is served. One MCP round trip through
 * the endpoint a client uses: a published port's URL with TLS pinned to the saved
 * certificate and the token; a tunnel's public URL with its credential, or,
 * when that URL cannot be reached from this machine, the container's loopback.
 * Retried while the endpoint is not up yet; a failed server ends it at once.
 */
export async function waitUntilServed(
  ctx: CommandContext,
  docker: DockerEngine,
  settings: Settings,
  name: string,
  deadline: number,
  info: ConnectionInfo,
  remote = false,
): Promise<ProbeOutcome> {
  const viaEndpoint = ctx.probeEndpoint ?? ((target) => probeEndpoint(ctx.projectDir, target));
  const authorization = credentialFor(settings.template, { ACCESS_TOKEN: settings.accessToken, ...settings.gatewayEnv }).authorization;
  let outcome: ProbeOutcome;
  // Published on a remote machine's loopback: only the container's own loopback can be probed from here.
  let publicUnreachable = info.sshForward !== undefined;
  for (;;) {
    const timeoutSeconds = Math.max(1, (deadline - Date.now()) / 1000);
    if (publishesPort(settings.template) && !remote) {
      outcome = await viaEndpoint({ url: info.url, authorization, ...(info.fingerprint ? { fingerprint: info.fingerprint } : {}), timeoutSeconds });
    } else if (!publicUnreachable) {
      // A short try: a public URL (or a remote host's port) that does not answer from here is common (firewalls, test stand-ins).
      outcome = await viaEndpoint({
        url: info.url,
        authorization,
        ...(info.fingerprint ? { fingerprint: info.fingerprint } : {}),
        timeoutSeconds: Math.min(timeoutSeconds, 10),
      });
      if (!outcome.ok && outcome.serverLines.length === 0 && !outcome.httpAnswered) {
        publicUnreachable = true;
        ctx.out.note(`${info.url} did not answer from this machine (${outcome.error}); checking on the container's loopback instead`);
        continue;
      }
    } else {
      outcome = await probeInside(docker, name, timeoutSeconds);
    }
    if (outcome.ok || !outcome.retryable || Date.now() + POLL_MS >= deadline) break;
    await sleep(POLL_MS);
  }
  if (!outcome.ok) {
    const where = outcome.path === 'endpoint' ? info.url : `${name}'s internal endpoint`;
    const lines = await explainServerFailure(docker, name, outcome.serverLines);
    throw notServing(ctx, settings, `${name} runs, but an MCP client is not served at ${where}: ${outcome.error}`, lines);
  }
  return outcome;
}

/** The tunnel's MCP endpoint: the public URL its agent published (healthy means it did). */
export async function readTunnelUrl(docker: DockerEngine, container: string): Promise<string> {
  const published = (await docker.run(readPublicUrlArgs(container))).stdout;
  const url = tunnelUrl(published);
  if (!url) throw new DockerError(`${container} published no usable URL ('${published.trim()}')`, formatCommand(readPublicUrlArgs(container)));
  return url;
}
