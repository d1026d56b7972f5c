import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  LISTEN_ON_ALL,
  benchNames,
  floorContainerRunArgs,
  guideBuildArgs,
  guideRunArgs,
  historyArgs,
  memUsageArgs,
  supergatewayAloneRunArgs,
  supergatewayBuildArgs,
} from '../../bench/docker-args.js';
import { parseCgroupCpuMs, parseProcStat, treeCpuMs } from '../../bench/cpu.js';
import {
  EGRESS_TARGET_NAME,
  egressClientExecArgs,
  egressPhase,
  egressPlan,
  egressSanityProblems,
  egressTargetRunArgs,
  egressTargets,
  parseClientOutput,
  parseEnforcerMemory,
} from '../../bench/egress.js';
import { compareLayers, layerSizes, ourSteps, parseHistory, type HistoryEntry } from '../../bench/layers.js';
import { benchOptionsSchema, planFor } from '../../bench/options.js';
import { renderMarkdown } from '../../bench/report.js';
import { parseStartedAt } from '../../bench/run.js';
import { evaluateTargets, parseDockerSize, parseMemUsage, percentile, ratiosToDirect, sanityProblems, summarize } from '../../bench/stats.js';
import type { BenchReport, EgressResult, ImageResult, ScenarioId, ScenarioResult } from '../../bench/types.js';
import { DEFAULT_NPM_MCP } from '../../package_scripts/settings/schema.js';

