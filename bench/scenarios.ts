/** The ways to reach the same server, each measured the same way. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { containerCpuMs, hostTreeCpuMs } from './cpu.js';
import {
  SUPERGATEWAY_PORT,
  floorContainerRunArgs,
  guideRunArgs,
  memUsageArgs,
  removeContainerArgs,
  startedAtArgs,
  supergatewayAloneRunArgs,
  type BenchNames,
} from './docker-args.js';
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
  cpuSource: string;
}

interface Meter {
  source: string;
  read: (open: readonly Session[]) => Promise<number>;
}

/** One session alone (sequential), then `sessions` side by side (concurrent); memory after each, serving CPU around each. */
async function measureLoad(connect: Connect, plan: LoadPlan, memory: Meter, cpu: Meter): Promise<Measured> {
  const open: Session[] = [await connect()];
  const serverCpuMs = () => cpu.read(open);
  try {
    const sequential = await runPhase(open, plan.sequential, serverCpuMs);
    const oneSessionBytes = await memory.read(open);
    open.push(...(await openSessions(connect, plan.sessions - 1)));
    const concurrent = await runPhase(open, plan.concurrent, serverCpuMs);
    const allSessionsBytes = await memory.read(open);
    return { sequential, concurrent, memory: { oneSessionBytes, allSessionsBytes, source: memory.source }, cpuSource: cpu.source };
  } finally {
    await closeAll(open);
  }
}

const containerCpu = (name: string): Meter => ({
  source: `the container's cgroup (${name}): every process in it`,
  read: () => containerCpuMs(name),
});

const containerMemory = (name: string) => ({
  source: `docker stats --no-stream (${name})`,
  read: async () => parseMemUsage((await docker(memUsageArgs(name))).stdout),
});

const rssOf = async (pids: readonly number[]) => {
  const ps = await execa('ps', ['-o', 'rss=', '-p', pids.join(',')]);
  return ps.stdout.split('\n').reduce((sum, line) => sum + Number(line.trim() || 0) * 1024, 0);
};

const sessionPids = (open: readonly Session[]) => {
  const pids = open.map((s) => s.pid).filter((pid): pid is number => pid !== undefined);
  if (pids.length !== open.length) throw new Error('a stdio session has no process id');
  return pids;
};

/** Resident set size of the server processes this bench spawned. */
const processMemory: Meter = {
  source: 'RSS of the server processes (ps)',
  read: async (open) => rssOf(sessionPids(open)),
};

const processCpu: Meter = {
  source: 'the server processes (/proc/PID/stat)',
  read: (open) => Promise.resolve(hostTreeCpuMs(sessionPids(open))),
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
  const measured = await measureLoad(connect, plan, processMemory, processCpu);
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
  scenario: ContainerScenario & { referenceImage: string; serverArgs: string; quiet: boolean },
  plan: LoadPlan,
): Promise<ScenarioResult> {
  const name = scenario.quiet ? scenario.names.quietSupergatewayContainer : scenario.names.supergatewayContainer;
  const args = supergatewayAloneRunArgs(
    { name, network: scenario.names.network, hostPort: scenario.hostPort },
    scenario.referenceImage,
    scenario.serverArgs,
    scenario.quiet,
  );
  return {
    id: scenario.quiet ? 'supergateway-quiet' : 'supergateway',
    title: scenario.quiet ? 'Supergateway alone, no logging' : 'Supergateway alone (container)',
    description: `The product image plus Supergateway (bench/supergateway/Dockerfile), Supergateway as its entrypoint: \`docker ${args.join(' ')}\`. Supergateway 4.0.0 and the product's installed server, stateful, ${scenario.quiet ? 'no log at all' : 'default log level (every message in the container log)'}; no nginx, TLS, token, firewall, log filter or resource limits; plain HTTP to 127.0.0.1.`,
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
    return { coldStartMs, ...(await measureLoad(httpConnector(target), plan, containerMemory(name), containerCpu(name))) };
  } finally {
    await dockerQuiet(removeContainerArgs(name));
  }
}

