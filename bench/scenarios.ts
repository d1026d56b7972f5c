/** The four ways to reach the same server, each measured the same way. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { SUPERGATEWAY_PORT, guideRunArgs, memUsageArgs, removeContainerArgs, startedAtArgs, supergatewayAloneRunArgs, type BenchNames } from './docker-args.js';
import { rawOAuth } from '../test/e2e/oauth-client.js';
import {
  closeAll,
  fetchFor,
  httpConnector,
  openSessions,
  runPhase,
  stdioConnector,
  waitForFirstInitialize,
  type Connect,
  type HttpTarget,
  type Phase,
  type Session,
} from './mcp-load.js';
import { cli, docker, dockerQuiet, parseStartedAt } from './run.js';
import { parseMemUsage } from './stats.js';
import type { LoadSummary, ScenarioResult } from './types.js';

export interface LoadPlan {
  sessions: number;
  sequential: Phase;
  concurrent: Phase;
  coldStartMaxMs: number;
}

interface Measured {
  sequential: LoadSummary;
  concurrent: LoadSummary;
  memory: ScenarioResult['memory'];
}

/** One session alone (sequential), then `sessions` side by side (concurrent); memory after each. */
async function measureLoad(
  connect: Connect,
  plan: LoadPlan,
  memory: { source: string; read: (open: readonly Session[]) => Promise<number> },
): Promise<Measured> {
  const open: Session[] = [await connect()];
  try {
    const sequential = await runPhase(open, plan.sequential);
    const oneSessionBytes = await memory.read(open);
    open.push(...(await openSessions(connect, plan.sessions - 1)));
    const concurrent = await runPhase(open, plan.concurrent);
    const allSessionsBytes = await memory.read(open);
    return { sequential, concurrent, memory: { oneSessionBytes, allSessionsBytes, source: memory.source } };
  } finally {
    await closeAll(open);
  }
}

const containerMemory = (name: string) => ({
  source: `docker stats --no-stream (${name})`,
  read: async () => parseMemUsage((await docker(memUsageArgs(name))).stdout),
});

/** Resident set size of the server processes this bench spawned. */
const processMemory = {
  source: 'RSS of the server processes (ps)',
  read: async (open: readonly Session[]) => {
    const pids = open.map((s) => s.pid).filter((pid): pid is number => pid !== undefined);
    if (pids.length !== open.length) throw new Error('a stdio session has no process id');
    const ps = await execa('ps', ['-o', 'rss=', '-p', pids.join(',')]);
    return ps.stdout.split('\n').reduce((sum, line) => sum + Number(line.trim() || 0) * 1024, 0);
  },
};

/** The container's start (Docker's StartedAt) to the first initialize that succeeded. */
async function coldStartOf(container: string, target: HttpTarget, maxMs: number): Promise<number> {
  const firstInitializeAt = await waitForFirstInitialize(target, maxMs);
  const startedAt = parseStartedAt((await docker(startedAtArgs(container))).stdout);
  return firstInitializeAt - startedAt;
}

// ---------------------------------------------------------------------------

export interface DirectServer {
  /** The server package's executable (a JavaScript file run by this Node.js). */
  entry: string;
  allowedDir: string;
}

export async function directStdio(server: DirectServer, plan: LoadPlan): Promise<ScenarioResult> {
  const connect = stdioConnector(process.execPath, [server.entry, server.allowedDir]);
  const start = process.hrtime.bigint();
  const first = await connect();
  const coldStartMs = Number(process.hrtime.bigint() - start) / 1e6;
  await first.close();
  const measured = await measureLoad(connect, plan, processMemory);
  return {
    id: 'direct',
    title: 'Direct stdio (host)',
    description: `The server package from this project's node_modules, spawned on the host by the SDK's StdioClientTransport (node ${server.entry} <temp dir>); one process per session. Cold start: spawn to initialize answered.`,
    coldStartMs,
    ...measured,
  };
}

export interface ContainerScenario {
  names: BenchNames;
  hostPort: number;
}

export async function supergatewayAlone(
  scenario: ContainerScenario & { productImage: string; serverArgs: string; quiet: boolean },
  plan: LoadPlan,
): Promise<ScenarioResult> {
  const name = scenario.quiet ? scenario.names.quietSupergatewayContainer : scenario.names.supergatewayContainer;
  const args = supergatewayAloneRunArgs(
    { name, network: scenario.names.network, hostPort: scenario.hostPort },
    scenario.productImage,
    scenario.serverArgs,
    scenario.quiet,
  );
  return {
    id: scenario.quiet ? 'supergateway-quiet' : 'supergateway',
    title: scenario.quiet ? 'Supergateway alone, no logging' : 'Supergateway alone (container)',
    description: `The product image with Supergateway as its entrypoint: \`docker ${args.join(' ')}\`. Same Supergateway 4.0.0 and installed server, stateful, ${scenario.quiet ? 'no log at all' : 'default log level (every message in the container log)'}; no nginx, TLS, token, firewall, log filter or resource limits; plain HTTP to 127.0.0.1.`,
    ...(await measurePublishedContainer(name, args, scenario.hostPort, plan)),
  };
}

