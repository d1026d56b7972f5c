/**
 * Readiness is a real MCP round trip (initialize, notifications/initialized,
 * tools/list, DELETE), made by docker/common/runtime/js/mcp-probe.mjs: the same code
 * the container runs for its own self-check, loaded from the project here.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { probeInsideArgs } from '../docker/argv.js';
import type { DockerEngine } from '../docker/engine.js';
import type { EndpointProbeTarget, ProbeOutcome, ProbeResult } from '../mcp-probe.js';

interface ProbeModule {
  // A module's export: a plain function, not a method (it uses no `this`).
  probe: (options: { url: string; headers?: Record<string, string>; pin?: string; timeoutMs?: number }) => Promise<ProbeResult>;
}

export async function loadProbeModule(projectDir: string): Promise<ProbeModule> {
  return (await import(pathToFileURL(join(projectDir, 'docker', 'common', 'runtime', 'js', 'mcp-probe.mjs')).href)) as ProbeModule;
}

/** "14 tools (read_file, write_file, ...)" (mcp-probe.mjs words it the same way inside the container). */
export function describeProbe(result: ProbeResult, shown = 6): string {
  if (!result.toolsListed) return 'no tools (the server declares no tools capability)';
  const names = result.tools.slice(0, shown).join(', ');
  const more = result.tools.length > shown ? ', ...' : '';
  return `${result.tools.length} tool${result.tools.length === 1 ? '' : 's'}${names ? ` (${names}${more})` : ''}`;
}

/** Through the endpoint a client uses: TLS pinned to the saved certificate, the token. */
export async function probeEndpoint(projectDir: string, target: EndpointProbeTarget): Promise<ProbeOutcome> {
  const { probe } = await loadProbeModule(projectDir);
  try {
    const result = await probe({
      url: target.url,
      headers: { Authorization: target.authorization },
      ...(target.fingerprint ? { pin: target.fingerprint } : {}),
      timeoutMs: target.timeoutSeconds * 1000,
    });
    return { ok: true, path: 'endpoint', result, serverLines: [], retryable: false };
  } catch (error) {
    const e = error as { message: string; serverLines?: string[]; retryable?: boolean; status?: number };
    return {
      ok: false,
      path: 'endpoint',
      error: e.message,
      serverLines: e.serverLines ?? [],
      retryable: e.retryable ?? false,
      httpAnswered: typeof e.status === 'number',
    };
  }
}

/** The container's own loopback path (docker exec), for tunnels and `status --probe`. */
export async function probeInside(docker: DockerEngine, container: string, timeoutSeconds: number): Promise<ProbeOutcome> {
  const ran = await docker.run(probeInsideArgs(container, timeoutSeconds), { allowFailure: true });
  return parseProbeOutput(ran.stdout, ran.stderr);
}

/** /opt/sandbox/bin/mcp-probe prints one JSON line. */
export function parseProbeOutput(stdout: string, stderr = ''): ProbeOutcome {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as { ok: boolean; error?: string; serverLines?: string[]; retryable?: boolean } & Partial<ProbeResult>;
    if (parsed.ok) {
      const { ok: _ok, ...result } = parsed;
      return { ok: true, path: 'internal', result: result as ProbeResult, serverLines: [], retryable: false };
    }
    return {
      ok: false,
      path: 'internal',
      error: parsed.error ?? 'unknown failure',
      serverLines: parsed.serverLines ?? [],
      retryable: parsed.retryable ?? false,
    };
  } catch {
    return { ok: false, path: 'internal', error: (stderr || stdout).trim().split('\n')[0] || 'the probe printed nothing', serverLines: [], retryable: true };
  }
}

/**
 * The health check's words when the server itself failed (docker/common/runtime/bin/healthcheck
 * prints the gateway's /healthz body): the reason, then the server's lines prefixed "server: ".
 */
export function serverFailure(healthcheckOutput: string): { reason: string; serverLines: string[] } | undefined {
  const lines = healthcheckOutput.split('\n').map((l) => l.trimEnd());
  const reasonLine = lines.find((l) => l.includes('MCP server failed:'));
  if (!reasonLine) return undefined;
  return {
    reason: reasonLine.slice(reasonLine.indexOf('MCP server failed:') + 'MCP server failed:'.length).trim(),
    serverLines: lines.filter((l) => l.startsWith('server: ')).map((l) => l.slice('server: '.length)),
  };
}

/** The container's status as the CLI's own: Ctrl-C that stopped it cleanly is 0. */
export function attachedExitCode(containerStatus: number, interrupted: boolean): number {
  if (containerStatus === 0) return 0;
  return interrupted ? 130 : containerStatus;
}
