/**
 * The bench in quick mode, end to end, so that it cannot rot: it must build,
 * start and measure every scenario (the egress enforcer's too) and write a sane report. Timing targets
 * are the bench's business, not this test's: only structure and sanity here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { execa } from 'execa';
import type { BenchReport } from '../../bench/types.js';
import { docker, projectDir } from './harness.js';

const PREFIX = 'mcps-e2e-bench';
const out = mkdtempSync(join(tmpdir(), 'mcps-e2e-bench-'));

after(() => {
  rmSync(out, { recursive: true, force: true });
});

test('npm run bench -- --quick measures every scenario and writes a sane report', { timeout: 900_000 }, async () => {
  const run = await execa(process.execPath, ['--', join(projectDir, 'dist', 'bench', 'main.js'), '--quick', '--prefix', PREFIX, '--out', out], {
    cwd: projectDir,
    reject: false,
    all: true,
    env: { NO_COLOR: '1' },
  });
  assert.equal(run.exitCode, 0, run.all);

  const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchReport;
  assert.equal(report.mode, 'quick');
  assert.deepEqual(
    report.scenarios.map((s) => s.id),
    ['direct', 'floor-host', 'floor-container', 'chain', 'chain-oauth', 'supergateway', 'supergateway-quiet', 'guide'],
  );
  for (const s of report.scenarios) {
    for (const phase of [s.sequential, s.concurrent]) {
      assert.ok(phase.calls > 0 && phase.errors === 0, `${s.id}: ${JSON.stringify(phase)}`);
      // CPU per call: this process (the client), and the serving side (its processes, or the container's cgroup).
      assert.ok(phase.clientCpuMsPerCall! > 0, `${s.id} client CPU: ${JSON.stringify(phase)}`);
      assert.ok(Number.isFinite(phase.serverCpuMsPerCall) && phase.serverCpuMsPerCall! >= 0, `${s.id} serving CPU: ${JSON.stringify(phase)}`);
      assert.ok(phase.p50Ms > 0 && phase.p99Ms >= phase.p50Ms && phase.callsPerSecond > 0, `${s.id}: ${JSON.stringify(phase)}`);
    }
    assert.equal(s.concurrent.sessions, 2);
    assert.ok(s.coldStartMs > 0 && s.coldStartMs < 60_000, `${s.id} cold start ${s.coldStartMs}`);
    assert.ok(s.memory.oneSessionBytes > 1e6 && s.memory.allSessionsBytes > 1e6, `${s.id} memory ${JSON.stringify(s.memory)}`);
  }
  // A stateless gateway that starts the server through npx for every call cannot be as fast as stdio.
  const guide = report.scenarios.find((s) => s.id === 'guide')!;
  const direct = report.scenarios.find((s) => s.id === 'direct')!;
  assert.ok(guide.sequential.p50Ms > direct.sequential.p50Ms);

  assert.equal(report.ratiosToDirect.length, report.scenarios.length);
  for (const ratio of report.ratiosToDirect) {
    for (const value of [ratio.sequentialP50, ratio.sequentialThroughput, ratio.concurrentP50, ratio.concurrentThroughput]) {
      assert.ok(Number.isFinite(value) && value > 0, `${ratio.scenario}: ${JSON.stringify(ratio)}`);
    }
  }
  assert.equal(report.ratiosToDirect.find((r) => r.scenario === 'direct')!.sequentialP50, 1);

  assert.ok(report.image.ourLayersBytes > 0 && report.image.imageBytes > report.image.baseBytes);
  assert.ok(report.image.layers.length >= 3, 'OS, session gateway and server layers at least');
  assert.ok(report.image.warmRebuildMs > 0 && report.image.npmMcpChange.rebuildMs > 0);
  assert.ok(report.image.npmMcpChange.totalSteps > report.image.npmMcpChange.reusedSteps);
  assert.ok(report.cli.cliMs > 0 && report.cli.helpMs > 0 && report.cli.npmRunCliMs > 0 && report.cli.bareNodeMs > 0);

  assert.deepEqual(
    report.targets.map((t) => t.id),
    [
      'chain-vs-floor',
      'chain-p50-over-floor',
      'memory-per-session',
      'chain-p50',
      'chain-vs-quiet-supergateway',
      'throughput-vs-guide',
      'oauth-p50',
      'cold-start',
      'warm-rebuild',
      'npm-mcp-layers',
      'image-size',
      'cli-start',
      'egress-connect-p50',
      'egress-bulk',
    ],
  );
  // Egress by name (issue 23): both runs fetched everything from inside the instance, and the enforcer was found and measured.
  for (const phase of [report.egress.open, report.egress.named]) {
    assert.ok(phase.connections === 20 && phase.connectP50Ms > 0 && phase.connectP99Ms >= phase.connectP50Ms, JSON.stringify(phase));
    assert.ok(phase.bulkRuns === 2 && phase.bulkMBps > 0, JSON.stringify(phase));
  }
  assert.deepEqual([report.egress.open.egress, report.egress.named.egress], ['open', 'egress-target.bench.test']);
  assert.ok(report.egress.enforcerMemory.idleRssBytes > 1e6 && report.egress.enforcerMemory.rssBytes > 1e6, JSON.stringify(report.egress.enforcerMemory));
  for (const target of report.targets) assert.equal(typeof target.pass, 'boolean');

  // The Markdown went to stdout and to latest.md, the same text.
  const markdown = readFileSync(join(out, 'latest.md'), 'utf8');
  assert.ok(run.stdout.includes(markdown.trim()));
  assert.match(markdown, /\| Full chain \(TLS \+ token\) \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
  assert.match(markdown, /## Targets/);
  assert.match(markdown, /\| MCP_EGRESS=egress-target\.bench\.test \| [\d.]+ \| [\d.]+ \| 20 \|/);
  assert.match(markdown, /## Staircase: from the floor to the chain/);
  assert.match(markdown, /\| Floor: session gateway on the host \| [\d.]+ \| \+?-?[\d.]+ \|/);

  // Supergateway is in the bench's reference image and in no file of the product image (issue 22).
  const supergatewayFiles = async (image: string) => {
    const found = await docker(['run', '--rm', '--network', 'none', '--entrypoint', 'find', image, '/', '-xdev', '-iname', '*supergateway*']);
    assert.equal(found.exitCode, 0, found.stderr);
    return found.stdout.trim().split('\n').filter(Boolean).sort();
  };
  assert.deepEqual(await supergatewayFiles(`${PREFIX}-chain:latest`), []);
  const inReference = await supergatewayFiles(`${PREFIX}-supergateway:latest`);
  assert.ok(inReference.includes('/opt/supergateway') && inReference.includes('/usr/local/bin/supergateway'), inReference.join('\n'));

  // Nothing of the run is left behind but the images (the next run's build cache).
  for (const kind of ['container', 'network', 'volume'] as const) {
    const listed = await docker([kind, 'ls', ...(kind === 'container' ? ['--all'] : []), '--quiet', '--filter', `name=${PREFIX}`]);
    assert.equal(listed.stdout.trim(), '', `${kind}s left behind`);
  }
  const changed = await docker(['image', 'inspect', `${PREFIX}-chain:bench-npm-mcp-change`]);
  assert.notEqual(changed.exitCode, 0, 'the NPM_MCP-change image is removed');
  assert.ok(
    report.image.python.overNpmBytes > 10e6,
    `Python's runtime makes the Python probe's image larger than the npm probe's (${report.image.python.overNpmBytes} bytes)`,
  );
  assert.notEqual((await docker(['image', 'inspect', `${PREFIX}-chain:bench-python`])).exitCode, 0, 'the Python image is removed');
});
