import type { BenchReport, CliResult, ImageResult, LoadSummary, Ratio, ScenarioResult, TargetVerdict } from './types.js';

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function summarize(latenciesMs: readonly number[], wallMs: number, sessions: number, errors: number): LoadSummary {
  const total = latenciesMs.reduce((sum, value) => sum + value, 0);
  return {
    calls: latenciesMs.length,
    errors,
    sessions,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    meanMs: latenciesMs.length ? total / latenciesMs.length : Number.NaN,
    wallMs,
    callsPerSecond: wallMs > 0 ? (latenciesMs.length * 1000) / wallMs : Number.NaN,
  };
}

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
};

/** A size as docker prints it ("12.5MiB", "374MB", "0B") in bytes. */
export function parseDockerSize(text: string): number {
  const match = /^\s*([\d.]+)\s*([kKmMgG]?i?B)\s*$/.exec(text);
  if (!match) throw new Error(`not a docker size: '${text}'`);
  const unit = UNITS[match[2]!.toUpperCase()];
  if (unit === undefined) throw new Error(`unknown unit in docker size '${text}'`);
  return Number(match[1]) * unit;
}

/** The memory in use from `docker stats --format {{.MemUsage}}` ("12.5MiB / 1GiB"). */
export function parseMemUsage(text: string): number {
  const used = text.split('/')[0];
  if (used === undefined) throw new Error(`not a docker memory usage: '${text}'`);
  return parseDockerSize(used);
}

/** One step of the staircase from the floor to the chain: a scenario and what it adds over the step below. */
export interface Step {
  scenario: ScenarioResult;
  /** p50 over the previous step's, ms (sequential and concurrent); undefined for the first step. */
  addedSequentialP50Ms?: number;
  addedConcurrentP50Ms?: number;
}

/** The staircase's order: direct stdio, the two floors, the chain, the chain with OAuth; missing ones are skipped. */
export const STAIRCASE: readonly ScenarioResult['id'][] = ['direct', 'floor-host', 'floor-container', 'chain', 'chain-oauth'];

export function staircase(scenarios: readonly ScenarioResult[]): Step[] {
  const steps = STAIRCASE.flatMap((id) => scenarios.filter((s) => s.id === id));
  return steps.map((scenario, i) => {
    const below = steps[i - 1];
    if (!below) return { scenario };
    return {
      scenario,
      addedSequentialP50Ms: scenario.sequential.p50Ms - below.sequential.p50Ms,
      addedConcurrentP50Ms: scenario.concurrent.p50Ms - below.concurrent.p50Ms,
    };
  });
}

/** Each scenario against direct stdio: latency ratios above 1 and slowdown factors above 1 mean slower. */
export function ratiosToDirect(scenarios: readonly ScenarioResult[]): Ratio[] {
  const direct = scenarios.find((s) => s.id === 'direct');
  if (!direct) throw new Error('the direct stdio scenario is missing: ratios need it');
  return scenarios.map((s) => ({
    scenario: s.id,
    sequentialP50: s.sequential.p50Ms / direct.sequential.p50Ms,
    sequentialThroughput: direct.sequential.callsPerSecond / s.sequential.callsPerSecond,
    concurrentP50: s.concurrent.p50Ms / direct.concurrent.p50Ms,
    concurrentThroughput: direct.concurrent.callsPerSecond / s.concurrent.callsPerSecond,
  }));
}

/** What one more session costs: memory with all sessions open minus one session's, per extra session. */
export function memoryPerSession(s: Pick<ScenarioResult, 'memory' | 'concurrent'>): number {
  return (s.memory.allSessionsBytes - s.memory.oneSessionBytes) / Math.max(1, s.concurrent.sessions - 1);
}

/** The targets. */
export const LIMITS = {
  chainP50OverSupergateway: 1.2,
  /** Issue 12: the chain's calls/s against Supergateway alone without logging, sequential and concurrent. */
  chainThroughputOverQuietSupergateway: 0.9,
  throughputOverGuide: 100,
  /**
   * Issue 26 (was 1.5 s, then 0.6 s): the container's start to the first initialize through the chain.
   * 0.6 s proved out of reach under the container's one-CPU quota: the entrypoint, the session
   * gateway's Node.js start and the server's own start are CPU-bound and in series (docs/BENCHMARKS.md,
   * "Cold start, second pass").
   */
  coldStartMs: 1000,
  warmRebuildMs: 5000,
  ourLayersBytes: 60 * 1e6,
  /** Issue 13: `cli` and a command's `-h` over a bare Node.js start. */
  cliOverBareNodeMs: 100,
  /**
   * Issue 17: an OAuth token costs nginx one loopback request to the auth gateway per call,
   * a fixed cost (not one that grows with the call), so the target is in milliseconds.
   */
  oauthP50OverChainMs: 2,
  /**
   * Issue 26 (was 0.8x): the chain's calls/s against the floor (the session gateway on the host),
   * sequential and concurrent. The engine's published port alone costs 0.76x (docs/BENCHMARKS.md,
   * "Cold start, second pass", where the targets moved).
   */
  chainThroughputOverFloor: 0.7,
  /** Issue 26 (was 1 ms): the chain's p50 over the floor's, sequential; the published port alone adds about 1 ms. */
  chainP50OverFloorMs: 1.5,
  /** Issue 26: memory per extra idle session of the chain. */
  memoryPerSessionBytes: 30 * 2 ** 20,
} as const;

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));
/** A difference with its sign: +1.50, -0.78. */
const signed = (value: number) => `${value >= 0 ? '+' : ''}${fixed(value)}`;