/** Start a container that publishes Supergateway's port on loopback, measure it, remove it. */
async function measurePublishedContainer(name: string, runArgs: string[], hostPort: number, plan: LoadPlan) {
  const target: HttpTarget = { url: `http://127.0.0.1:${hostPort}/mcp` };
  await dockerQuiet(removeContainerArgs(name));
  try {
    await docker(runArgs);
    const coldStartMs = await coldStartOf(name, target, plan.coldStartMaxMs);
    return { coldStartMs, ...(await measureLoad(httpConnector(target), plan, containerMemory(name))) };
  } finally {
    await dockerQuiet(removeContainerArgs(name));
  }
}

export interface ChainInstance {
  envFile: string;
  name: string;
  hostPort: number;
  token: string;
  /** Where `npm run start -d` saves the certificate. */
  certificateFile: string;
}

/**
 * The product as users get it, through the CLI. The first `start -d` makes the
 * TLS certificate (kept in the instance's volume); the measured cold start is
 * a second start, so the probe can check that certificate from its first try.
 */
export async function fullChain(instance: ChainInstance, plan: LoadPlan): Promise<ScenarioResult & { cliStartMs: number }> {
  const { target, coldStartMs, cliStartMs } = await startChain(instance, instance.envFile, plan);
  const measured = await measureLoad(httpConnector(target), plan, containerMemory(instance.name));
  await cli(['stop', '--env-file', instance.envFile]);
  return {
    id: 'chain',
    title: 'Full chain (TLS + token)',
    description: `\`npm run build\` and \`npm run start -- -d\` with a generated .env (defaults as shipped: hardened, LOG_LEVEL=info, MCP_CPUS=1, MCP_MEMORY=1g, MCP_EGRESS=none); HTTPS with the bearer token to 127.0.0.1:HOST_PORT -> nginx -> session gateway (one server process per session) -> server.`,
    coldStartMs,
    cliStartMs,
    ...measured,
  };
}

/**
 * `start -d` from ENV_FILE, timed: the container's start to the first initialize
 * with the static token. The first start makes the TLS certificate (kept in the
 * instance's volume); the measured one is a second start, so the probe can check
 * that certificate from its first try.
 */
async function startChain(instance: ChainInstance, envFile: string, plan: LoadPlan): Promise<{ target: HttpTarget; coldStartMs: number; cliStartMs: number }> {
  await cli(['start', '-d', '--env-file', envFile], 5 * 60_000);
  const certificate = readFileSync(instance.certificateFile, 'utf8');
  await cli(['stop', '--env-file', envFile]);
  const target: HttpTarget = { url: `https://127.0.0.1:${instance.hostPort}/mcp`, certificate, token: instance.token };

  const started = cli(['start', '-d', '--env-file', envFile], 5 * 60_000);
  // Rejections of `started` are awaited below; this stops an early one from being unhandled.
  started.catch(() => undefined);
  const firstInitializeAt = await waitForFirstInitialize(target, plan.coldStartMaxMs);
  const { ms: cliStartMs } = await started;
  const startedAt = parseStartedAt((await docker(startedAtArgs(instance.name))).stdout);
  return { target, coldStartMs: firstInitializeAt - startedAt, cliStartMs };
}

/**
 * The same instance with AUTH=oauth: an access token from the whole OAuth flow
 * (registration, consent with ACCESS_TOKEN, PKCE), then the same load with that
 * token, so nginx asks the auth gateway about every request.
 */
export async function oauthChain(instance: ChainInstance & { oauthEnvFile: string }, plan: LoadPlan): Promise<ScenarioResult> {
  const { target, coldStartMs } = await startChain(instance, instance.oauthEnvFile, plan);
  const issuer = new URL(target.url).origin;
  const { access_token: accessToken } = await rawOAuth(fetchFor(target).fetch, issuer, target.url).tokens(instance.token);
  const measured = await measureLoad(httpConnector({ ...target, token: accessToken }), plan, containerMemory(instance.name));
  await cli(['stop', '--env-file', instance.oauthEnvFile]);
  return {
    id: 'chain-oauth',
    title: 'Full chain, OAuth token (AUTH=oauth)',
    description:
      'The full chain restarted with AUTH=oauth (OAUTH_ACCESS_TTL=1h): each call carries an OAuth access token from the whole flow, so nginx asks the auth gateway (127.0.0.1:8001, auth_request) before the session gateway. Cold start: as the full chain, first initialize with the static token.',
    coldStartMs,
    ...measured,
  };
}

export async function guideRuntime(scenario: ContainerScenario, plan: LoadPlan): Promise<ScenarioResult> {
  const name = scenario.names.guideContainer;
  const args = guideRunArgs({ name, network: scenario.names.network, hostPort: scenario.hostPort }, scenario.names.guideImage);
  return {
    id: 'guide',
    title: "Guide's npx runtime (stateless)",
    description: `bench/guide-runtime/Dockerfile: \`npx -y supergateway --stdio 'npx -y @modelcontextprotocol/server-filesystem /workspace' --outputTransport streamableHttp --port ${SUPERGATEWAY_PORT}\` without --stateful (a new server through npx for every request), both packages preinstalled from a lockfile and npm offline; plain HTTP to 127.0.0.1.`,
    ...(await measurePublishedContainer(name, args, scenario.hostPort, plan)),
  };
}

export const certificatePath = (envFile: string, name: string) => join(envFile, '..', '.mcp-sandbox', name, 'cert.pem');