const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('bench statistics', () => {
  test('nearest-rank percentiles', () => {
    const samples = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    assert.equal(percentile(samples, 50), 5);
    assert.equal(percentile(samples, 99), 10);
    assert.equal(percentile(samples, 10), 1);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  test('a summary counts calls per second of wall time, not of summed latency', () => {
    assert.deepEqual(summarize([2, 2, 4, 4], 4, 2, 1), {
      calls: 4,
      errors: 1,
      sessions: 2,
      p50Ms: 2,
      p99Ms: 4,
      meanMs: 3,
      wallMs: 4,
      callsPerSecond: 1000,
    });
  });

  test('docker sizes and memory usage in bytes', () => {
    assert.equal(parseDockerSize('0B'), 0);
    assert.equal(parseDockerSize('374MB'), 374e6);
    assert.equal(parseDockerSize('12.5MiB'), 12.5 * 2 ** 20);
    assert.equal(parseDockerSize('1GiB'), 2 ** 30);
    assert.equal(parseDockerSize('3kB'), 3000);
    assert.equal(parseMemUsage('108.1MiB / 1GiB'), 108.1 * 2 ** 20);
    assert.throws(() => parseDockerSize('lots'), /not a docker size/);
  });

  test("Docker's nanosecond StartedAt becomes epoch milliseconds", () => {
    assert.equal(parseStartedAt('2026-11-25T04:20:19.469123456Z\n'), Date.UTC(2026, 10, 25, 4, 20, 19, 469));
    assert.throws(() => parseStartedAt('never'), /not a docker timestamp/);
  });
});

const load = (p50Ms: number, callsPerSecond: number) => ({
  calls: 10,
  errors: 0,
  sessions: 1,
  p50Ms,
  p99Ms: p50Ms * 2,
  meanMs: p50Ms,
  wallMs: 1000,
  callsPerSecond,
});
const scenario = (id: ScenarioId, p50Ms: number, callsPerSecond: number, coldStartMs = 500): ScenarioResult => ({
  id,
  title: id,
  description: id,
  sequential: load(p50Ms, callsPerSecond),
  concurrent: { ...load(p50Ms * 2, callsPerSecond * 1.5), sessions: 8 },
  coldStartMs,
  memory: { oneSessionBytes: 1e8, allSessionsBytes: 2e8, source: 'test' },
});
const image = (overrides: Partial<ImageResult> = {}): ImageResult => ({
  image: 'x:latest',
  baseImage: 'node:22-bookworm-slim',
  imageBytes: 300e6,
  baseBytes: 243e6,
  ourLayersBytes: 57e6,
  layers: [],
  firstBuildMs: 1000,
  warmRebuildMs: 800,
  npmMcpChange: { npmMcp: './x', rebuildMs: 2000, osLayerReused: true, gatewayLayerReused: true, reusedSteps: 10, totalSteps: 18 },
  python: { server: './py', imageBytes: 330e6, overNpmBytes: 58e6, buildMs: 70000 },
  ...overrides,
});

/** An egress result: the enforcer adds 0.6 ms p50 and keeps 0.9x of open's bulk throughput. */
function egressResult(named: { p50?: number; mbps?: number } = {}): EgressResult {
  const phase = (egress: string, p50: number, p99: number, mbps: number) => ({
    egress,
    connections: 300,
    connectP50Ms: p50,
    connectP99Ms: p99,
    bulkBytes: 64 * 2 ** 20,
    bulkRuns: 5,
    bulkMedianMs: (64 * 2 ** 20) / 1e3 / mbps,
    bulkMBps: mbps,
  });
  return {
    description: 'what ran',
    open: phase('open', 5, 9, 400),
    named: phase(EGRESS_TARGET_NAME, named.p50 ?? 5.6, 10.5, named.mbps ?? 360),
    enforcerMemory: { idleRssBytes: 40e6, rssBytes: 45e6, peakRssBytes: 50e6, source: 'test' },
  };
}

describe('bench ratios and targets', () => {
  const scenarios = [
    scenario('direct', 0.2, 3000),
    scenario('floor-host', 2.5, 280),
    scenario('floor-container', 2.7, 265),
    scenario('supergateway', 2.5, 300),
    scenario('supergateway-quiet', 2.4, 270),
    scenario('chain', 3, 250),
    scenario('chain-oauth', 3.5, 220),
    scenario('guide', 500, 2),
  ];

  test('ratios are relative to direct stdio', () => {
    const chain = ratiosToDirect(scenarios).find((r) => r.scenario === 'chain')!;
    assert.equal(chain.sequentialP50, 3 / 0.2);
    assert.equal(chain.sequentialThroughput, 3000 / 250);
    assert.equal(chain.concurrentP50, 6 / 0.4);
    assert.equal(chain.concurrentThroughput, 4500 / 375);
    assert.throws(() => ratiosToDirect(scenarios.slice(1)), /direct stdio scenario is missing/);
  });

  /** cli and start -h 40 and 60 ms over a bare Node.js start. */
  const CLI_FAST = { bareNodeMs: 50, cliMs: 90, helpMs: 110, npmRunCliMs: 500 };

  test('every target is met by numbers inside the limits', () => {
    const verdicts = evaluateTargets(scenarios, image(), CLI_FAST);
    assert.deepEqual(
      verdicts.map((v) => [v.id, v.pass]),
      [
        ['chain-vs-floor', true],
        ['chain-p50-over-floor', true],
        ['memory-per-session', true],
        ['chain-p50', true],
        ['chain-vs-quiet-supergateway', true],
        ['throughput-vs-guide', true],
        ['oauth-p50', true],
        ['cold-start', true],
        ['warm-rebuild', true],
        ['npm-mcp-layers', true],
        ['image-size', true],
        ['cli-start', true],
      ],
    );
  });

  test('each target is missed by numbers outside its limit', () => {
    // Memory: one more idle session costs 31 MiB, just over 30.
    const heavyChain = { ...scenario('chain', 3.1, 150, 1600), memory: { oneSessionBytes: 1e8, allSessionsBytes: 1e8 + 7 * 31 * 2 ** 20, source: 'test' } };
    const slow = [
      scenario('direct', 0.2, 3000),
      // 150 / 220 calls/s: 0.68x, under 0.7x; p50 3.1 ms over 1.5 ms: +1.6 ms, over 1.5 ms.
      scenario('floor-host', 1.5, 220),
      scenario('supergateway', 2.5, 300),
      scenario('supergateway-quiet', 2.4, 170),
      heavyChain,
      scenario('chain-oauth', 5.2, 120),
      scenario('guide', 500, 2),
    ];
    const verdicts = evaluateTargets(
      slow,
      image({ warmRebuildMs: 5001, ourLayersBytes: 61e6, npmMcpChange: { ...image().npmMcpChange, gatewayLayerReused: false } }),
      { bareNodeMs: 50, cliMs: 151, helpMs: 120, npmRunCliMs: 500 },
    );
    assert.deepEqual(
      verdicts.map((v) => v.pass),
      [false, false, false, false, false, false, false, false, false, false, false, false],
    );
    assert.match(verdicts[0]!.measured, /^0\.68x sequential \(150 vs 220\), 0\.68x concurrent/);
    assert.match(verdicts[1]!.measured, /^\+1\.60 ms \(3\.10 ms vs 1\.50 ms\)/);
    assert.equal(verdicts[2]!.measured, '31.0 MiB');
    assert.match(verdicts[11]!.measured, /^cli \+101 ms, start -h \+70 ms/);
    // Either one over the limit misses the target.
    assert.equal(evaluateTargets(scenarios, image(), { bareNodeMs: 50, cliMs: 60, helpMs: 151, npmRunCliMs: 500 })[11]!.pass, false);
    // 5.2 ms over 3.1 ms: 2.1 ms more, just over 2 ms.
    assert.match(verdicts[6]!.measured, /^\+2\.10 ms \(5\.20 ms vs 3\.10 ms, 1\.68x\)/);
    assert.match(verdicts[3]!.measured, /^1\.24x/);
    // 150 / 170 calls/s: 0.88x, just under 0.9x.
    assert.match(verdicts[4]!.measured, /^0\.88x sequential, 0\.88x concurrent; memory per session 31\.0 MiB/);
    assert.match(verdicts[7]!.measured, /^1\.60 s/);
    assert.match(verdicts[9]!.measured, /session gateway layer rebuilt/);
  });

  test('sanity finds empty phases, failed calls and an inverted p99', () => {
    const broken = scenario('chain', 3, 250);
    broken.sequential = { ...broken.sequential, calls: 0, errors: 2, p99Ms: 1 };
    const problems = sanityProblems({
      scenarios: [scenario('direct', 0.2, 3000), broken],
      image: image(),
      cli: { bareNodeMs: 50, cliMs: 300, helpMs: 310, npmRunCliMs: 500 },
    });
    assert.deepEqual(problems, [
      'chain sequential calls is 0, expected a number above 0',
      'chain sequential p99 1 is below p50 3',
      'chain sequential had 2 failed calls',
    ]);
    assert.deepEqual(sanityProblems({ scenarios, image: image(), cli: { bareNodeMs: 50, cliMs: 300, helpMs: 310, npmRunCliMs: 500 } }), []);
  });

  test('the Markdown report has a row per scenario and a verdict per target', () => {
    const report: BenchReport = {
      version: 1,
      mode: 'quick',
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 1000,
      machine: { cpus: 2, cpuModel: 'cpu', memoryBytes: 2 ** 30, os: 'linux', node: 'v20', dockerServer: '20.10' },
      server: DEFAULT_NPM_MCP,
      tool: 'tools/call list_allowed_directories',
      scenarios,
      ratiosToDirect: ratiosToDirect(scenarios),
      image: image({ layers: [{ createdBy: 'a | b', sizeBytes: 1e6 }] }),
      cli: { bareNodeMs: 50, cliMs: 300, helpMs: 310, npmRunCliMs: 500 },
      egress: egressResult(),
      targets: [...evaluateTargets(scenarios, image(), CLI_FAST), ...egressTargets(egressResult())],
    };
    const markdown = renderMarkdown(report);
    assert.equal(markdown.match(/^\| chain \| 3\.00 \| 6\.00 \| 250 \| 15x \| 12x \| 10 \|$/gm)?.length, 1);
    assert.equal(markdown.match(/\| met \|$/gm)?.length, 14);
    // The egress section: a row per MCP_EGRESS value, what the enforcer adds, its memory.
    assert.match(markdown, /^\| MCP_EGRESS=open \| 5\.00 \| 9\.00 \| 300 \| 400 \| 5 x 67\.1 MB \|$/m);
    assert.match(markdown, new RegExp(`^\\| MCP_EGRESS=${EGRESS_TARGET_NAME.replace(/\./g, '\\.')} \\| 5\\.60 \\| 10\\.50 \\|`, 'm'));
    assert.match(markdown, /Added by the enforcer per new connection: \+0\.60 ms p50, \+1\.50 ms p99; bulk 0\.90x open\./);
    assert.match(markdown, /RSS 40\.0 MB idle, 45\.0 MB after the load, peak 50\.0 MB/);
    // The staircase: direct, the two floors, the chain, the chain with OAuth, each with what it adds.
    const staircase = markdown.slice(markdown.indexOf('## Staircase'), markdown.indexOf('## Sequential'));
    assert.deepEqual(
      staircase
        .split('\n')
        .filter((l) => /^\| [a-z]/.test(l))
        .map((l) => l.split(' | ').slice(0, 3)),
      [
        ['| direct', '0.20', ''],
        ['| floor-host', '2.50', '+2.30'],
        ['| floor-container', '2.70', '+0.20'],
        ['| chain', '3.00', '+0.30'],
        ['| chain-oauth', '3.50', '+0.50'],
      ],
    );
    assert.match(markdown, /`a \\\| b`/);
  });
});

describe('bench egress by name (issue 23)', () => {
  test('targets: at most +1 ms p50 per new connection, bulk at least 0.8x open; each missed just outside', () => {
    assert.deepEqual(
      egressTargets(egressResult()).map((t) => [t.id, t.pass, t.measured]),
      [
        ['egress-connect-p50', true, '+0.60 ms (5.60 ms vs 5.00 ms)'],
        ['egress-bulk', true, '0.90x (360 vs 400 MB/s)'],
      ],
    );
    assert.deepEqual(
      egressTargets(egressResult({ p50: 6.01, mbps: 319 })).map((t) => [t.pass, t.measured]),
      [
        [false, '+1.01 ms (6.01 ms vs 5.00 ms)'],
        [false, '0.80x (319 vs 400 MB/s)'],
      ],
    );
    // At the limits exactly: met.
    assert.deepEqual(
      egressTargets(egressResult({ p50: 6, mbps: 320 })).map((t) => t.pass),
      [true, true],
    );
  });

  test('a phase: nearest-rank p50/p99 of the connections, bulk MB/s over the median run', () => {
    const phase = egressPhase('open', { connectMs: [3, 1, 2, 4], bulkMs: [1000, 500, 2000] }, 100e6);
    assert.deepEqual(phase, {
      egress: 'open',
      connections: 4,
      connectP50Ms: 2,
      connectP99Ms: 4,
      bulkBytes: 100e6,
      bulkRuns: 3,
      bulkMedianMs: 1000,
      bulkMBps: 100,
    });
  });

  test("the client's output is checked: an error, a short count or a bad time is no result", () => {
    const plan = { connections: 2, warmupConnections: 0, bulkBytes: 10, bulkRuns: 1 };
    assert.deepEqual(parseClientOutput('noise\n{"connectMs":[1,2],"bulkMs":[3]}\n', plan), { connectMs: [1, 2], bulkMs: [3] });
    assert.throws(() => parseClientOutput('{"error":"ECONNREFUSED"}', plan), /fetch from inside the instance failed: ECONNREFUSED/);
    assert.throws(() => parseClientOutput('{"connectMs":[1],"bulkMs":[3]}', plan), /1 connections and 1 bulk runs/);
    assert.throws(() => parseClientOutput('{"connectMs":[1,0],"bulkMs":[3]}', plan), /not a positive number/);
  });

  test("the enforcer's memory from /proc: one process, kB to bytes", () => {
    assert.deepEqual(parseEnforcerMemory('VmHWM:\t   52000 kB\nVmRSS:\t   48000 kB\n'), { rssBytes: 48000 * 1024, peakRssBytes: 52000 * 1024 });
    assert.throws(() => parseEnforcerMemory(''), /expected one egress enforcer with VmRSS/);
    assert.throws(() => parseEnforcerMemory('VmRSS: 1 kB\nVmHWM: 1 kB\nVmRSS: 1 kB\nVmHWM: 1 kB\n'), /found 2/);
  });

  test('sanity: a phase without numbers or an enforcer without memory is a problem', () => {
    assert.deepEqual(egressSanityProblems(egressResult()), []);
    const broken = egressResult();
    broken.named = { ...broken.named, bulkMBps: Number.NaN, connectP99Ms: 1 };
    broken.enforcerMemory = { ...broken.enforcerMemory, rssBytes: Number.NaN };
    assert.deepEqual(egressSanityProblems(broken), [
      `egress ${EGRESS_TARGET_NAME} bulk MB/s is NaN, expected a number above 0`,
      `egress ${EGRESS_TARGET_NAME} connection p99 1 is below p50 5.6`,
      "the egress enforcer's RSS is NaN, expected a number above 0",
    ]);
  });

  test('argv: the test server on the bench network under its name, nothing published; the client as "mcp", the CA in its environment', () => {
    const plan = egressPlan(true);
    const run = egressTargetRunArgs({ name: 't', network: 'mcp-bench-net', certsDir: '/tmp/c', bulkBytes: plan.bulkBytes }, 'node:22-bookworm-slim');
    assert.deepEqual(run.slice(0, 13), [
      'run',
      '--detach',
      '--name',
      't',
      '--label',
      'io.mcp-sandbox.bench=1',
      '--network',
      'mcp-bench-net',
      '--network-alias',
      EGRESS_TARGET_NAME,
      '--env',
      `BULK_BYTES=${plan.bulkBytes}`,
      '--volume',
    ]);
    assert.ok(!run.some((a) => a.startsWith('--publish')));
    const exec = egressClientExecArgs('mcp-bench-chain', 'PEM', plan);
    assert.deepEqual(exec.slice(0, 7), ['exec', '--user', 'mcp', '--env', 'BENCH_CA=PEM', 'mcp-bench-chain', 'node']);
    assert.deepEqual(exec.slice(-5), [EGRESS_TARGET_NAME, '20', '3', String(4 * 2 ** 20), '2']);
    assert.ok(egressPlan(false).connections >= 100 && egressPlan(false).bulkBytes >= 32 * 2 ** 20, 'the full run times enough to read a p99');
  });
});

describe('bench layers', () => {
  const base: HistoryEntry[] = [
    { ID: '<missing>', CreatedBy: 'CMD ["node"]', Size: '0' },
    { ID: '<missing>', CreatedBy: 'ADD rootfs', Size: '80000000' },
  ];
  const step = (id: string, createdBy: string, size = '0'): HistoryEntry => ({ ID: id, CreatedBy: createdBy, Size: size });
  // Newest first, as docker history prints them.
  const original = [
    step('sha256:e', '/bin/sh -c #(nop)  ENTRYPOINT ["/opt/sandbox/bin/entrypoint"]'),
    step('sha256:d', '|2 NPM_MCP=a /bin/sh -c /opt/sandbox/bin/install-server "$NPM_MCP"', '25000000'),
    step('sha256:c', '/bin/sh -c /opt/sandbox/bin/with-build-ca npm ci --prefix /opt/sandbox/gateway', '75000000'),
    step('sha256:b', '/bin/sh -c #(nop) COPY dir:123 in /opt/session-gateway/', '1000'),
    step('sha256:a', '/bin/sh -c /opt/sandbox/setup-os nginx openssl', '30000000'),
    ...base,
  ];

  test('our steps are those above the base, oldest first; sizes largest first without the shell prefix', () => {
    const ours = ourSteps(original, base);
    assert.deepEqual(
      ours.map((s) => s.ID),
      ['sha256:a', 'sha256:b', 'sha256:c', 'sha256:d', 'sha256:e'],
    );
    assert.deepEqual(
      layerSizes(ours).map((l) => [l.createdBy.slice(0, 30), l.sizeBytes]),
      [
        ['/opt/sandbox/bin/with-build-ca', 75e6],
        ['/opt/sandbox/setup-os nginx op', 30e6],
        ['|2 NPM_MCP=a /bin/sh -c /opt/s', 25e6],
        ['COPY dir:123 in /opt/session-g', 1000],
      ],
    );
    assert.throws(() => ourSteps(base, original), /fewer history entries/);
  });

  test('a changed NPM_MCP that keeps the OS and session gateway steps is a reuse', () => {
    const changed = [step('sha256:f', 'ENTRYPOINT'), step('sha256:g', '|2 NPM_MCP=b install-server'), ...original.slice(2)];
    assert.deepEqual(compareLayers(ourSteps(original, base), ourSteps(changed, base)), {
      osLayerReused: true,
      gatewayLayerReused: true,
      reusedSteps: 3,
      totalSteps: 5,
    });
  });

  test('a rebuilt OS or session gateway step, or one that cannot be found, is not a reuse', () => {
    const rebuilt = original.map((s) => (s.ID === 'sha256:b' ? { ...s, ID: 'sha256:b2' } : s));
    assert.equal(compareLayers(ourSteps(original, base), ourSteps(rebuilt, base)).gatewayLayerReused, false);
    // A BuildKit history names the copy by its paths, not by a dir: hash.
    const buildKit = [step('sha256:x', 'COPY /opt/session-gateway/ /opt/session-gateway/ # buildkit')];
    assert.equal(compareLayers(buildKit, buildKit).gatewayLayerReused, true);
    assert.equal(compareLayers(buildKit, []).gatewayLayerReused, false);
    assert.equal(compareLayers(ourSteps(original, base), ourSteps(rebuilt, base)).osLayerReused, true);
    const noOs = original.filter((s) => s.ID !== 'sha256:a');
    assert.equal(compareLayers(ourSteps(original, base), noOs).osLayerReused, false);
  });

  test('docker history JSON lines', () => {
    assert.deepEqual(parseHistory('{"ID":"sha256:a","CreatedBy":"x","Size":"5"}\n\n{"ID":"<missing>","CreatedBy":"y","Size":"0"}\n'), [
      { ID: 'sha256:a', CreatedBy: 'x', Size: '5' },
      { ID: '<missing>', CreatedBy: 'y', Size: '0' },
    ]);
  });
});

describe('bench docker argv', () => {
  const names = benchNames('mcp-bench');

  test('names share the prefix', () => {
    assert.deepEqual(names, {
      chain: 'mcp-bench-chain',
      npmMcpChangeTag: 'bench-npm-mcp-change',
      pythonTag: 'bench-python',
      supergatewayImage: 'mcp-bench-supergateway:latest',
      supergatewayContainer: 'mcp-bench-supergateway',
      quietSupergatewayContainer: 'mcp-bench-supergateway-quiet',
      floorContainer: 'mcp-bench-floor',
      guideImage: 'mcp-bench-guide:latest',
      guideContainer: 'mcp-bench-guide',
      egressTarget: 'mcp-bench-egress-target',
      network: 'mcp-bench-net',
    });
  });

  test('Supergateway alone: the reference image, Supergateway as entrypoint, stateful, loopback only', () => {
    assert.deepEqual(supergatewayAloneRunArgs({ name: 'sg', network: 'net', hostPort: 4000 }, 'img:latest', '/workspace'), [
      'run',
      '--detach',
      '--name',
      'sg',
      '--label',
      'io.mcp-sandbox.bench=1',
      '--network',
      'net',
      '--publish',
      '127.0.0.1:4000:8000',
      '--user',
      'mcp',
      '--entrypoint',
      'supergateway',
      'img:latest',
      '--stdio',
      '/usr/local/bin/mcp-server /workspace',
      '--outputTransport',
      'streamableHttp',
      '--port',
      '8000',
      '--stateful',
    ]);
    assert.deepEqual(supergatewayAloneRunArgs({ name: 'sg', network: 'net', hostPort: 4000 }, 'img:latest', '/workspace', true).slice(-3), [
      '--stateful',
      '--logLevel',
      'none',
    ]);
  });

  test("the guide's runtime: its own command, loopback only", () => {
    assert.deepEqual(guideRunArgs({ name: 'g', network: 'net', hostPort: 4001 }, 'g:latest'), [
      'run',
      '--detach',
      '--name',
      'g',
      '--label',
      'io.mcp-sandbox.bench=1',
      '--network',
      'net',
      '--publish',
      '127.0.0.1:4001:8000',
      'g:latest',
    ]);
    assert.deepEqual(guideBuildArgs('/ctx', 'g:latest', 'node:22-bookworm-slim'), [
      'build',
      '--force-rm',
      '--label',
      'io.mcp-sandbox.bench=1',
      '--build-arg',
      'BASE_IMAGE=node:22-bookworm-slim',
      '--tag',
      'g:latest',
      '/ctx',
    ]);
  });

  test('the reference image is built FROM the product image', () => {
    assert.deepEqual(supergatewayBuildArgs('/ctx', 'sg:latest', 'chain:latest'), [
      'build',
      '--force-rm',
      '--label',
      'io.mcp-sandbox.bench=1',
      '--build-arg',
      'PRODUCT_IMAGE=chain:latest',
      '--tag',
      'sg:latest',
      '/ctx',
    ]);
  });

  test("the floor in the container: the product image's gateway bundle as mcp, the chain's limits, loopback only", () => {
    const args = floorContainerRunArgs({ name: 'f', network: 'net', hostPort: 4002 }, 'img:latest', '/workspace');
    assert.deepEqual(args.slice(0, 10), [
      'run',
      '--detach',
      '--name',
      'f',
      '--label',
      'io.mcp-sandbox.bench=1',
      '--network',
      'net',
      '--publish',
      '127.0.0.1:4002:8000',
    ]);
    assert.deepEqual(args.slice(10), [
      '--user',
      'mcp',
      '--cpus',
      '1',
      '--memory',
      '1g',
      '--env',
      'NPM_MCP_ARGS=/workspace',
      '--env',
      'LOG_LEVEL=info',
      '--env',
      'GATEWAY_PORT=8000',
      '--entrypoint',
      'node',
      'img:latest',
      '--import',
      LISTEN_ON_ALL,
      '/opt/session-gateway/gateway.mjs',
    ]);
  });

  test("the floor container's preload rebinds 127.0.0.1 to every interface and changes nothing else", async () => {
    const { default: http } = await import('node:http');
    const prototype = http.Server.prototype as { listen: (...args: unknown[]) => unknown };
    const original = prototype.listen;
    const seen: unknown[][] = [];
    prototype.listen = function (this: unknown, ...args: unknown[]) {
      seen.push(args);
      return this;
    };
    try {
      // It wraps whatever listen is there when it loads: here the recorder.
      await import(LISTEN_ON_ALL);
      const server = http.createServer();
      server.listen(8000, '127.0.0.1', () => undefined);
      server.listen(9000, '::1');
      assert.deepEqual(
        seen.map((a) => a.slice(0, 2)),
        [
          [8000, '0.0.0.0'],
          [9000, '::1'],
        ],
      );
    } finally {
      prototype.listen = original;
    }
  });

  test('inspection commands', () => {
    assert.deepEqual(memUsageArgs('c'), ['stats', '--no-stream', '--format', '{{.MemUsage}}', 'c']);
    assert.deepEqual(historyArgs('i'), ['history', '--no-trunc', '--human=false', '--format', '{{json .}}', 'i']);
  });
});

describe('bench options', () => {
  test('defaults: 8 sessions; quick: 2 and few calls', () => {
    const full = planFor(benchOptionsSchema.parse({}));
    const quick = planFor(benchOptionsSchema.parse({ quick: true }));
    assert.equal(full.sessions, 8);
    assert.equal(quick.sessions, 2);
    assert.ok(quick.sequential.callsPerSession < full.sequential.callsPerSession);
    assert.equal(planFor(benchOptionsSchema.parse({ sessions: '4' })).sessions, 4);
  });

  test('bad options name the option and the fix', () => {
    const issues = (input: object) => (benchOptionsSchema.safeParse(input).error?.issues ?? []).map((i) => i.message);
    assert.deepEqual(issues({ sessions: '1' }), ['--sessions must be at least 2 (one session is the sequential run)']);
    assert.deepEqual(issues({ sessions: 'many' }), ['--sessions must be a number of concurrent sessions']);
    assert.match(issues({ prefix: 'Bad Prefix' })[0]!, /--prefix must be lowercase/);
  });
});

/** A Dockerfile's stages: each FROM line and its instructions, comments and continuation breaks dropped. */
function stages(dockerfile: string): { from: string; instructions: string[] }[] {
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const result: { from: string; instructions: string[] }[] = [];
  for (const line of instructions) {
    if (/^FROM /i.test(line)) result.push({ from: line, instructions: [] });
    else result.at(-1)?.instructions.push(line);
  }
  return result;
}

describe('Supergateway lives in the bench, not in the product image (issue 22)', () => {
  const product = stages(readFileSync(join(projectDir, 'Dockerfile'), 'utf8'));
  const reference = stages(readFileSync(join(projectDir, 'bench', 'supergateway', 'Dockerfile'), 'utf8'));

  test('no stage of the product Dockerfile builds, copies or links Supergateway, and its build context has none', () => {
    assert.ok(product.length >= 3, 'the product Dockerfile has its stages');
    for (const stage of product) {
      for (const line of [stage.from, ...stage.instructions]) assert.doesNotMatch(line, /supergateway/i, `product Dockerfile: ${line}`);
    }
    // docker/ is what `npm run build` stages as the build context (package_scripts/docker/context.ts).
    assert.equal(existsSync(join(projectDir, 'docker', 'common', 'supergateway')), false);
  });

  test("the reference image is the product image plus Supergateway's bundle, linked on PATH", () => {
    assert.deepEqual(
      reference.map((s) => s.from),
      ['FROM ${PRODUCT_IMAGE} AS build', 'FROM ${PRODUCT_IMAGE}'],
    );
    const final = reference.at(-1)!.instructions;
    assert.ok(final.includes('COPY --from=build /opt/supergateway/ /opt/supergateway/'), final.join('\n'));
    assert.ok(final.includes('RUN ln -s /opt/supergateway/dist/lib/supergateway.mjs /usr/local/bin/supergateway'), final.join('\n'));
    // What the bench runs there: Supergateway as the entrypoint of that image.
    assert.ok(supergatewayAloneRunArgs({ name: 'sg', network: 'n', hostPort: 1 }, 'ref:latest', '/workspace').includes('supergateway'));
  });
});

test('every bench scenario runs the product default server version', () => {
  const [name, version] = [DEFAULT_NPM_MCP.slice(0, DEFAULT_NPM_MCP.lastIndexOf('@')), DEFAULT_NPM_MCP.slice(DEFAULT_NPM_MCP.lastIndexOf('@') + 1)];
  const rootManifest = JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8'));
  const guideManifest = JSON.parse(readFileSync(join(projectDir, 'bench', 'guide-runtime', 'package.json'), 'utf8'));
  const guideLock = JSON.parse(readFileSync(join(projectDir, 'bench', 'guide-runtime', 'package-lock.json'), 'utf8'));
  assert.equal(rootManifest.devDependencies[name], version);
  assert.equal(guideManifest.dependencies[name], version);
  assert.equal(guideLock.packages[`node_modules/${name}`].version, version);
  assert.equal(guideLock.packages['node_modules/supergateway'].version, '4.0.0');
});

describe('bench CPU time', () => {
  test('a /proc/PID/stat line: user, system and waited-for children times, counted from the last parenthesis', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    const line = '4242 (node (x) y) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 11 0 123456 1000 100';
    assert.deepEqual(parseProcStat(line), { pid: 4242, ppid: 17, cpuMs: 3100 });
    assert.throws(() => parseProcStat('garbage'), /not a \/proc\/PID\/stat line/);
  });

  test('a process tree sums its root and every descendant, and nothing else', () => {
    const table = [
      { pid: 1, ppid: 0, cpuMs: 1000 },
      { pid: 10, ppid: 1, cpuMs: 5 },
      { pid: 11, ppid: 10, cpuMs: 7 },
      { pid: 12, ppid: 11, cpuMs: 11 },
      { pid: 20, ppid: 1, cpuMs: 100 },
    ];
    assert.equal(treeCpuMs(table, [10]), 23);
    assert.equal(treeCpuMs(table, [11, 20]), 118);
    assert.equal(treeCpuMs(table, [99]), 0);
  });

  test('cgroup v2 cpu.stat and v1 cpuacct.usage in milliseconds', () => {
    assert.equal(parseCgroupCpuMs('usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n'), 1500);
    assert.equal(parseCgroupCpuMs('2500000000\n'), 2500);
    assert.throws(() => parseCgroupCpuMs('nr_periods 0\n'), /neither cgroup v2/);
  });
});