export function evaluateTargets(scenarios: readonly ScenarioResult[], image: ImageResult, cli: CliResult): TargetVerdict[] {
  const byId = (id: ScenarioResult['id']) => {
    const found = scenarios.find((s) => s.id === id);
    if (!found) throw new Error(`scenario ${id} is missing: the targets need it`);
    return found;
  };
  const chain = byId('chain');
  const supergateway = byId('supergateway');
  const quiet = byId('supergateway-quiet');
  const seqOverQuiet = chain.sequential.callsPerSecond / quiet.sequential.callsPerSecond;
  const concOverQuiet = chain.concurrent.callsPerSecond / quiet.concurrent.callsPerSecond;
  const guide = byId('guide');
  const p50Ratio = chain.sequential.p50Ms / supergateway.sequential.p50Ms;
  const seqOverGuide = chain.sequential.callsPerSecond / guide.sequential.callsPerSecond;
  const concOverGuide = chain.concurrent.callsPerSecond / guide.concurrent.callsPerSecond;
  const change = image.npmMcpChange;
  const oauth = byId('chain-oauth');
  const oauthExtraMs = oauth.sequential.p50Ms - chain.sequential.p50Ms;
  const floor = byId('floor-host');
  const seqOverFloor = chain.sequential.callsPerSecond / floor.sequential.callsPerSecond;
  const concOverFloor = chain.concurrent.callsPerSecond / floor.concurrent.callsPerSecond;
  const p50OverFloorMs = chain.sequential.p50Ms - floor.sequential.p50Ms;
  const perSession = memoryPerSession(chain);
  return [
    {
      id: 'chain-vs-floor',
      target: `full chain calls/s >= ${LIMITS.chainThroughputOverFloor}x the floor (session gateway on the host), sequential and concurrent`,
      measured: `${fixed(seqOverFloor)}x sequential (${fixed(chain.sequential.callsPerSecond, 0)} vs ${fixed(floor.sequential.callsPerSecond, 0)}), ${fixed(concOverFloor)}x concurrent (${fixed(chain.concurrent.callsPerSecond, 0)} vs ${fixed(floor.concurrent.callsPerSecond, 0)})`,
      pass: seqOverFloor >= LIMITS.chainThroughputOverFloor && concOverFloor >= LIMITS.chainThroughputOverFloor,
    },
    {
      id: 'chain-p50-over-floor',
      target: `full chain p50 at most ${LIMITS.chainP50OverFloorMs} ms over the floor's (sequential)`,
      measured: `${signed(p50OverFloorMs)} ms (${fixed(chain.sequential.p50Ms)} ms vs ${fixed(floor.sequential.p50Ms)} ms)`,
      pass: p50OverFloorMs <= LIMITS.chainP50OverFloorMs,
    },
    {
      id: 'memory-per-session',
      target: `full chain memory per extra idle session <= ${LIMITS.memoryPerSessionBytes / 2 ** 20} MiB`,
      measured: `${fixed(perSession / 2 ** 20, 1)} MiB`,
      pass: perSession <= LIMITS.memoryPerSessionBytes,
    },
    {
      id: 'chain-p50',
      target: `full chain p50 <= ${LIMITS.chainP50OverSupergateway}x Supergateway alone (sequential)`,
      measured: `${fixed(p50Ratio)}x (${fixed(chain.sequential.p50Ms)} ms vs ${fixed(supergateway.sequential.p50Ms)} ms)`,
      pass: p50Ratio <= LIMITS.chainP50OverSupergateway,
    },
    {
      id: 'chain-vs-quiet-supergateway',
      target: `full chain calls/s >= ${LIMITS.chainThroughputOverQuietSupergateway}x Supergateway alone without logging (sequential and concurrent)`,
      measured: `${fixed(seqOverQuiet)}x sequential, ${fixed(concOverQuiet)}x concurrent; memory per session ${fixed(memoryPerSession(chain) / 2 ** 20, 1)} MiB (chain) vs ${fixed(memoryPerSession(quiet) / 2 ** 20, 1)} MiB`,
      pass: seqOverQuiet >= LIMITS.chainThroughputOverQuietSupergateway && concOverQuiet >= LIMITS.chainThroughputOverQuietSupergateway,
    },
    {
      id: 'throughput-vs-guide',
      target: `full chain throughput >= ${LIMITS.throughputOverGuide}x the guide's runtime (sequential and concurrent)`,
      measured: `${fixed(seqOverGuide, 0)}x sequential, ${fixed(concOverGuide, 0)}x concurrent`,
      pass: seqOverGuide >= LIMITS.throughputOverGuide && concOverGuide >= LIMITS.throughputOverGuide,
    },
    {
      id: 'oauth-p50',
      target: `full chain with an OAuth token: p50 at most ${LIMITS.oauthP50OverChainMs} ms over the static token's (sequential)`,
      measured: `${signed(oauthExtraMs)} ms (${fixed(oauth.sequential.p50Ms)} ms vs ${fixed(chain.sequential.p50Ms)} ms, ${fixed(oauth.sequential.p50Ms / chain.sequential.p50Ms)}x); ${fixed(oauth.concurrent.callsPerSecond / chain.concurrent.callsPerSecond)}x the calls/s with ${oauth.concurrent.sessions} sessions`,
      pass: oauthExtraMs <= LIMITS.oauthP50OverChainMs,
    },
    {
      id: 'cold-start',
      target: `cold start (container start to first initialize through the chain) <= ${LIMITS.coldStartMs / 1000} s`,
      measured: `${fixed(chain.coldStartMs / 1000)} s`,
      pass: chain.coldStartMs <= LIMITS.coldStartMs,
    },
    {
      id: 'warm-rebuild',
      target: `warm rebuild with nothing changed <= ${LIMITS.warmRebuildMs / 1000} s`,
      measured: `${fixed(image.warmRebuildMs / 1000)} s`,
      pass: image.warmRebuildMs <= LIMITS.warmRebuildMs,
    },
    {
      id: 'npm-mcp-layers',
      target: 'changing NPM_MCP reuses the OS and session gateway layers',
      measured: `OS layer ${change.osLayerReused ? 'reused' : 'rebuilt'}, session gateway layer ${change.gatewayLayerReused ? 'reused' : 'rebuilt'} (${change.reusedSteps}/${change.totalSteps} steps from cache)`,
      pass: change.osLayerReused && change.gatewayLayerReused,
    },
    {
      id: 'image-size',
      target: `our layers <= ${LIMITS.ourLayersBytes / 1e6} MB over the base image`,
      measured: `${fixed(image.ourLayersBytes / 1e6, 1)} MB`,
      pass: image.ourLayersBytes <= LIMITS.ourLayersBytes,
    },
    {
      id: 'cli-start',
      target: `\`cli\` and \`start -h\` answer within ${LIMITS.cliOverBareNodeMs} ms of a bare Node.js start`,
      measured: `cli +${fixed(cliOverhead(cli), 0)} ms, start -h +${fixed(cli.helpMs - cli.bareNodeMs, 0)} ms (bare Node.js ${fixed(cli.bareNodeMs, 0)} ms)`,
      pass: cliOverhead(cli) <= LIMITS.cliOverBareNodeMs && cli.helpMs - cli.bareNodeMs <= LIMITS.cliOverBareNodeMs,
    },
  ];
}

