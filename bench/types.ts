/** The shape of one bench run, as written to JSON and rendered as Markdown. */

export type ScenarioId = 'direct' | 'floor-host' | 'floor-container' | 'chain' | 'chain-oauth' | 'supergateway' | 'supergateway-quiet' | 'guide';

export interface LoadSummary {
  /** Timed calls that succeeded (warm-up calls are not counted). */
  calls: number;
  /** Calls that failed; any failure makes the run exit non-zero. */
  errors: number;
  sessions: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  wallMs: number;
  callsPerSecond: number;
  /** CPU time of this bench process (the MCP client) over the timed calls, per call. */
  clientCpuMsPerCall?: number;
  /** CPU time of everything on the serving side (ScenarioResult.cpuSource says what), per call. */
  serverCpuMsPerCall?: number;
}

export interface ScenarioResult {
  id: ScenarioId;
  title: string;
  /** Exactly what ran, so the numbers can be reproduced by hand. */
  description: string;
  sequential: LoadSummary;
  concurrent: LoadSummary;
  /** From the process or container start to the first successful initialize. */
  coldStartMs: number;
  /** Resident memory with one idle session open, and with `concurrent.sessions` sessions open. */
  memory: { oneSessionBytes: number; allSessionsBytes: number; source: string };
  /** What serverCpuMsPerCall counts, when it was measured. */
  cpuSource?: string;
}

export interface ImageLayer {
  createdBy: string;
  sizeBytes: number;
}

export interface ImageResult {
  image: string;
  baseImage: string;
  imageBytes: number;
  baseBytes: number;
  /** imageBytes - baseBytes: what our Dockerfile adds. */
  ourLayersBytes: number;
  /** Our layers, largest first. */
  layers: ImageLayer[];
  firstBuildMs: number;
  warmRebuildMs: number;
  /** Rebuild of the same NAME with only NPM_MCP changed. */
  npmMcpChange: {
    npmMcp: string;
    rebuildMs: number;
    osLayerReused: boolean;
    /** The session gateway's bundle (COPY --from=session-gateway). */
    gatewayLayerReused: boolean;
    /** Dockerfile steps whose cached result was reused, in build order. */
    reusedSteps: number;
    totalSteps: number;
  };
  /** The same instance with a Python server: Python's runtime is in this image only. */
  python: {
    server: string;
    imageBytes: number;
    /** imageBytes minus that of the same instance with the npm probe server (the NPM_MCP change): what Python's runtime costs. */
    overNpmBytes: number;
    buildMs: number;
  };
}

export interface CliResult {
  /** `node -e ''`: what any Node.js program pays before its first line. */
  bareNodeMs: number;
  /** `node -- dist/package_scripts/main.js cli`. */
  cliMs: number;
  /** `node -- dist/package_scripts/main.js start -h`: a command's help. */
  helpMs: number;
  /** `npm run --silent cli`, as users type it. */
  npmRunCliMs: number;
}

export interface Ratio {
  scenario: ScenarioId;
  /** p50 latency over direct stdio's p50. */
  sequentialP50: number;
  /** direct stdio's calls/s over this scenario's: how many times slower. */
  sequentialThroughput: number;
  concurrentP50: number;
  concurrentThroughput: number;
}

export interface TargetVerdict {
  id: string;
  target: string;
  measured: string;
  pass: boolean;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  os: string;
  node: string;
  dockerServer: string;
}

/** One MCP_EGRESS value's run of the egress scenario (bench/egress.ts). */
export interface EgressPhase {
  egress: string;
  connections: number;
  /** A new HTTPS connection: DNS, TCP, TLS with the certificate checked, one small GET, timed inside the instance. */
  connectP50Ms: number;
  connectP99Ms: number;
  bulkBytes: number;
  bulkRuns: number;
  bulkMedianMs: number;
  /** bulkBytes over the median run, MB (10^6 bytes) per second. */
  bulkMBps: number;
}

export interface EgressResult {
  /** Exactly what ran. */
  description: string;
  open: EgressPhase;
  /** MCP_EGRESS=<the test server's name>: through the enforcer. */
  named: EgressPhase;
  enforcerMemory: { idleRssBytes: number; rssBytes: number; peakRssBytes: number; source: string };
}

export interface BenchReport {
  version: 1;
  mode: 'full' | 'quick';
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  server: string;
  tool: string;
  scenarios: ScenarioResult[];
  ratiosToDirect: Ratio[];
  image: ImageResult;
  cli: CliResult;
  /** Egress by name (issue 23): the enforcer against MCP_EGRESS=open. */
  egress: EgressResult;
  targets: TargetVerdict[];
}
