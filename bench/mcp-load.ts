/**
 * Drives MCP sessions with the real SDK client: every call is a tools/call of
 * list_allowed_directories, timed with process.hrtime. Everything is bounded
 * in count and in time.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { summarize } from './stats.js';
import type { LoadSummary } from './types.js';

export const TOOL = 'list_allowed_directories';
const CALL_TIMEOUT_MS = 30_000;

export interface Session {
  call(): Promise<void>;
  close(): Promise<void>;
  /** The server process on this host, when there is one (direct stdio). */
  pid?: number;
}

export type Connect = () => Promise<Session>;

const clientInfo = { name: 'mcp-sandbox-bench', version: '1.0.0' };

async function callTool(client: Client): Promise<void> {
  const result = await client.callTool({ name: TOOL, arguments: {} }, undefined, { timeout: CALL_TIMEOUT_MS });
  const content = result.content as Array<{ type: string; text?: string }> | undefined;
  // A tool error or an empty answer must not be timed as a success.
  if (result.isError || !content?.[0]?.text) throw new Error(`${TOOL} answered without a result: ${JSON.stringify(result).slice(0, 200)}`);
}

/** The server as a child process of this one, over stdio. */
export function stdioConnector(command: string, args: string[]): Connect {
  return async () => {
    const transport = new StdioClientTransport({ command, args, stderr: 'ignore' });
    const client = new Client(clientInfo);
    await client.connect(transport);
    return { call: () => callTool(client), close: () => client.close(), pid: transport.pid ?? undefined };
  };
}

export interface HttpTarget {
  url: string;
  /** PEM certificate to trust (TLS checks stay on); absent for plain HTTP. */
  certificate?: string;
  token?: string;
}

/** undici's fetch with its own connection pool, trusting exactly `certificate` when given. */
export function fetchFor(target: Pick<HttpTarget, 'certificate'>): { fetch: typeof fetch; agent: Agent } {
  const agent = new Agent(target.certificate ? { connect: { ca: target.certificate } } : {});
  const fetchWithAgent = ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...init, dispatcher: agent } as never)) as unknown as typeof fetch;
  return { fetch: fetchWithAgent, agent };
}

/** One client per session, each with its own connections, as separate programs would have. */
export function httpConnector(target: HttpTarget): Connect {
  return async () => {
    const { fetch, agent } = fetchFor(target);
    const transport = new StreamableHTTPClientTransport(new URL(target.url), {
      fetch,
      requestInit: target.token ? { headers: { Authorization: `Bearer ${target.token}` } } : undefined,
    });
    const client = new Client(clientInfo);
    await client.connect(transport);
    return {
      call: () => callTool(client),
      close: async () => {
        // DELETE ends the session, so Supergateway stops that session's server process.
        if (transport.sessionId) await transport.terminateSession().catch(() => undefined);
        await client.close();
        await agent.close();
      },
    };
  };
}

export interface Phase {
  callsPerSession: number;
  /** Untimed calls per session first (JIT, connection set-up). */
  warmupCalls: number;
  /** No new call starts after this many milliseconds. */
  maxMs: number;
}

const elapsedMs = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/**
 * Every session makes its calls one after another; the sessions run side by
 * side. `serverCpuMs`, when given, reads the serving side's CPU time; it is
 * read just before and just after the timed calls (outside their clock).
 */
export async function runPhase(sessions: readonly Session[], phase: Phase, serverCpuMs?: () => Promise<number>): Promise<LoadSummary> {
  for (const session of sessions) {
    for (let i = 0; i < phase.warmupCalls; i += 1) await session.call();
  }
  const latencies: number[] = [];
  let errors = 0;
  const serverBefore = await serverCpuMs?.();
  const clientBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(phase.maxMs * 1e6));
  await Promise.all(
    sessions.map(async (session) => {
      for (let i = 0; i < phase.callsPerSession && process.hrtime.bigint() < deadline; i += 1) {
        const callStart = process.hrtime.bigint();
        try {
          await session.call();
          latencies.push(elapsedMs(callStart));
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const wallMs = elapsedMs(start);
  const client = process.cpuUsage(clientBefore);
  const serverAfter = serverBefore === undefined ? undefined : await serverCpuMs?.();
  const summary = summarize(latencies, wallMs, sessions.length, errors);
  const perCall = (ms: number) => (latencies.length > 0 ? ms / latencies.length : Number.NaN);
  summary.clientCpuMsPerCall = perCall((client.user + client.system) / 1000);
  if (serverBefore !== undefined && serverAfter !== undefined) summary.serverCpuMsPerCall = perCall(serverAfter - serverBefore);
  return summary;
}

/** Open `count` sessions side by side (each one is a new server process behind a stateful gateway). */
export async function openSessions(connect: Connect, count: number): Promise<Session[]> {
  const settled = await Promise.allSettled(Array.from({ length: count }, () => connect()));
  const sessions = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    await closeAll(sessions);
    throw new Error(`could not open ${count} sessions: ${String(failure.reason)}`);
  }
  return sessions;
}

export async function closeAll(sessions: readonly Session[]): Promise<void> {
  await Promise.allSettled(sessions.map((s) => s.close()));
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo },
});

/**
 * Poll with a raw initialize until one succeeds; returns the wall-clock time
 * (Date.now()) of the first success. The session it opened is deleted again.
 */
export async function waitForFirstInitialize(target: HttpTarget, maxMs: number): Promise<number> {
  const { fetch, agent } = fetchFor(target);
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
  if (target.token) headers.Authorization = `Bearer ${target.token}`;
  const deadline = Date.now() + maxMs;
  let lastProblem = 'no attempt';
  try {
    while (Date.now() < deadline) {
      try {
        const response = await fetch(target.url, { method: 'POST', headers, body: INITIALIZE, signal: AbortSignal.timeout(15_000) });
        const text = await response.text();
        if (response.ok && text.includes('"protocolVersion"')) {
          const doneAt = Date.now();
          const sessionId = response.headers.get('mcp-session-id');
          if (sessionId) {
            await fetch(target.url, { method: 'DELETE', headers: { ...headers, 'Mcp-Session-Id': sessionId } }).catch(() => undefined);
          }
          return doneAt;
        }
        lastProblem = `HTTP ${response.status}`;
      } catch (error) {
        lastProblem = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await agent.close();
  }
  throw new Error(`no successful initialize at ${target.url} within ${maxMs} ms (last: ${lastProblem})`);
}
