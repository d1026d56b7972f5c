#!/usr/bin/env node
/**
 * npm run bench [-- --quick --sessions N --prefix NAME --out DIR]
 *
 * The same MCP server reached several ways, side by side on this machine: a
 * staircase from direct stdio through the floor (the session gateway on the
 * host, then in the container) to the full product chain and its OAuth form;
 * then an HTTPS fetch from inside the instance through the egress enforcer
 * against MCP_EGRESS=open, Supergateway alone (the reference) and the guide's npx runtime.
 * Writes DIR/latest.json and DIR/latest.md and prints the Markdown.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { Command } from 'commander';
import { instanceNames } from '../package_scripts/docker/names.js';
import { DEFAULT_NPM_MCP } from '../package_scripts/settings/schema.js';
import { benchNames, createNetworkArgs, removeContainerArgs, removeImageArgs, removeNetworkArgs, serverVersionArgs } from './docker-args.js';
import { buildGuideImage, buildSupergatewayReference, copyGatewayBundle, measureCli, measureImage } from './images.js';
import { egressPlan, egressSanityProblems, egressTargets } from './egress.js';
import { egressScenario } from './egress-scenario.js';
import { TOOL } from './mcp-load.js';
import { benchOptionsSchema, planFor, type Plan } from './options.js';
import { renderMarkdown } from './report.js';
import { cli, docker, dockerQuiet, projectDir } from './run.js';
import { certificatePath, directStdio, floorContainer, floorHost, fullChain, guideRuntime, oauthChain, supergatewayAlone, type LoadPlan } from './scenarios.js';
import { evaluateTargets, ratiosToDirect, sanityProblems } from './stats.js';
import type { BenchReport, MachineInfo, ScenarioResult } from './types.js';

const BASE_IMAGE = 'node:22-bookworm-slim';
const SERVER_ARGS = '/workspace';

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** The fields of a package.json this file reads. */
interface PackageJson {
  version?: string;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const readJson = (path: string) => JSON.parse(readFileSync(join(projectDir, path), 'utf8')) as PackageJson;

/**
 * All four scenarios must run the same server version: the product's default,
 * the devDependency used for direct stdio, and the guide image's lockfile.
 */
function serverPackage(): { name: string; version: string; entry: string } {
  const at = DEFAULT_NPM_MCP.lastIndexOf('@');
  const name = DEFAULT_NPM_MCP.slice(0, at);
  const version = DEFAULT_NPM_MCP.slice(at + 1);
  const pinned = {
    'package.json devDependencies': readJson('package.json').devDependencies?.[name],
    'bench/guide-runtime/package.json': readJson('bench/guide-runtime/package.json').dependencies?.[name],
  };
  for (const [where, value] of Object.entries(pinned)) {
    if (value !== version)
      throw new Error(`${where} pins ${name} at ${value}, the product default is ${version}: pin the same version so every scenario runs the same server`);
  }
  const manifest = readJson(join('node_modules', name, 'package.json'));
  if (manifest.version !== version) throw new Error(`node_modules holds ${name} ${manifest.version}, expected ${version}: run npm ci`);
  const bin = typeof manifest.bin === 'string' ? manifest.bin : Object.values(manifest.bin ?? {})[0];
  if (!bin) throw new Error(`node_modules/${name}/package.json declares no bin: the bench runs the server's own command`);
  return { name, version, entry: join(projectDir, 'node_modules', name, bin) };
}

async function machineInfo(): Promise<MachineInfo> {
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    os: `${platform()} ${release()}`,
    node: process.version,
    dockerServer: (await docker(serverVersionArgs())).stdout,
  };
}

const loadPlan = (plan: Plan, guide: boolean): LoadPlan => ({
  sessions: plan.sessions,
  sequential: guide ? plan.guideSequential : plan.sequential,
  concurrent: guide ? plan.guideConcurrent : plan.concurrent,
  coldStartMaxMs: plan.coldStartMaxMs,
});

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