/** Every number a report must hold to be worth reading; returns what is wrong (empty when sane). */
export function sanityProblems(report: Pick<BenchReport, 'scenarios' | 'image' | 'cli'>): string[] {
  const problems: string[] = [];
  const positive = (label: string, value: number) => {
    if (!(Number.isFinite(value) && value > 0)) problems.push(`${label} is ${value}, expected a number above 0`);
  };
  for (const s of report.scenarios) {
    for (const [phase, load] of [
      ['sequential', s.sequential],
      ['concurrent', s.concurrent],
    ] as const) {
      positive(`${s.id} ${phase} calls`, load.calls);
      positive(`${s.id} ${phase} p50`, load.p50Ms);
      positive(`${s.id} ${phase} calls/s`, load.callsPerSecond);
      if (load.p99Ms < load.p50Ms) problems.push(`${s.id} ${phase} p99 ${load.p99Ms} is below p50 ${load.p50Ms}`);
      if (load.errors > 0) problems.push(`${s.id} ${phase} had ${load.errors} failed calls`);
    }
    positive(`${s.id} cold start`, s.coldStartMs);
    positive(`${s.id} memory (one session)`, s.memory.oneSessionBytes);
    positive(`${s.id} memory (all sessions)`, s.memory.allSessionsBytes);
  }
  positive('image size over the base', report.image.ourLayersBytes);
  positive('first build time', report.image.firstBuildMs);
  positive('warm rebuild time', report.image.warmRebuildMs);
  positive('NPM_MCP rebuild time', report.image.npmMcpChange.rebuildMs);
  positive('Python image size over the npm image', report.image.python.overNpmBytes);
  positive('CLI time', report.cli.cliMs);
  positive('npm run cli time', report.cli.npmRunCliMs);
  positive('start -h time', report.cli.helpMs);
  return problems;
}

export const cliOverhead = (cli: CliResult) => cli.cliMs - cli.bareNodeMs;