/**
 * The floor, first step: the product image's own session gateway bundle
 * (copied out of the image), run by this host's Node.js on a loopback port,
 * spawning the same server package as direct stdio. No container, no TLS, no
 * nginx: what the Streamable HTTP transport (the SDK's client and server) and
 * our session handling cost over stdio. Run as this bench's user: as root the
 * gateway skips its stray-process sweep (it never sweeps root's processes).
 */
export async function floorHost(floor: { gatewayBundle: string; server: DirectServer; hostPort: number }, plan: LoadPlan): Promise<ScenarioResult> {
  const args = [floor.server.entry, floor.server.allowedDir];
  const start = process.hrtime.bigint();
  const gateway = execa(process.execPath, [floor.gatewayBundle], {
    env: {
      GATEWAY_PORT: String(floor.hostPort),
      MCP_SERVER_COMMAND: process.execPath,
      NPM_MCP_ARGS: args.join(' '),
      LOG_LEVEL: 'info',
    },
    extendEnv: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
    reject: false,
  });
  const pid = gateway.pid;
  try {
    if (pid === undefined) throw new Error(`could not start the session gateway on the host (${floor.gatewayBundle})`);
    const target: HttpTarget = { url: `http://127.0.0.1:${floor.hostPort}/mcp` };
    const wallAtSpawn = Date.now() - Number(process.hrtime.bigint() - start) / 1e6;
    const coldStartMs = (await waitForFirstInitialize(target, plan.coldStartMaxMs)) - wallAtSpawn;
    const tree: Meter = { source: 'the session gateway and its server processes (/proc/PID/stat)', read: () => Promise.resolve(hostTreeCpuMs([pid])) };
    const memory: Meter = {
      source: 'RSS of the session gateway and its server processes (ps)',
      read: async () => {
        const children = (await execa('pgrep', ['-P', String(pid)], { reject: false })).stdout.split('\n').filter(Boolean).map(Number);
        return rssOf([pid, ...children]);
      },
    };
    return {
      id: 'floor-host',
      title: 'Floor: session gateway on the host',
      description: `The product image's /opt/session-gateway/gateway.mjs copied out and run by this host's Node.js (${process.version}) on 127.0.0.1:${floor.hostPort}, LOG_LEVEL=info, spawning \`node ${args.join(' ')}\` per session (the direct stdio server); plain HTTP, no container, no nginx, no TLS. Cold start: spawn of the gateway to the first initialize answered.`,
      coldStartMs,
      ...(await measureLoad(httpConnector(target), plan, memory, tree)),
    };
  } finally {
    gateway.kill('SIGTERM');
    await gateway;
  }
}

/**
 * The floor, second step: the same gateway bundle in the product image,
 * published on loopback, with the chain's default CPU and memory limits,
 * without nginx, TLS, the firewall or the entrypoint (docker-args.ts, floorContainerRunArgs).
 */
export async function floorContainer(scenario: ContainerScenario & { productImage: string; serverArgs: string }, plan: LoadPlan): Promise<ScenarioResult> {
  const name = scenario.names.floorContainer;
  const args = floorContainerRunArgs({ name, network: scenario.names.network, hostPort: scenario.hostPort }, scenario.productImage, scenario.serverArgs);
  return {
    id: 'floor-container',
    title: 'Floor: session gateway in the container',
    description: `The product image's session gateway run directly as "mcp" with its port published on loopback: \`docker ${args.join(' ')}\` (the --import turns its 127.0.0.1 bind into 0.0.0.0, nothing else). MCP_CPUS=1 and MCP_MEMORY=1g as the chain; no nginx, TLS, token, firewall, seccomp profile or read-only root.`,
    ...(await measurePublishedContainer(name, args, scenario.hostPort, plan)),
  };
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
  const measured = await measureLoad(httpConnector(target), plan, containerMemory(instance.name), containerCpu(instance.name));
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
  const measured = await measureLoad(httpConnector({ ...target, token: accessToken }), plan, containerMemory(instance.name), containerCpu(instance.name));
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
