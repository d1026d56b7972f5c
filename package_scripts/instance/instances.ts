import { LABEL_INSTANCE, LABEL_TEMPLATE, GATEWAY_PORT } from '../docker/names.js';
import type { RemoteHost } from '../docker/target.js';
import { dialHost, remoteReach, urlSource } from './endpoint.js';

/** One instance as `npm run status` shows it. */
export interface InstanceStatus {
  name: string;
  template: string;
  /** healthy, unhealthy, starting (Docker's health check) or the container state when it has none (exited, created...). */
  health: string;
  state: string;
  /** Seconds since the container started; undefined when it is not running. */
  uptimeSeconds?: number;
  restarts: number;
  /** The endpoint; undefined while a tunnel has not reported it yet or nothing is published. */
  url?: string;
  image: string;
  container: string;
  /** Tools withheld by the pins, such as "2 tools changed since pinned" (instance/tool-pins.ts); undefined when none. */
  toolPins?: string;
  /** `status --probe`: one MCP round trip on the internal path. */
  probe?: { ok: boolean; summary: string; tools?: string[]; ms?: number; serverLines?: readonly string[] };
}

/** The part of `docker container inspect` read here (Docker and Podman agree on these fields). */
export interface ContainerInspect {
  Name: string;
  RestartCount?: number;
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  State?: { Status?: string; Running?: boolean; StartedAt?: string; Health?: { Status?: string } | null };
  NetworkSettings?: { Ports?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null };
}

/** The published URL, from the container's own port binding (not from .env, which may have changed since). */
export function publishedUrl(inspect: ContainerInspect, remote?: RemoteHost): string | undefined {
  const binding = inspect.NetworkSettings?.Ports?.[`${GATEWAY_PORT}/tcp`]?.[0];
  if (!binding?.HostPort) return undefined;
  // On another machine: its name, or this machine's loopback through `ssh -L` when it publishes on its own loopback.
  if (remote) return remoteReach(binding.HostIp ?? '', Number(binding.HostPort), remote).url;
  return `https://${dialHost(binding.HostIp ?? '')}:${binding.HostPort}/mcp`;
}

/**
 * From inspect output to a status row. tunnelUrls holds what tunnel containers
 * wrote to their URL file (read separately, with docker exec).
 */
export function instanceStatus(
  inspect: ContainerInspect,
  now: Date,
  tunnelUrls: Readonly<Record<string, string | undefined>> = {},
  remote?: RemoteHost,
): InstanceStatus {
  const labels = inspect.Config?.Labels ?? {};
  const container = inspect.Name.replace(/^\//, '');
  const name = labels[LABEL_INSTANCE] || container;
  const template = labels[LABEL_TEMPLATE] || 'unknown';
  const state = inspect.State?.Status ?? 'unknown';
  const running = inspect.State?.Running ?? state === 'running';
  const health = running ? inspect.State?.Health?.Status || state : state;
  const started = inspect.State?.StartedAt ? Date.parse(inspect.State.StartedAt) : NaN;
  const uptimeSeconds = running && Number.isFinite(started) ? Math.max(0, Math.floor((now.getTime() - started) / 1000)) : undefined;
  const url = urlSource(template).kind === 'tunnel-file' ? tunnelUrls[container] : publishedUrl(inspect, remote);
  return {
    name,
    template,
    health,
    state,
    ...(uptimeSeconds === undefined ? {} : { uptimeSeconds }),
    restarts: inspect.RestartCount ?? 0,
    ...(url === undefined ? {} : { url }),
    image: inspect.Config?.Image ?? '',
    container,
  };
}

export function formatDuration(seconds: number): string {
  const units: Array<[string, number]> = [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0 || (unit === 's' && parts.length === 0)) parts.push(`${count}${unit}`);
    rest -= count * size;
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** A plain table (no colour): one line per instance, sorted by name. */
export function formatStatusTable(rows: readonly InstanceStatus[]): string {
  const probed = rows.some((r) => r.probe);
  const pinned = rows.some((r) => r.toolPins);
  const header = ['NAME', 'TEMPLATE', 'HEALTH', 'UPTIME', 'RESTARTS', 'URL', 'IMAGE', ...(pinned ? ['TOOLS'] : []), ...(probed ? ['MCP'] : [])];
  const cells = [...rows]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((r) => [
      r.name,
      r.template,
      r.health,
      r.uptimeSeconds === undefined ? '-' : formatDuration(r.uptimeSeconds),
      String(r.restarts),
      r.url ?? (urlSource(r.template).kind === 'tunnel-file' && r.state === 'running' ? '(tunnel connecting)' : '-'),
      r.image,
      ...(pinned ? [r.toolPins ?? '-'] : []),
      ...(probed ? [r.probe?.summary ?? '-'] : []),
    ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [header, ...cells].map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}
