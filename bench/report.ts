import { renderEgress } from './egress.js';
import { cliOverhead, staircase } from './stats.js';
import type { BenchReport, LoadSummary, Ratio, ScenarioResult } from './types.js';

/** Milliseconds with as many digits as help reading them. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return value.toFixed(0);
}

const times = (value: number) => (Number.isFinite(value) ? `${value < 10 ? value.toFixed(2) : value.toFixed(0)}x` : String(value));
const rate = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(0));
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const seconds = (value: number) => `${(value / 1000).toFixed(2)} s`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function loadTable(scenarios: readonly ScenarioResult[], ratios: readonly Ratio[], pick: 'sequential' | 'concurrent'): string {
  return table(
    ['Scenario', 'p50 ms', 'p99 ms', 'calls/s', 'p50 vs direct', 'calls/s: times slower than direct', 'calls'],
    scenarios.map((s) => {
      const load: LoadSummary = s[pick];
      const ratio = ratios.find((r) => r.scenario === s.id)!;
      const [p50Ratio, throughputRatio] =
        pick === 'sequential' ? [ratio.sequentialP50, ratio.sequentialThroughput] : [ratio.concurrentP50, ratio.concurrentThroughput];
      return [s.title, ms(load.p50Ms), ms(load.p99Ms), rate(load.callsPerSecond), times(p50Ratio), times(throughputRatio), String(load.calls)];
    }),
  );
}

const cpu = (value: number | undefined) => (value === undefined ? 'n/a' : ms(value));
const added = (value: number | undefined) => (value === undefined ? '' : `${value >= 0 ? '+' : ''}${ms(value)}`);

/** Floor to chain, one row per step: what each hop adds, sequential and with N sessions, and the CPU it burns per call. */
function staircaseTable(scenarios: readonly ScenarioResult[], sessions: number): string {
  return table(
    [
      'Step',
      'p50 ms',
      'added p50',
      'p99 ms',
      'calls/s',
      `p50 ms, ${sessions} sessions`,
      `added p50, ${sessions} sessions`,
      `calls/s, ${sessions} sessions`,
      'serving CPU ms/call',
      `serving CPU ms/call, ${sessions} sessions`,
      'client CPU ms/call',
    ],
    staircase(scenarios).map(({ scenario: s, addedSequentialP50Ms, addedConcurrentP50Ms }) => [
      s.title,
      ms(s.sequential.p50Ms),
      added(addedSequentialP50Ms),
      ms(s.sequential.p99Ms),
      rate(s.sequential.callsPerSecond),
      ms(s.concurrent.p50Ms),
      added(addedConcurrentP50Ms),
      rate(s.concurrent.callsPerSecond),
      cpu(s.sequential.serverCpuMsPerCall),
      cpu(s.concurrent.serverCpuMsPerCall),
      cpu(s.sequential.clientCpuMsPerCall),
    ]),
  );
}

export function renderMarkdown(report: BenchReport): string {
  const sessions = report.scenarios[0]?.concurrent.sessions ?? 0;
  const { image, cli, machine } = report;
  const change = image.npmMcpChange;
  return [
    `# mcp-sandbox bench (${report.mode})`,
    '',
    `${report.startedAt}, ${(report.durationMs / 1000).toFixed(0)} s. Server: ${report.server}, tool: ${report.tool}.`,
    `Machine: ${machine.cpus} x ${machine.cpuModel}, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ${machine.os}, Node.js ${machine.node}, Docker Engine ${machine.dockerServer}.`,
    '',
    '## Staircase: from the floor to the chain',
    '',
    "Each step adds one layer to the one above it; \"added\" is its p50 minus the previous step's. Serving CPU is what the serving side burned per call (the server processes, the gateway, the container's cgroup: see each scenario's description); client CPU is this bench process (the SDK client).",
    '',
    staircaseTable(report.scenarios, sessions),
    '',
    '## Sequential: one session, one call at a time',
    '',
    loadTable(report.scenarios, report.ratiosToDirect, 'sequential'),
    '',
    `## Concurrent: ${sessions} sessions side by side`,
    '',
    loadTable(report.scenarios, report.ratiosToDirect, 'concurrent'),
    '',
    '## Start and memory',
    '',
    table(
      ['Scenario', 'cold start', 'memory, 1 session', `memory, ${sessions} sessions`, 'memory measured by'],
      report.scenarios.map((s) => [s.title, `${ms(s.coldStartMs)} ms`, mb(s.memory.oneSessionBytes), mb(s.memory.allSessionsBytes), s.memory.source]),
    ),
    '',
    '## Image and CLI',
    '',
    table(
      ['Measure', 'Value'],
      [
        [`our layers over ${image.baseImage}`, `${mb(image.ourLayersBytes)} (image ${mb(image.imageBytes)}, base ${mb(image.baseBytes)})`],
        [
          'largest layers',
          image.layers
            .slice(0, 4)
            .map((l) => `${mb(l.sizeBytes)} \`${l.createdBy.slice(0, 60).replace(/\|/g, '\\|')}\``)
            .join('<br>'),
        ],
        ['first build in this run', seconds(image.firstBuildMs)],
        ['warm rebuild, nothing changed', seconds(image.warmRebuildMs)],
        [
          `rebuild with NPM_MCP=${change.npmMcp}`,
          `${seconds(change.rebuildMs)}; OS layer ${change.osLayerReused ? 'reused' : 'rebuilt'}, session gateway layer ${change.gatewayLayerReused ? 'reused' : 'rebuilt'}, ${change.reusedSteps}/${change.totalSteps} steps from cache`,
        ],
        [
          `image with a Python server (${image.python.server})`,
          `${mb(image.python.imageBytes)}: ${mb(image.python.overNpmBytes)} more than with the npm probe server (Python's runtime, in Python images only); built in ${seconds(image.python.buildMs)}`,
        ],
        ['`node -e ""` (bare Node.js start)', `${ms(cli.bareNodeMs)} ms`],
        ['`node dist/package_scripts/main.js cli`', `${ms(cli.cliMs)} ms (${ms(cliOverhead(cli))} ms over bare Node.js)`],
        ['`node dist/package_scripts/main.js start -h`', `${ms(cli.helpMs)} ms (${ms(cli.helpMs - cli.bareNodeMs)} ms over bare Node.js)`],
        ['`npm run cli`', `${ms(cli.npmRunCliMs)} ms`],
      ],
    ),
    '',
    '## Egress by name: the enforcer against MCP_EGRESS=open',
    '',
    renderEgress(report.egress),
    '',
    '## Targets',
    '',
    table(
      ['Target', 'Measured', 'Verdict'],
      report.targets.map((t) => [t.target, t.measured, t.pass ? 'met' : '**missed**']),
    ),
    '',
  ].join('\n');
}