async function main(argv: string[]): Promise<number> {
  const program = new Command('bench')
    .option('--quick', 'few calls and 2 sessions: checks that the bench works, not how fast', false)
    .option('--sessions <n>', 'concurrent sessions (default 8, quick 2)')
    .option('--prefix <name>', 'prefix of every Docker object the bench creates', 'mcp-bench')
    .option('--out <dir>', 'folder for latest.json and latest.md', 'bench/results')
    .exitOverride();
  program.parse(argv);
  const parsed = benchOptionsSchema.safeParse(program.opts());
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`error: ${issue.message}`);
    return 2;
  }
  const options = parsed.data;
  const plan = planFor(options);
  const names = benchNames(options.prefix);
  const server = serverPackage();
  const began = Date.now();

  const work = mkdtempSync(join(tmpdir(), `${options.prefix}-`));
  const token = randomBytes(32).toString('hex');
  const chainPort = await freePort();
  const baseEnv = [`NAME=${names.chain}`, `HOST_PORT=${chainPort}`, `ACCESS_TOKEN=${token}`, `NPM_MCP=${DEFAULT_NPM_MCP}`, `NPM_MCP_ARGS=${SERVER_ARGS}`];
  if (process.env.EXTRA_CA_CERT) baseEnv.push(`EXTRA_CA_CERT=${resolve(process.env.EXTRA_CA_CERT)}`);
  const envFile = join(work, '.env');
  writeFileSync(envFile, `${baseEnv.join('\n')}\n`, { mode: 0o600 });
  // The same instance with AUTH=oauth (a runtime setting: the same image); tokens outlive the bench.
  const oauthEnvFile = join(work, 'oauth.env');
  writeFileSync(oauthEnvFile, `${[...baseEnv, 'AUTH=oauth', 'OAUTH_ACCESS_TTL=1h'].join('\n')}\n`, { mode: 0o600 });
  const changedNpmMcp = join(projectDir, 'test', 'fixtures', 'probe-server');
  const changedEnvFile = join(work, 'changed.env');
  writeFileSync(changedEnvFile, `${baseEnv.map((l) => (l.startsWith('NPM_MCP=') ? `NPM_MCP=${changedNpmMcp}` : l)).join('\n')}\n`, { mode: 0o600 });
  const pythonEnvFile = join(work, 'python.env');
  const pythonServer = join(projectDir, 'test', 'fixtures', 'python-probe');
  const pythonEnv = baseEnv.filter((l) => !l.startsWith('NPM_MCP')).concat(`MCP_SERVER=${pythonServer}`);
  writeFileSync(pythonEnvFile, `${pythonEnv.join('\n')}\n`, { mode: 0o600 });
  const allowedDir = join(work, 'allowed');
  mkdirSync(allowedDir);

  // The product images stay (the next run's build cache); everything else goes.
  const removeDockerObjects = async () => {
    await cli(['stop', '--env-file', envFile]).catch(() => undefined);
    await dockerQuiet(removeContainerArgs(names.supergatewayContainer));
    await dockerQuiet(removeContainerArgs(names.quietSupergatewayContainer));
    await dockerQuiet(removeContainerArgs(names.floorContainer));
    await dockerQuiet(removeContainerArgs(names.guideContainer));
    await dockerQuiet(removeContainerArgs(names.egressTarget));
    await dockerQuiet(removeNetworkArgs(names.network));
    // Every volume the chain's instance may have (TLS, OAuth state, the warden's audit trail and pins).
    const volumes = instanceNames(names.chain);
    await dockerQuiet(['volume', 'rm', '--force', volumes.tlsVolume, volumes.authVolume, volumes.tunnelVolume, volumes.wardenVolume]);
    await dockerQuiet(removeImageArgs(`${names.chain}:${names.npmMcpChangeTag}`));
    await dockerQuiet(removeImageArgs(`${names.chain}:${names.pythonTag}`));
  };
  const cleanUp = async () => {
    await removeDockerObjects();
    rmSync(work, { recursive: true, force: true });
  };
  const interrupted = () => {
    log('interrupted: removing what the bench started');
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    // Leftovers of an interrupted run with the same prefix.
    await removeDockerObjects();
    await docker(createNetworkArgs(names.network));
    const machine = await machineInfo();

    log(`product image ${names.chain}:latest through the CLI: build, warm rebuild, NPM_MCP change, a Python server`);
    const image = await measureImage({
      envFile,
      changedEnvFile,
      changedNpmMcp: 'test/fixtures/probe-server (a local folder)',
      image: `${names.chain}:latest`,
      changedTag: names.npmMcpChangeTag,
      changedImage: `${names.chain}:${names.npmMcpChangeTag}`,
      pythonEnvFile,
      pythonServer: 'test/fixtures/python-probe (a local folder)',
      pythonTag: names.pythonTag,
      pythonImage: `${names.chain}:${names.pythonTag}`,
      baseImage: BASE_IMAGE,
    });
    log(`reference image ${names.supergatewayImage}: the product image plus Supergateway (bench/supergateway)`);
    await buildSupergatewayReference(names.supergatewayImage, `${names.chain}:latest`);
    const gatewayBundle = join(work, 'gateway.mjs');
    await copyGatewayBundle(`${names.chain}:latest`, names.floorContainer, gatewayBundle);
    log(`guide runtime image ${names.guideImage}`);
    await buildGuideImage(names.guideImage, BASE_IMAGE, process.env.EXTRA_CA_CERT ?? process.env.NODE_EXTRA_CA_CERTS);
    log('CLI overhead');
    const cliResult = await measureCli(plan.cliRepeats);

    const scenarios: ScenarioResult[] = [];
    log('direct stdio');
    const direct = { entry: server.entry, allowedDir };
    scenarios.push(await directStdio(direct, loadPlan(plan, false)));
    log('floor: the session gateway on the host');
    scenarios.push(await floorHost({ gatewayBundle, server: direct, hostPort: await freePort() }, loadPlan(plan, false)));
    log('floor: the session gateway in the container, port published');
    scenarios.push(
      await floorContainer({ names, hostPort: await freePort(), productImage: `${names.chain}:latest`, serverArgs: SERVER_ARGS }, loadPlan(plan, false)),
    );
    log('full chain');
    const { cliStartMs, ...chain } = await fullChain(
      { envFile, name: names.chain, hostPort: chainPort, token, certificateFile: certificatePath(envFile, names.chain) },
      loadPlan(plan, false),
    );
    scenarios.push(chain);
    log(`(npm run start -- -d took ${(cliStartMs / 1000).toFixed(2)} s including its health wait)`);
    log('full chain with an OAuth token (AUTH=oauth)');
    scenarios.push(
      await oauthChain(
        { envFile, oauthEnvFile, name: names.chain, hostPort: chainPort, token, certificateFile: certificatePath(envFile, names.chain) },
        loadPlan(plan, false),
      ),
    );
    log(`egress by name: HTTPS from inside the instance, MCP_EGRESS=open then through the enforcer`);
    const egress = await egressScenario(
      { instance: names.chain, baseEnv, network: names.network, targetContainer: names.egressTarget, targetImage: BASE_IMAGE, work },
      egressPlan(options.quick),
    );
    for (const quiet of [false, true]) {
      log(`Supergateway alone${quiet ? ', --logLevel none' : ''}`);
      scenarios.push(
        await supergatewayAlone(
          { names, hostPort: await freePort(), referenceImage: names.supergatewayImage, serverArgs: SERVER_ARGS, quiet },
          loadPlan(plan, false),
        ),
      );
    }
    log("guide's npx runtime");
    scenarios.push(await guideRuntime({ names, hostPort: await freePort() }, loadPlan(plan, true)));

    const report: BenchReport = {
      version: 1,
      mode: options.quick ? 'quick' : 'full',
      startedAt: new Date(began).toISOString(),
      durationMs: Date.now() - began,
      machine,
      server: `${server.name}@${server.version}`,
      tool: `tools/call ${TOOL}`,
      scenarios,
      ratiosToDirect: ratiosToDirect(scenarios),
      image,
      cli: cliResult,
      egress,
      targets: [...evaluateTargets(scenarios, image, cliResult), ...egressTargets(egress)],
    };
    const markdown = renderMarkdown(report);
    const outDir = isAbsolute(options.out) ? options.out : resolve(process.env.INIT_CWD ?? process.cwd(), options.out);
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(outDir, 'latest.md'), markdown);
    process.stdout.write(markdown);
    log(`wrote ${join(outDir, 'latest.json')} and latest.md`);

    const problems = [...sanityProblems(report), ...egressSanityProblems(report.egress)];
    for (const problem of problems) console.error(`error: ${problem}`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await cleanUp();
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    if ((error as { code?: string }).code?.startsWith('commander.')) {
      process.exitCode = (error as { exitCode?: number }).exitCode === 0 ? 0 : 2;
      return;
    }
    console.error(`bench failed: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
